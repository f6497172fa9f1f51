// Measuring a TimedWorkload under a MeasurementProtocol, and the interleaved order in which many
// configs are measured.
#ifndef HATFLEET_MEASURE_MEASURER_H_
#define HATFLEET_MEASURE_MEASURER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "measure/clock.h"
#include "measure/latency_stats.h"
#include "measure/protocol.h"
#include "measure/timed_workload.h"

namespace hat {

// A drift reference: a fixed workload (the space's smallest SubTransformer) and its latency when
// the session began. Hosts drift (frequency, neighbours, temperature): the same config measured
// minutes apart differs by several percent. Timing the reference just before and just after a
// config, and scaling the config's samples by baseline / reference-now, removes the slow part of
// that drift; what remains is the noise within a few seconds.
struct DriftReference {
  TimedWorkload* workload = nullptr;
  double baseline_ms = 0;
};

// The baseline of a reference: the median total of `runs` timed runs after `warmups`.
absl::StatusOr<double> CalibrateReference(TimedWorkload& reference, int warmups, int runs);

struct ConfigMeasurement {
  LatencyStats encoder;
  LatencyStats decoder;
  LatencyStats total;  // per run: encoder + decoder of that run
  // The latency reported: HAT preset, encoder + decoder trimmed means (HAT's definition);
  // default, the median of the per-run totals.
  double total_ms = 0;
  int runs = 0;
  // "converged" (RSE target met), "max_runs", "time_budget", or "fixed_runs" (HAT preset).
  std::string stop_reason;
  double wall_seconds = 0;  // warm-ups and timed runs
  double started_at_s = 0;  // the clock's reading when it began (monotonic, arbitrary origin)
  // Drift correction (1, 0, 0 when off): every sample above was multiplied by drift_factor =
  // reference_baseline_ms / reference_ms; divide by it for the raw observations.
  double drift_factor = 1;
  double reference_ms = 0;                         // the reference's median around this config
  double reference_baseline_ms = 0;                // the reference's median when the session began
  TimingMethod timing = TimingMethod::kWallClock;  // the workload's timing_method()
};

// Warm-ups, then timed runs (encoder then decoder in each) until the protocol says stop. With a
// `reference` and protocol.reference_runs > 0, the reference is timed (one untimed run, then
// reference_runs timed) before and after the config's runs and the samples are drift-corrected.
// Errors from the workloads are returned unchanged. REQUIRES: protocol.Validate().ok().
absl::StatusOr<ConfigMeasurement> MeasureWorkload(TimedWorkload& workload,
                                                  const MeasurementProtocol& protocol,
                                                  Clock* clock = Clock::Real(),
                                                  const DriftReference* reference = nullptr);

// The order in which `repeats` measurements of each of `configs` configs are taken: `repeats`
// rounds, each a seeded shuffle of all configs. Slow drift of the device then spreads over all
// configs instead of lining up with the order they were given in, and the repeats of one config
// are spread over the whole session. Pairs are (config index, repeat index).
std::vector<std::pair<int, int>> InterleavedSchedule(int configs, int repeats, uint64_t seed);

}  // namespace hat

#endif  // HATFLEET_MEASURE_MEASURER_H_
