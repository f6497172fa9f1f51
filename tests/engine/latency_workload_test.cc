// Latency workloads on this machine's CPU, with the measurement protocol on top.
#include "engine/latency_workload.h"

#include <ATen/record_function.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

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
  EXPECT_EQ(workload->timing_method(), TimingMethod::kWallClock);
  MeasurementProtocol protocol = MeasurementProtocol::Hat();
  protocol.warmup_runs = 1;
  protocol.min_runs = protocol.max_runs = 3;
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(*workload, protocol));
  EXPECT_EQ(m.runs, 3);
  EXPECT_EQ(m.encoder.samples, 3);
  EXPECT_GT(m.total_ms, 0);
}

// The ATen operators this thread runs while `fn` runs, in order. A workload shows nothing but
// its timings, so the tests watch what it does through LibTorch's RecordFunction observers.
std::vector<std::string> OperatorsRunBy(const std::function<void()>& fn) {
  static thread_local std::vector<std::string>* recorded = nullptr;
  std::vector<std::string> ops;
  recorded = &ops;
  const at::CallbackHandle handle = at::addThreadLocalCallback(
      at::RecordFunctionCallback([](const at::RecordFunction& f)
                                     -> std::unique_ptr<at::ObserverContext> {
        if (recorded != nullptr) recorded->push_back(f.name());
        return nullptr;
      }).scopes({at::RecordScope::FUNCTION}));
  fn();
  at::removeCallback(handle);
  recorded = nullptr;
  return ops;
}

TEST(LatencyWorkloadTest, DecoderWithoutEncoderRunsTheEncoderFirst) {
  ASSERT_THAT(ConfigureThreads(1), IsOk());  // every operator on this thread
  ASSERT_OK_AND_ASSIGN(auto factory, LatencyWorkloadFactory::Create(SmallTinySpace(), "cpu", 1));
  const SubTransformerConfig config = SampleConfigs(SmallTinySpace(), 1, 2)[0];
  const WorkloadShape shape{5, 5, 2};
  // What the encoder and the decoder run, timed in the usual order on a fresh workload (after a
  // first one, so that one-time initialisation is not recorded).
  for (int run = 0; run < 2; ++run) {
    ASSERT_OK_AND_ASSIGN(auto warm, factory->Create(config, shape));
    ASSERT_THAT(warm->TimeEncoderMs(), IsOk());
    ASSERT_THAT(warm->TimeDecoderMs(), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto in_order, factory->Create(config, shape));
  const std::vector<std::string> encoder =
      OperatorsRunBy([&] { ASSERT_THAT(in_order->TimeEncoderMs(), IsOk()); });
  const std::vector<std::string> decoder =
      OperatorsRunBy([&] { ASSERT_THAT(in_order->TimeDecoderMs(), IsOk()); });
  ASSERT_FALSE(encoder.empty()) << "no operator recorded: the observers do not work here";
  ASSERT_NE(encoder, decoder);

  // A fresh workload asked for the decoder first runs the encoder, then the decoder.
  ASSERT_OK_AND_ASSIGN(auto workload, factory->Create(config, shape));
  std::vector<std::string> expected = encoder;
  expected.insert(expected.end(), decoder.begin(), decoder.end());
  const std::vector<std::string> first =
      OperatorsRunBy([&] { EXPECT_THAT(workload->TimeDecoderMs(), IsOk()); });
  EXPECT_TRUE(first == expected) << first.size() << " operators ran, expected the encoder's "
                                 << encoder.size() << " then the decoder's " << decoder.size();
  // Its encoder output is kept: the next decoder run encodes nothing.
  const std::vector<std::string> second =
      OperatorsRunBy([&] { EXPECT_THAT(workload->TimeDecoderMs(), IsOk()); });
  EXPECT_TRUE(second == decoder) << second.size() << " operators ran, expected the decoder's "
                                 << decoder.size();
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
