// PredictorWorker: runs predictor-training jobs. It claims a queued job from the coordinator,
// reads the device class's stored measurements, fits the predictor outside the coordinator's
// lock (HAT's MLP takes tens of seconds; the fleet keeps running meanwhile) and hands the result
// back, which stores it as the class's next version.
#ifndef HATFLEET_SERVER_PREDICTOR_WORKER_H_
#define HATFLEET_SERVER_PREDICTOR_WORKER_H_

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "hat/v1/job.pb.h"
#include "hat/v1/predictor.pb.h"
#include "predictor/latency_records.h"
#include "server/coordinator.h"

namespace hat {

// Fewer stored measurements than this and a predictor-training job fails with a message saying
// to collect more: 10% of them are held out for the accuracy report.
inline constexpr int kMinPredictorMeasurements = 10;

// Trains what `spec` asks for on the stored measurements of its device class. Every measurement
// must come from the same workload (the space's qkv dim and vocabulary, the protocol's source
// tokens, decoder steps and beam): FAILED_PRECONDITION names the jobs that differ.
// `should_stop`, when given, is asked during long fits; true ends them with CANCELLED.
absl::StatusOr<v1::StoredPredictor> TrainPredictor(
    Coordinator& coordinator, const v1::PredictorTrainingJobSpec& spec,
    const std::function<bool()>& should_stop = nullptr);

class PredictorWorker {
 public:
  explicit PredictorWorker(Coordinator* coordinator) : coordinator_(coordinator) {}

  // Runs one job if one is queued before `deadline_ms`; returns whether one ran. A training
  // failure fails the job, not this call; errors are the coordinator's (storage).
  absl::StatusOr<bool> RunOnce(int64_t deadline_ms);

 private:
  Coordinator* coordinator_;
};

}  // namespace hat

#endif  // HATFLEET_SERVER_PREDICTOR_WORKER_H_
