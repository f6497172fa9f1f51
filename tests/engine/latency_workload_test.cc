// Latency workloads on this machine's CPU, with the measurement protocol on top.
#include "engine/latency_workload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/sampling.h"
#include "engine/runtime.h"
#include "measure/measurer.h"
#include "measure/session.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::SmallTinySpace;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

TEST(LatencyWorkloadTest, TimesEncoderAndDecoderOnCpu) {
  ASSERT_THAT(ConfigureThreads(1), IsOk());
  ASSERT_OK_AND_ASSIGN(auto factory, LatencyWorkloadFactory::Create(SmallTinySpace(), "cpu", 1));
  ASSERT_OK_AND_ASSIGN(auto workload,
                       factory->Create(SampleConfigs(SmallTinySpace(), 1, 1)[0], {12, 10, 4}));
  ASSERT_OK_AND_ASSIGN(double enc, workload->TimeEncoderMs());
  ASSERT_OK_AND_ASSIGN(double dec, workload->TimeDecoderMs());
  EXPECT_GT(enc, 0);
  EXPECT_GT(dec, 0);
  MeasurementProtocol protocol = MeasurementProtocol::Hat();
  protocol.warmup_runs = 1;
  protocol.min_runs = protocol.max_runs = 3;
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(*workload, protocol));
  EXPECT_EQ(m.runs, 3);
  EXPECT_EQ(m.encoder.samples, 3);
  EXPECT_GT(m.total_ms, 0);
}

TEST(LatencyWorkloadTest, DecoderWithoutEncoderRunsTheEncoderFirst) {
  ASSERT_OK_AND_ASSIGN(auto factory, LatencyWorkloadFactory::Create(SmallTinySpace(), "cpu", 1));
  ASSERT_OK_AND_ASSIGN(auto workload,
                       factory->Create(SampleConfigs(SmallTinySpace(), 1, 2)[0], {5, 5, 2}));
  EXPECT_THAT(workload->TimeDecoderMs(), IsOk());
}

TEST(LatencyWorkloadTest, BadRequestsAreRefusedWithReasons) {
  EXPECT_THAT(LatencyWorkloadFactory::Create(SmallTinySpace(), "tpu", 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("device 'tpu'")));
  if (!CheckDevice("cuda").ok()) {  // Debian's CPU-only LibTorch
    EXPECT_THAT(LatencyWorkloadFactory::Create(SmallTinySpace(), "cuda", 1),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no CUDA")));
  }
  ASSERT_OK_AND_ASSIGN(auto factory, LatencyWorkloadFactory::Create(SmallTinySpace(), "cpu", 1));
  SubTransformerConfig config = SampleConfigs(SmallTinySpace(), 1, 3)[0];
  EXPECT_THAT(factory->Create(config, {65, 30, 5}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max positions")));
  config.encoder.embed_dim = 100;
  EXPECT_THAT(factory->Create(config, {30, 30, 5}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("encoder_embed_dim=100")));
}

TEST(LatencyWorkloadTest, SessionWithDriftReferenceReportsTheCorrection) {
  ASSERT_OK_AND_ASSIGN(auto factory, LatencyWorkloadFactory::Create(SmallTinySpace(), "cpu", 1));
  const std::vector<SubTransformerConfig> configs = SampleConfigs(SmallTinySpace(), 2, 4);
  const WorkloadShape shape{8, 8, 2};
  SessionOptions options;
  options.protocol.warmup_runs = 1;
  options.protocol.min_runs = options.protocol.max_runs = 3;
  options.protocol.cooldown_s = 0;
  options.protocol.reference_runs = 2;
  options.reference_builder = [&] {
    return factory->Create(SmallestConfig(SmallTinySpace()), shape);
  };
  ASSERT_OK_AND_ASSIGN(auto results,
                       RunMeasurementSession(
                           2, [&](int i) { return factory->Create(configs[i], shape); }, options));
  for (const auto& per_config : results) {
    ASSERT_EQ(per_config.size(), 1u);
    EXPECT_GT(per_config[0].reference_baseline_ms, 0);
    EXPECT_GT(per_config[0].reference_ms, 0);
    EXPECT_DOUBLE_EQ(per_config[0].drift_factor,
                     per_config[0].reference_baseline_ms / per_config[0].reference_ms);
  }
}

TEST(RuntimeTest, ThreadsAndHardwareAreReported) {
  ASSERT_THAT(ConfigureThreads(2), IsOk());
  const HardwareInfo hw = DescribeRuntime("cpu");
  EXPECT_EQ(hw.threads, 2);
  EXPECT_EQ(hw.device, "cpu");
  EXPECT_FALSE(hw.libtorch_version.empty());
  EXPECT_GT(hw.cpu_cores, 0);
  EXPECT_GT(hw.memory_bytes, 0);
  EXPECT_NE(hw.blas, "unknown");
  EXPECT_THAT(ConfigureThreads(0),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("threads=0")));
  ASSERT_THAT(ConfigureThreads(1), IsOk());
}

}  // namespace
}  // namespace hat
