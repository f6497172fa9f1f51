// Design-space formats; see design_space_io.h.
#include "common/design_space_io.h"

#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/builtin_spaces.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/structured_readers.h"

namespace hat {
namespace {

constexpr int kDefaultVocabSize = 32768;
constexpr int kDefaultMaxPositions = 1024;

absl::StatusOr<DesignSpace> ParseHatYaml(const std::string& text, absl::string_view default_name) {
  HAT_ASSIGN_OR_RETURN(YAML::Node root, ParseYamlMapping(text));
  DesignSpace space;
  space.name = std::string(default_name);
  if (root["name"]) {
    HAT_ASSIGN_OR_RETURN(space.name, YamlString(root, "name"));
  }
  for (const SuperDimInfo& dim : AllSuperDims()) {
    const std::string key = dim.hat_key;
    if (!root[key] && key == "vocab-size") {
      space.super.vocab_size = kDefaultVocabSize;
    } else if (!root[key] && key == "max-positions") {
      space.super.max_positions = kDefaultMaxPositions;
    } else {
      HAT_ASSIGN_OR_RETURN(space.super.*dim.field, YamlInt(root, key));
    }
  }
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (!absl::EndsWith(key, "-choice")) continue;
    bool known = false;
    for (const GeneInfo& info : AllGenes()) known = known || key == info.space_key;
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat(YamlWhere(root, key),
                       ": unknown choice key (expected one of HAT's, e.g. "
                       "encoder-ffn-embed-dim-choice)"));
    }
  }
  for (const GeneInfo& info : AllGenes()) {
    HAT_ASSIGN_OR_RETURN(space.MutableChoices(info.gene), YamlIntList(root, info.space_key));
  }
  HAT_RETURN_IF_ERROR(WithYamlLine(space.Validate(KeyStyle::kHatYaml), root));
  return space;
}

absl::StatusOr<DesignSpace> ParseHatfleetJson(const std::string& text) {
  HAT_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJsonObject(text));
  HAT_RETURN_IF_ERROR(JsonOnlyKeys(doc, "", {"format", "name", "super", "choices"}));
  HAT_ASSIGN_OR_RETURN(std::string format, JsonString(doc, "", "format"));
  if (format != kDesignSpaceFormat) {
    return absl::InvalidArgumentError(absl::StrCat("/format: '", format, "' is not supported (this",
                                                   " build reads '", kDesignSpaceFormat, "')"));
  }
  DesignSpace space;
  HAT_ASSIGN_OR_RETURN(space.name, JsonString(doc, "", "name"));
  HAT_ASSIGN_OR_RETURN(const nlohmann::json* super, JsonObject(doc, "", "super"));
  std::vector<std::string> super_keys;
  for (const SuperDimInfo& dim : AllSuperDims()) {
    super_keys.push_back(dim.name);
    HAT_ASSIGN_OR_RETURN(space.super.*dim.field, JsonInt(*super, "/super", dim.name));
  }
  HAT_RETURN_IF_ERROR(JsonOnlyKeys(*super, "/super", super_keys));
  HAT_ASSIGN_OR_RETURN(const nlohmann::json* choices, JsonObject(doc, "", "choices"));
  std::vector<std::string> gene_keys;
  for (const GeneInfo& info : AllGenes()) {
    gene_keys.push_back(info.name);
    HAT_ASSIGN_OR_RETURN(space.MutableChoices(info.gene),
                         JsonIntList(*choices, "/choices", info.name));
  }
  HAT_RETURN_IF_ERROR(JsonOnlyKeys(*choices, "/choices", gene_keys));
  HAT_RETURN_IF_ERROR(space.Validate(KeyStyle::kHatfleet));
  return space;
}

}  // namespace

absl::StatusOr<DesignSpace> ParseDesignSpace(const std::string& text,
                                             absl::string_view default_name) {
  return LooksLikeJson(text) ? ParseHatfleetJson(text) : ParseHatYaml(text, default_name);
}

absl::StatusOr<DesignSpace> LoadDesignSpaceFile(const std::string& path) {
  HAT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  absl::StatusOr<DesignSpace> space = ParseDesignSpace(text, FileStem(path));
  if (!space.ok()) return Annotate(space.status(), path);
  return space;
}

absl::StatusOr<DesignSpace> ResolveDesignSpace(const std::string& name_or_path) {
  absl::StatusOr<DesignSpace> builtin = BuiltinSpace(name_or_path);
  if (builtin.ok()) return builtin;
  struct stat st;
  if (::stat(name_or_path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("'", name_or_path,
                                            "' is neither a built-in design space nor a file; ",
                                            builtin.status().message()));
  }
  return LoadDesignSpaceFile(name_or_path);
}

nlohmann::json DesignSpaceToJsonValue(const DesignSpace& space) {
  nlohmann::json super = nlohmann::json::object();
  for (const SuperDimInfo& dim : AllSuperDims()) super[dim.name] = space.super.*dim.field;
  nlohmann::json choices = nlohmann::json::object();
  for (const GeneInfo& info : AllGenes()) choices[info.name] = space.Choices(info.gene);
  // nlohmann's default object sorts keys; that is fine for a file people read and diff.
  return {
      {"format", kDesignSpaceFormat}, {"name", space.name}, {"super", super}, {"choices", choices}};
}

std::string DesignSpaceToJson(const DesignSpace& space) {
  return DesignSpaceToJsonValue(space).dump(2) + "\n";
}

}  // namespace hat
