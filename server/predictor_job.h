// Predictor-training jobs, a ServerJob: read the device class's stored measurements, fit the
// predictor outside the coordinator's lock (HAT's MLP takes tens of seconds; the fleet keeps
// running meanwhile) and hand it back, to be stored as the class's next version. A fit that a
// restart interrupted starts again (it saves no state: it is short and deterministic).
#ifndef HATFLEET_SERVER_PREDICTOR_JOB_H_
#define HATFLEET_SERVER_PREDICTOR_JOB_H_

#include <cstdint>
#include <functional>

#include "absl/status/statusor.h"
#include "hat/v1/job.pb.h"
#include "hat/v1/predictor.pb.h"
#include "predictor/latency_records.h"
#include "server/coordinator.h"
#include "server/job_runner.h"

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

class PredictorTrainingJob : public ServerJob {
 public:
  v1::JobSpec::KindCase kind() const override { return v1::JobSpec::kPredictorTraining; }
  absl::StatusOr<ServerJobOutput> Run(JobContext& context) override;
};

}  // namespace hat

#endif  // HATFLEET_SERVER_PREDICTOR_JOB_H_
