// Reading and writing design spaces.
//
// Two formats are read, told apart by the first character:
//   - HAT's YAML (supertransformer/space*.yml, latency_dataset/*.yml): HAT's key spellings
//     (`encoder-embed-dim`, `encoder-embed-choice`, ...). Keys HAT uses for other things
//     (optimizer, data, ...) are ignored; an unknown `*-choice` key is an error (a typo would
//     otherwise go unnoticed). Optional `vocab-size` (default 32768) and `max-positions` (1024).
//   - hatfleet's JSON, as `hatctl space show --json` prints it:
//       {"format": "hatfleet.design_space.v1", "name": ..., "super": {...}, "choices": {...}}
//     Every key is required and unknown keys are errors.
// Either way the space is validated; errors name the file, the key (and its line) and the value.
#ifndef HATFLEET_COMMON_DESIGN_SPACE_IO_H_
#define HATFLEET_COMMON_DESIGN_SPACE_IO_H_

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/design_space.h"

namespace hat {

inline constexpr char kDesignSpaceFormat[] = "hatfleet.design_space.v1";

// Parses either format. `default_name` names a HAT YAML space that has no `name` key.
absl::StatusOr<DesignSpace> ParseDesignSpace(const std::string& text,
                                             absl::string_view default_name);

// Reads and parses a file; a HAT YAML space is named after the file (`space0`).
absl::StatusOr<DesignSpace> LoadDesignSpaceFile(const std::string& path);

// A built-in name (common/builtin_spaces.h) or else a file path.
absl::StatusOr<DesignSpace> ResolveDesignSpace(const std::string& name_or_path);

nlohmann::json DesignSpaceToJsonValue(const DesignSpace& space);
std::string DesignSpaceToJson(const DesignSpace& space);  // pretty-printed, ends in '\n'

}  // namespace hat

#endif  // HATFLEET_COMMON_DESIGN_SPACE_IO_H_
