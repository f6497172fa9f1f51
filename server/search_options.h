// The evolution settings of a search job's spec (stored with HAT's defaults filled in at
// submission), shared by the coordinator's check and the job itself.
#ifndef HATFLEET_SERVER_SEARCH_OPTIONS_H_
#define HATFLEET_SERVER_SEARCH_OPTIONS_H_

#include "absl/status/statusor.h"
#include "hat/v1/job.pb.h"
#include "search/evolution.h"

namespace hat {

// INVALID_ARGUMENT naming the field ("search.population=...").
absl::StatusOr<EvolutionOptions> SearchOptions(const v1::SearchJobSpec& spec);

}  // namespace hat

#endif  // HATFLEET_SERVER_SEARCH_OPTIONS_H_
