// Job state and kind names.
#include "common/job_names.h"

namespace hat {
namespace {

constexpr v1::JobState kStates[] = {v1::JOB_STATE_QUEUED, v1::JOB_STATE_RUNNING,
                                    v1::JOB_STATE_SUCCEEDED, v1::JOB_STATE_FAILED,
                                    v1::JOB_STATE_CANCELLED};

}  // namespace

const char* JobStateName(v1::JobState state) {
  switch (state) {
    case v1::JOB_STATE_QUEUED:
      return "queued";
    case v1::JOB_STATE_RUNNING:
      return "running";
    case v1::JOB_STATE_SUCCEEDED:
      return "succeeded";
    case v1::JOB_STATE_FAILED:
      return "failed";
    case v1::JOB_STATE_CANCELLED:
      return "cancelled";
    default:
      return "unknown";
  }
}

std::optional<v1::JobState> JobStateFromName(absl::string_view name) {
  for (v1::JobState state : kStates) {
    if (name == JobStateName(state)) return state;
  }
  return std::nullopt;
}

const char* JobKindName(const v1::JobSpec& spec) {
  switch (spec.kind_case()) {
    case v1::JobSpec::kLatencyDataset:
      return "latency_dataset";
    case v1::JobSpec::kPredictorTraining:
      return "predictor_training";
    case v1::JobSpec::kSupernetTraining:
      return "supernet_training";
    case v1::JobSpec::kSearch:
      return "search";
    default:
      return "unknown";
  }
}

}  // namespace hat
