// SubTransformer config formats; see config_io.h.
#include "common/config_io.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/builtin_spaces.h"
#include "common/design_space_io.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/structured_readers.h"

namespace hat {
namespace {

absl::StatusOr<ParsedConfig> ParseHatYaml(const std::string& text) {
  HAT_ASSIGN_OR_RETURN(YAML::Node root, ParseYamlMapping(text));
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (!absl::EndsWith(key, "-subtransformer")) continue;
    bool known = false;
    for (const GeneInfo& info : AllGenes()) known = known || key == info.config_key;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat(YamlWhere(root, key), ": unknown SubTransformer key"));
    }
  }
  ParsedConfig parsed{{}, KeyStyle::kHatYaml};
  for (const GeneInfo& info : AllGenes()) {
    if (info.per_layer) {
      HAT_ASSIGN_OR_RETURN(*parsed.config.MutableList(info.gene),
                           YamlIntList(root, info.config_key));
    } else {
      HAT_ASSIGN_OR_RETURN(*parsed.config.MutableScalar(info.gene), YamlInt(root, info.config_key));
    }
  }
  HAT_RETURN_IF_ERROR(WithYamlLine(ValidateConfigShape(parsed.config, KeyStyle::kHatYaml), root));
  return parsed;
}

absl::StatusOr<ParsedConfig> ParseHatDictJson(const std::string& text) {
  HAT_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJsonObject(text));
  HAT_RETURN_IF_ERROR(JsonOnlyKeys(doc, "", {"encoder", "decoder"}));
  ParsedConfig parsed{{}, KeyStyle::kHatfleet};
  for (const char* stack : {"encoder", "decoder"}) {
    HAT_ASSIGN_OR_RETURN(const nlohmann::json* obj, JsonObject(doc, "", stack));
    const std::string path = absl::StrCat("/", stack);
    std::vector<std::string> keys;
    for (const GeneInfo& info : AllGenes()) {
      if (info.decoder != (std::string(stack) == "decoder")) continue;
      keys.push_back(info.name);
      if (info.per_layer) {
        HAT_ASSIGN_OR_RETURN(*parsed.config.MutableList(info.gene),
                             JsonIntList(*obj, path, info.name));
      } else {
        HAT_ASSIGN_OR_RETURN(*parsed.config.MutableScalar(info.gene),
                             JsonInt(*obj, path, info.name));
      }
    }
    HAT_RETURN_IF_ERROR(JsonOnlyKeys(*obj, path, keys));
  }
  HAT_RETURN_IF_ERROR(ValidateConfigShape(parsed.config, KeyStyle::kHatfleet));
  return parsed;
}

}  // namespace

absl::StatusOr<ParsedConfig> ParseSubTransformerConfig(const std::string& text) {
  return LooksLikeJson(text) ? ParseHatDictJson(text) : ParseHatYaml(text);
}

absl::StatusOr<ParsedConfig> LoadSubTransformerConfigFile(const std::string& path) {
  HAT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  absl::StatusOr<ParsedConfig> parsed = ParseSubTransformerConfig(text);
  if (!parsed.ok()) return Annotate(parsed.status(), path);
  return parsed;
}

absl::StatusOr<SubTransformerConfig> LoadConfigInSpace(const std::string& path,
                                                       const DesignSpace& space) {
  HAT_ASSIGN_OR_RETURN(ParsedConfig parsed, LoadSubTransformerConfigFile(path));
  HAT_RETURN_IF_ERROR(Annotate(ValidateConfig(parsed.config, space, parsed.style), path));
  return parsed.config;
}

absl::StatusOr<std::pair<DesignSpace, SubTransformerConfig>> LoadConfigAndSpace(
    const std::string& path, const std::string& space) {
  if (!space.empty()) {
    HAT_ASSIGN_OR_RETURN(DesignSpace resolved, ResolveDesignSpace(space));
    HAT_ASSIGN_OR_RETURN(SubTransformerConfig config, LoadConfigInSpace(path, resolved));
    return std::make_pair(std::move(resolved), std::move(config));
  }
  HAT_ASSIGN_OR_RETURN(ParsedConfig parsed, LoadSubTransformerConfigFile(path));
  for (const std::string& name : BuiltinSpaceNames()) {
    DesignSpace candidate = *BuiltinSpace(name);
    if (ValidateConfig(parsed.config, candidate).ok()) {
      return std::make_pair(std::move(candidate), std::move(parsed.config));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": fits no built-in design space; name one with --space NAME|FILE"));
}

nlohmann::json ConfigToJsonValue(const SubTransformerConfig& config) {
  nlohmann::json out = {{"encoder", nlohmann::json::object()},
                        {"decoder", nlohmann::json::object()}};
  for (const GeneInfo& info : AllGenes()) {
    nlohmann::json& stack = out[info.decoder ? "decoder" : "encoder"];
    if (info.per_layer) {
      stack[info.name] = *config.List(info.gene);
    } else {
      stack[info.name] = *config.Scalar(info.gene);
    }
  }
  return out;
}

std::string ConfigToJson(const SubTransformerConfig& config) {
  return ConfigToJsonValue(config).dump(2) + "\n";
}

std::string ConfigToHatYaml(const SubTransformerConfig& config) {
  std::string out = absl::StrCat("# SubTransformer ", CanonicalKey(config),
                                 "\n# arbitrary ende attn: -1 = last encoder layer, "
                                 "k = last k+1 encoder layers\n");
  for (const GeneInfo& info : AllGenes()) {
    if (info.per_layer) {
      absl::StrAppend(&out, info.config_key, ": [", absl::StrJoin(*config.List(info.gene), ", "),
                      "]\n");
    } else {
      absl::StrAppend(&out, info.config_key, ": ", *config.Scalar(info.gene), "\n");
    }
  }
  return out;
}

}  // namespace hat
