// Typed reads from parsed YAML and JSON documents with errors that say where: the key, its line
// (YAML) or JSON path, and what was found. Internal to common/: the file-format modules
// (design_space_io, config_io) use it; nothing else should need YAML or JSON node types.
#ifndef HATFLEET_COMMON_STRUCTURED_READERS_H_
#define HATFLEET_COMMON_STRUCTURED_READERS_H_

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/design_space.h"

namespace hat {

// Parses YAML text whose top level must be a mapping.
absl::StatusOr<YAML::Node> ParseYamlMapping(const std::string& text);

// "key (line N)" for messages.
std::string YamlWhere(const YAML::Node& map, const std::string& key);

// Prefixes an error whose message starts with a top-level key of `root` with that key's line:
// "line 12: encoder-embed-choice[1]=700: ...". Other statuses pass through unchanged.
absl::Status WithYamlLine(const absl::Status& status, const YAML::Node& root);

absl::StatusOr<int> YamlInt(const YAML::Node& map, const std::string& key);
absl::StatusOr<std::vector<int>> YamlIntList(const YAML::Node& map, const std::string& key);
absl::StatusOr<std::string> YamlString(const YAML::Node& map, const std::string& key);
absl::StatusOr<double> YamlDouble(const YAML::Node& map, const std::string& key);
absl::StatusOr<std::vector<double>> YamlDoubleList(const YAML::Node& map, const std::string& key);
// YAML 1.1 booleans as HAT writes them: True/False, true/false, yes/no.
absl::StatusOr<bool> YamlBool(const YAML::Node& map, const std::string& key);

// Parses JSON text whose top level must be an object.
absl::StatusOr<nlohmann::json> ParseJsonObject(const std::string& text);

// `obj[key]` under JSON path `path` (e.g. "/super"), as an int, an int list, a string, an
// object. Missing keys and wrong types are INVALID_ARGUMENT naming "/path/key".
absl::StatusOr<int> JsonInt(const nlohmann::json& obj, const std::string& path,
                            const std::string& key);
absl::StatusOr<std::vector<int>> JsonIntList(const nlohmann::json& obj, const std::string& path,
                                             const std::string& key);
absl::StatusOr<std::string> JsonString(const nlohmann::json& obj, const std::string& path,
                                       const std::string& key);
absl::StatusOr<const nlohmann::json*> JsonObject(const nlohmann::json& obj, const std::string& path,
                                                 const std::string& key);

// INVALID_ARGUMENT naming the first key of `obj` not in `allowed` (catches typos).
absl::Status JsonOnlyKeys(const nlohmann::json& obj, const std::string& path,
                          const std::vector<std::string>& allowed);

// True when the first non-blank character is '{': the text is JSON rather than YAML.
bool LooksLikeJson(absl::string_view text);

}  // namespace hat

#endif  // HATFLEET_COMMON_STRUCTURED_READERS_H_
