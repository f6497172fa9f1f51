// Predictor-training jobs; see predictor_job.h.
#include "server/predictor_job.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/proto_conversions.h"
#include "common/status_macros.h"
#include "measure/measure_proto.h"
#include "predictor/latency_predictor.h"
#include "predictor/repeated_measurements.h"
#include "server/dataset_export.h"

namespace hat {
namespace {

bool SameWorkload(const CostWorkload& a, const CostWorkload& b) {
  return a.qkv_dim == b.qkv_dim && a.vocab_size == b.vocab_size &&
         a.shape.source_tokens == b.shape.source_tokens &&
         a.shape.decoder_steps == b.shape.decoder_steps && a.shape.beam == b.shape.beam;
}

std::string Describe(const CostWorkload& w) {
  return absl::StrCat("qkv ", w.qkv_dim, ", vocabulary ", w.vocab_size, ", ", w.shape.source_tokens,
                      " source tokens, ", w.shape.decoder_steps, " steps, beam ", w.shape.beam);
}

}  // namespace

absl::StatusOr<v1::StoredPredictor> TrainPredictor(Coordinator& coordinator,
                                                   const v1::PredictorTrainingJobSpec& spec,
                                                   const std::function<bool()>& should_stop) {
  HAT_ASSIGN_OR_RETURN(std::vector<v1::MeasurementResult> stored_rows,
                       coordinator.Measurements(spec.device_class()));
  // Measurements of a throttled device describe its heat, not the model: left out unless asked.
  std::vector<v1::MeasurementResult> rows;
  int throttled = 0;
  for (v1::MeasurementResult& r : stored_rows) {
    if (r.condition().throttled() && !spec.include_throttled()) {
      ++throttled;
    } else {
      rows.push_back(std::move(r));
    }
  }
  if (static_cast<int>(rows.size()) < kMinPredictorMeasurements) {
    return absl::FailedPreconditionError(absl::StrCat(
        "device class '", spec.device_class(), "' has ", rows.size(), " stored measurements",
        throttled > 0
            ? absl::StrCat(" besides ", throttled, " throttled ones (include_throttled takes them)")
            : "",
        "; a predictor needs at least ", kMinPredictorMeasurements,
        " (run a latency-dataset job on it first)"));
  }
  // The workload each measurement describes, from its job's design space and its protocol.
  std::map<std::string, DesignSpace> spaces;
  LatencyDataset dataset;
  CostWorkload workload;
  std::string space_name, first_job;
  for (const v1::MeasurementResult& r : rows) {
    auto space = spaces.find(r.job_id());
    if (space == spaces.end()) {
      HAT_ASSIGN_OR_RETURN(v1::Job job, coordinator.GetJob(r.job_id()));
      HAT_ASSIGN_OR_RETURN(DesignSpace s, FromProto(job.spec().latency_dataset().design_space()));
      space = spaces.emplace(r.job_id(), std::move(s)).first;
    }
    const CostShape shape{r.protocol().source_tokens(), r.protocol().decoder_steps(),
                          r.protocol().beam()};
    const CostWorkload w = CostWorkload::ForSpace(space->second, shape);
    if (dataset.rows.empty()) {
      workload = w;
      space_name = space->second.name;
      first_job = r.job_id();
    } else if (!SameWorkload(w, workload)) {
      return absl::FailedPreconditionError(
          absl::StrCat("device class '", spec.device_class(), "': measurements of ", first_job,
                       " (", Describe(workload), ") and ", r.job_id(), " (", Describe(w),
                       ") describe different workloads; one predictor predicts one workload"));
    }
    HAT_ASSIGN_OR_RETURN(LatencyRecord record, RecordFromMeasurement(r));
    dataset.rows.push_back(record);
  }
  // One row per config (a config measured twice must not sit in both train and test), after
  // removing the host drift its repeats show.
  CombineRepeatedMeasurements(&dataset);
  dataset.throttled_left_out = throttled;
  LatencyPredictorOptions options;
  HAT_ASSIGN_OR_RETURN(options.model, ParsePredictorModel(spec.model()));
  options.seed = spec.seed();
  options.max_train_rows = spec.max_train_rows();
  options.workload = workload;
  options.space = space_name;
  options.source = absl::StrCat("device class ", spec.device_class());
  options.mlp.should_stop = should_stop;
  HAT_ASSIGN_OR_RETURN(LatencyPredictor predictor, LatencyPredictor::Fit(dataset, options));
  v1::StoredPredictor stored;
  stored.set_measurements(static_cast<int64_t>(rows.size()));
  *stored.mutable_predictor() = predictor.proto();
  return stored;
}

absl::StatusOr<ServerJobOutput> PredictorTrainingJob::Run(JobContext& context) {
  HAT_RETURN_IF_ERROR(context.ReportProgress(0, 1, "fitting"));
  ServerJobOutput output;
  HAT_ASSIGN_OR_RETURN(output.predictor, TrainPredictor(context.coordinator(),
                                                        context.job().spec().predictor_training(),
                                                        [&context] { return !context.Wanted(); }));
  return output;
}

}  // namespace hat
