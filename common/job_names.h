// The names people and scripts use for job states and kinds ("running", "search"): hatctl's
// output, the dashboard's query parameters and the metrics' labels say them the same way.
#ifndef HATFLEET_COMMON_JOB_NAMES_H_
#define HATFLEET_COMMON_JOB_NAMES_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "hat/v1/job.pb.h"

namespace hat {

// "queued", "running", "succeeded", "failed", "cancelled"; "unknown" for anything else.
const char* JobStateName(v1::JobState state);
// The state named so; nullopt for any other text.
std::optional<v1::JobState> JobStateFromName(absl::string_view name);
// "latency_dataset", "predictor_training", "supernet_training", "search"; "unknown" when unset.
const char* JobKindName(const v1::JobSpec& spec);

}  // namespace hat

#endif  // HATFLEET_COMMON_JOB_NAMES_H_
