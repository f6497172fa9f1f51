// Configs from --config or --space/--sample; see config_source.h.
#include "cli/config_source.h"

#include "absl/strings/str_cat.h"
#include "common/config_io.h"
#include "common/design_space_io.h"
#include "common/sampling.h"
#include "common/status_macros.h"

namespace hat::cli {

absl::StatusOr<std::pair<DesignSpace, std::vector<SubTransformerConfig>>> LoadConfigsFromFlags(
    const std::string& config_file, const std::string& space, int sample, uint64_t seed,
    int max_sample) {
  if (config_file.empty() == (sample == 0)) {
    return absl::InvalidArgumentError(
        "give either --config FILE or --space NAME --sample N (not both)");
  }
  if (!config_file.empty()) {
    HAT_ASSIGN_OR_RETURN(auto space_and_config, LoadConfigAndSpace(config_file, space));
    return std::make_pair(std::move(space_and_config.first),
                          std::vector<SubTransformerConfig>{std::move(space_and_config.second)});
  }
  if (space.empty()) return absl::InvalidArgumentError("--sample needs --space NAME|FILE");
  if (sample < 1 || sample > max_sample) {
    return absl::InvalidArgumentError(
        absl::StrCat("--sample=", sample, ": must be in [1, ", max_sample, "]"));
  }
  HAT_ASSIGN_OR_RETURN(DesignSpace resolved, ResolveDesignSpace(space));
  std::vector<SubTransformerConfig> configs = SampleConfigs(resolved, sample, seed);
  return std::make_pair(std::move(resolved), std::move(configs));
}

}  // namespace hat::cli
