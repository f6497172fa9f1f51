// Reading and writing SubTransformer configs.
//
// Two formats are read, told apart by the first character:
//   - HAT's SubTransformer YAML (`encoder-embed-dim-subtransformer`,
//     `decoder-ffn-embed-dim-all-subtransformer`, ...), the files HAT's search writes. Other keys
//     (training settings) are ignored; an unknown `*-subtransformer` key is an error.
//   - JSON in the shape of HAT's Python config dict:
//       {"encoder": {"encoder_embed_dim": 512, "encoder_layer_num": 6,
//                    "encoder_ffn_embed_dim": [...], "encoder_self_attention_heads": [...]},
//        "decoder": {"decoder_embed_dim": ..., ..., "decoder_arbitrary_ende_attn": [...]}}
//     Unknown keys are errors.
// Parsing checks the shape (types, layer counts, list lengths); membership in a design space is
// checked by ValidateConfig() with the returned key style, so messages use the file's spelling.
#ifndef HATFLEET_COMMON_CONFIG_IO_H_
#define HATFLEET_COMMON_CONFIG_IO_H_

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "common/subtransformer_config.h"

namespace hat {

struct ParsedConfig {
  SubTransformerConfig config;
  KeyStyle style;  // the key spelling of the source, for later error messages
};

absl::StatusOr<ParsedConfig> ParseSubTransformerConfig(const std::string& text);
// Errors are prefixed with the path.
absl::StatusOr<ParsedConfig> LoadSubTransformerConfigFile(const std::string& path);

// Reads and validates against `space` in one step; errors name the path, the key and the value.
absl::StatusOr<SubTransformerConfig> LoadConfigInSpace(const std::string& path,
                                                       const DesignSpace& space);

// A config file with its design space: `space` names one (built-in or file) and the config is
// validated against it; empty `space` takes the first built-in space the config belongs to
// (INVALID_ARGUMENT when it fits none). Errors name the path.
absl::StatusOr<std::pair<DesignSpace, SubTransformerConfig>> LoadConfigAndSpace(
    const std::string& path, const std::string& space);

nlohmann::json ConfigToJsonValue(const SubTransformerConfig& config);
std::string ConfigToJson(const SubTransformerConfig& config);     // pretty, ends in '\n'
std::string ConfigToHatYaml(const SubTransformerConfig& config);  // HAT's keys, ends in '\n'

}  // namespace hat

#endif  // HATFLEET_COMMON_CONFIG_IO_H_
