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
};

// Warm-ups, then timed runs (encoder then decoder in each) until the protocol says stop.
// Errors from the workload are returned unchanged. REQUIRES: protocol.Validate().ok().
absl::StatusOr<ConfigMeasurement> MeasureWorkload(TimedWorkload& workload,
                                                  const MeasurementProtocol& protocol,
                                                  Clock* clock = Clock::Real());

// The order in which `repeats` measurements of each of `configs` configs are taken: `repeats`
// rounds, each a seeded shuffle of all configs. Slow drift of the device then spreads over all
// configs instead of lining up with the order they were given in, and the repeats of one config
// are spread over the whole session. Pairs are (config index, repeat index).
std::vector<std::pair<int, int>> InterleavedSchedule(int configs, int repeats, uint64_t seed);

}  // namespace hat

#endif  // HATFLEET_MEASURE_MEASURER_H_
