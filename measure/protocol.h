// MeasurementProtocol: how a SubTransformer's latency is measured. Recorded with every result.
//
// Two presets:
//   Hat():     HAT's protocol: 30-token source, 30 decoder steps with beam 5, 5 warm-ups, 20
//              timed runs, HAT's trimmed mean (lowest 10% and highest max(1, 10%) dropped).
//   Default(): hatfleet's: same workload and warm-ups, then adaptive repetition until the
//              relative standard error of the median latency is below `target_rse` (at least
//              `min_runs` and at least `min_time_s` of timed runs, at most `max_runs`, within
//              `time_budget_s`); the median is reported.
// Either may add drift correction against a reference workload (`reference_runs`; see
// MeasureWorkload in measurer.h). It is off by default: on this project's development host it
// made repeat-to-repeat spread worse (docs/BENCHMARKS.md), the variation there not being
// common to all workloads.
#ifndef HATFLEET_MEASURE_PROTOCOL_H_
#define HATFLEET_MEASURE_PROTOCOL_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hat {

struct MeasurementProtocol {
  enum class Preset { kHat, kAdaptive };
  Preset preset = Preset::kAdaptive;
  int source_tokens = 30;
  int decoder_steps = 30;
  int beam = 5;
  int warmup_runs = 5;
  int min_runs = 10;
  int max_runs = 200;
  double target_rse = 0.005;
  double time_budget_s = 20;
  // Adaptive preset: keep timing until the timed runs span at least this many seconds, even
  // when the RSE target is met sooner. A measurement that lasts only a second or two sees one
  // moment of a drifting host; a longer one averages over its short-term swings.
  double min_time_s = 0;
  double cooldown_s = 0.2;
  int threads = 1;  // intra-op threads, fixed for the measurement
  // Timed runs of the drift reference before and after each config (0: no drift correction).
  int reference_runs = 0;
  bool pin_cpus = false;

  static MeasurementProtocol Hat();
  static MeasurementProtocol Default();

  // "hat" or "default".
  static absl::StatusOr<MeasurementProtocol> FromName(absl::string_view name);
  std::string Name() const;

  // INVALID_ARGUMENT naming the field when a value is out of its range.
  absl::Status Validate() const;
};

}  // namespace hat

#endif  // HATFLEET_MEASURE_PROTOCOL_H_
