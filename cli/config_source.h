// The SubTransformers a local command works on: one file (`--config FILE [--space NAME]`) or a
// seeded sample of a space (`--space NAME --sample N [--seed S]`). Shared by `hatctl measure`
// and `hatctl predictor predict`.
#ifndef HATFLEET_CLI_CONFIG_SOURCE_H_
#define HATFLEET_CLI_CONFIG_SOURCE_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"

namespace hat::cli {

// INVALID_ARGUMENT names the flag: both or neither of --config and --sample, --sample without
// --space, --sample outside [1, max_sample]; file and space errors name the path and key.
absl::StatusOr<std::pair<DesignSpace, std::vector<SubTransformerConfig>>> LoadConfigsFromFlags(
    const std::string& config_file, const std::string& space, int sample, uint64_t seed,
    int max_sample);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_CONFIG_SOURCE_H_
