// The measurement loop with a scripted workload and a fake clock: warm-ups, stopping rules,
// statistics, errors, and the interleaved schedule.
#include "measure/measurer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "measure/measure_json.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

class FakeClock : public Clock {
 public:
  double NowSeconds() override { return now_; }
  void SleepSeconds(double s) override { now_ += s; }
  void Advance(double s) { now_ += s; }

 private:
  double now_ = 1000;
};

// Returns encoder/decoder times from a generator and advances the fake clock by them.
class ScriptedWorkload : public TimedWorkload {
 public:
  ScriptedWorkload(FakeClock* clock, std::function<double(int)> encoder,
                   std::function<double(int)> decoder)
      : clock_(clock), encoder_(std::move(encoder)), decoder_(std::move(decoder)) {}
  absl::StatusOr<double> TimeEncoderMs() override {
    if (fail_at_ >= 0 && calls_ == fail_at_) return absl::InternalError("device lost");
    const double ms = encoder_(calls_++);
    clock_->Advance(ms / 1000);
    return ms;
  }
  absl::StatusOr<double> TimeDecoderMs() override {
    const double ms = decoder_(decoder_calls_++);
    clock_->Advance(ms / 1000);
    return ms;
  }
  int calls() const { return calls_; }
  TimingMethod timing_method() const override { return timing_; }
  int fail_at_ = -1;
  TimingMethod timing_ = TimingMethod::kWallClock;

 private:
  FakeClock* clock_;
  std::function<double(int)> encoder_, decoder_;
  int calls_ = 0, decoder_calls_ = 0;
};

TEST(MeasurerTest, HatPresetRunsWarmupsThenExactlyItsRuns) {
  FakeClock clock;
  // Warm-ups are slow (calls 0-4), timed runs 10 + i ms for the encoder, 100 + i for the decoder.
  ScriptedWorkload w(
      &clock, [](int i) { return i < 5 ? 500.0 : 10.0 + (i - 5); },
      [](int i) { return i < 5 ? 900.0 : 100.0 + (i - 5); });
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(w, MeasurementProtocol::Hat(), &clock));
  EXPECT_EQ(w.calls(), 25);
  EXPECT_EQ(m.runs, 20);
  EXPECT_EQ(m.stop_reason, "fixed_runs");
  // Timed encoder samples 10..29, trimmed to 12..27 (mean 19.5); decoder 102..117 (109.5).
  EXPECT_DOUBLE_EQ(m.encoder.trimmed_mean_ms, 19.5);
  EXPECT_DOUBLE_EQ(m.total_ms, 19.5 + 109.5);
  EXPECT_EQ(m.encoder.samples, 20);
}

TEST(MeasurerTest, TheMeasurementSaysHowItsWorkloadWasTimed) {
  FakeClock clock;
  ScriptedWorkload w(
      &clock, [](int) { return 1.0; }, [](int) { return 2.0; });
  w.timing_ = TimingMethod::kCudaEvents;
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(w, MeasurementProtocol::Hat(), &clock));
  EXPECT_EQ(m.timing, TimingMethod::kCudaEvents);
  EXPECT_EQ(MeasurementToJson(m, MeasurementProtocol::Hat()).at("timing"), "cuda_events");
  w.timing_ = TimingMethod::kSynchronizedWallClock;
  ASSERT_OK_AND_ASSIGN(m, MeasureWorkload(w, MeasurementProtocol::Hat(), &clock));
  EXPECT_EQ(m.timing, TimingMethod::kSynchronizedWallClock);
}

TEST(MeasurerTest, AdaptiveStopsAsSoonAsTheMedianIsPrecise) {
  FakeClock clock;
  ScriptedWorkload w(
      &clock, [](int) { return 5.0; }, [](int) { return 50.0; });
  MeasurementProtocol p = MeasurementProtocol::Default();
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(w, p, &clock));
  EXPECT_EQ(m.stop_reason, "converged");
  EXPECT_EQ(m.runs, p.min_runs);
  EXPECT_DOUBLE_EQ(m.total_ms, 55.0);
  EXPECT_DOUBLE_EQ(m.total.median_ms, 55.0);
}

TEST(MeasurerTest, AdaptiveKeepsTimingUntilTheMinimumTimeEvenWhenPrecise) {
  FakeClock clock;
  ScriptedWorkload w(
      &clock, [](int) { return 5.0; }, [](int) { return 45.0; });
  MeasurementProtocol p = MeasurementProtocol::Default();
  p.warmup_runs = 0;
  p.min_time_s = 0.975;  // 50 ms a run: precise after min_runs (10), but this needs 20 runs
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(w, p, &clock));
  EXPECT_EQ(m.stop_reason, "converged");
  EXPECT_EQ(m.runs, 20);
  EXPECT_DOUBLE_EQ(m.started_at_s, 1000);
}

TEST(MeasurerTest, TheTimeBudgetStillWinsOverTheMinimumTime) {
  FakeClock clock;
  ScriptedWorkload w(
      &clock, [](int) { return 5.0; }, [](int) { return 45.0; });
  MeasurementProtocol p = MeasurementProtocol::Default();
  p.warmup_runs = 0;
  p.min_time_s = 1.0;
  p.max_runs = 15;
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(w, p, &clock));
  EXPECT_EQ(m.stop_reason, "max_runs");
  EXPECT_EQ(m.runs, 15);
}

TEST(MeasurerTest, AdaptiveGivesUpAtMaxRunsOnNoise) {
  FakeClock clock;
  // Alternating 10 and 20 ms: the IQR stays wide, the median's RSE shrinks only as 1/sqrt(n).
  ScriptedWorkload w(
      &clock, [](int i) { return i % 2 ? 10.0 : 20.0; }, [](int) { return 1.0; });
  MeasurementProtocol p = MeasurementProtocol::Default();
  p.max_runs = 40;
  p.time_budget_s = 0;
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(w, p, &clock));
  EXPECT_EQ(m.stop_reason, "max_runs");
  EXPECT_EQ(m.runs, 40);
}

TEST(MeasurerTest, AdaptiveRespectsTheTimeBudget) {
  FakeClock clock;
  ScriptedWorkload w(
      &clock, [](int i) { return i % 2 ? 100.0 : 300.0; }, [](int) { return 0.0; });
  MeasurementProtocol p = MeasurementProtocol::Default();
  p.warmup_runs = 0;
  p.min_runs = 3;
  p.time_budget_s = 1.95;  // 200 ms a run on average: 10 runs reach it
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(w, p, &clock));
  EXPECT_EQ(m.stop_reason, "time_budget");
  EXPECT_EQ(m.runs, 10);
}

TEST(MeasurerTest, WorkloadErrorsAreReturned) {
  FakeClock clock;
  ScriptedWorkload w(
      &clock, [](int) { return 1.0; }, [](int) { return 1.0; });
  w.fail_at_ = 7;
  EXPECT_THAT(MeasureWorkload(w, MeasurementProtocol::Hat(), &clock),
              StatusIs(absl::StatusCode::kInternal, HasSubstr("device lost")));
}

TEST(MeasurerTest, DriftCorrectionRescalesByTheReference) {
  FakeClock clock;
  // The reference took 10 ms when the session began; now the host runs 1.5x slower, so the
  // reference takes 15 ms and a config whose undisturbed latency is 20 ms takes 30.
  ScriptedWorkload reference(
      &clock, [](int) { return 5.0; }, [](int) { return 10.0; });
  ScriptedWorkload slow(
      &clock, [](int) { return 6.0; }, [](int) { return 24.0; });
  const DriftReference drift{&reference, 10.0};
  MeasurementProtocol p = MeasurementProtocol::Default();
  p.reference_runs = 3;
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m, MeasureWorkload(slow, p, &clock, &drift));
  EXPECT_DOUBLE_EQ(m.reference_ms, 15.0);
  EXPECT_DOUBLE_EQ(m.drift_factor, 10.0 / 15.0);
  EXPECT_DOUBLE_EQ(m.total_ms, 20.0);
  EXPECT_DOUBLE_EQ(m.encoder.median_ms, 4.0);
  EXPECT_DOUBLE_EQ(m.decoder.raw_ms[0], 16.0);
  // Before and after: one untimed and reference_runs timed runs each.
  EXPECT_EQ(reference.calls(), 2 * (1 + p.reference_runs));
}

TEST(MeasurerTest, NoReferenceRunsMeansRawLatencyEvenWithAReference) {
  FakeClock clock;
  ScriptedWorkload reference(
      &clock, [](int) { return 5.0; }, [](int) { return 10.0; });
  ScriptedWorkload w(
      &clock, [](int) { return 6.0; }, [](int) { return 24.0; });
  const DriftReference drift{&reference, 10.0};
  ASSERT_OK_AND_ASSIGN(ConfigMeasurement m,
                       MeasureWorkload(w, MeasurementProtocol::Hat(), &clock, &drift));
  EXPECT_DOUBLE_EQ(m.total_ms, 30.0);
  EXPECT_DOUBLE_EQ(m.drift_factor, 1.0);
  EXPECT_EQ(reference.calls(), 0);
}

TEST(MeasurerTest, CalibrationIsTheReferenceMedian) {
  FakeClock clock;
  ScriptedWorkload reference(
      &clock, [](int i) { return i < 2 ? 100.0 : 5.0 + (i % 3); }, [](int) { return 10.0; });
  ASSERT_OK_AND_ASSIGN(double baseline, CalibrateReference(reference, 1, 5));
  // Warm-up call 0, untimed call 1, then calls 2..6: 5+2, 5+0, 5+1, 5+2, 5+0 -> median 6 (+10).
  EXPECT_DOUBLE_EQ(baseline, 16.0);
}

TEST(InterleavedScheduleTest, EveryPairOnceEachRoundAPermutation) {
  const auto order = InterleavedSchedule(20, 3, 5);
  ASSERT_EQ(order.size(), 60u);
  std::set<std::pair<int, int>> seen(order.begin(), order.end());
  EXPECT_EQ(seen.size(), 60u);
  for (int r = 0; r < 3; ++r) {
    std::set<int> configs;
    for (int i = 0; i < 20; ++i) {
      EXPECT_EQ(order[r * 20 + i].second, r);
      configs.insert(order[r * 20 + i].first);
    }
    EXPECT_EQ(configs.size(), 20u);
  }
}

TEST(InterleavedScheduleTest, SeededAndShuffled) {
  EXPECT_EQ(InterleavedSchedule(10, 2, 1), InterleavedSchedule(10, 2, 1));
  EXPECT_NE(InterleavedSchedule(10, 2, 1), InterleavedSchedule(10, 2, 2));
  const auto order = InterleavedSchedule(10, 2, 1);
  std::vector<int> first, second;
  for (int i = 0; i < 10; ++i) first.push_back(order[i].first);
  for (int i = 10; i < 20; ++i) second.push_back(order[i].first);
  EXPECT_NE(first, second) << "rounds should be shuffled independently";
}

}  // namespace
}  // namespace hat
