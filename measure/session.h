// A measurement session: many configs, each measured `repeats` times in an interleaved order
// (measurer.h InterleavedSchedule), with a cool-down between measurements and progress reported
// after each. Workloads are built on demand by the caller and a few are kept alive, so repeats
// do not pay for model extraction again while memory stays bounded.
#ifndef HATFLEET_MEASURE_SESSION_H_
#define HATFLEET_MEASURE_SESSION_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "measure/clock.h"
#include "measure/measurer.h"
#include "measure/protocol.h"
#include "measure/timed_workload.h"

namespace hat {

struct SessionOptions {
  MeasurementProtocol protocol;
  int repeats = 1;
  uint64_t seed = 1;           // of the interleaved order
  int max_live_workloads = 4;  // least recently used ones are dropped beyond this
  // Builds the drift reference (measurer.h); null: no drift correction. It is calibrated once,
  // when the session begins, with the protocol's warm-ups and 10 runs.
  std::function<absl::StatusOr<std::unique_ptr<TimedWorkload>>()> reference_builder;
};

struct SessionProgress {
  int done = 0;
  int total = 0;
  double elapsed_s = 0;
  double rate_per_s = 0;  // measurements per second so far
  double eta_s = 0;
};

using WorkloadBuilder =
    std::function<absl::StatusOr<std::unique_ptr<TimedWorkload>>(int config_index)>;
using ProgressCallback = std::function<void(const SessionProgress& progress, int config_index,
                                            const ConfigMeasurement& measurement)>;

// result[config][repeat]. Stops at the first error, naming the config index.
absl::StatusOr<std::vector<std::vector<ConfigMeasurement>>> RunMeasurementSession(
    int num_configs, const WorkloadBuilder& build, const SessionOptions& options,
    const ProgressCallback& on_progress = nullptr, Clock* clock = Clock::Real());

}  // namespace hat

#endif  // HATFLEET_MEASURE_SESSION_H_
