// yaml-cpp and nlohmann::json throw; every exception is caught here and becomes a Status.
#include "common/structured_readers.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hat {
namespace {

std::string Shorten(std::string s) {
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

absl::StatusOr<int> YamlScalarInt(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected an integer"));
  }
  try {
    const long long v = node.as<long long>();
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", v, " is out of range"));
    }
    return static_cast<int>(v);
  } catch (const YAML::Exception&) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected an integer, got '", Shorten(node.Scalar()), "'"));
  }
}

absl::StatusOr<int> JsonScalarInt(const nlohmann::json& v, const std::string& where) {
  if (v.is_number_integer() && v.get<long long>() >= std::numeric_limits<int>::min() &&
      v.get<long long>() <= std::numeric_limits<int>::max()) {
    return v.get<int>();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": expected an integer, got ", Shorten(v.dump())));
}

}  // namespace

absl::StatusOr<YAML::Node> ParseYamlMapping(const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", e.mark.line + 1, ": YAML syntax error: ", e.msg));
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError("expected a YAML mapping of keys to values at the top level");
  }
  return root;
}

std::string YamlWhere(const YAML::Node& map, const std::string& key) {
  const YAML::Node node = map[key];
  if (node && node.Mark().line >= 0) return absl::StrCat(key, " (line ", node.Mark().line + 1, ")");
  return key;
}

absl::Status WithYamlLine(const absl::Status& status, const YAML::Node& root) {
  if (status.ok()) return status;
  const std::string message(status.message());
  size_t best = 0;
  int line = -1;
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.Scalar();
    const bool names_key = absl::StartsWith(message, key) &&
                           (message.size() == key.size() || message[key.size()] == '[' ||
                            message[key.size()] == '=' || message[key.size()] == ':');
    if (names_key && key.size() > best) {
      best = key.size();
      line = it->first.Mark().line + 1;
    }
  }
  if (line <= 0) return status;
  return absl::Status(status.code(), absl::StrCat("line ", line, ": ", message));
}

absl::StatusOr<int> YamlInt(const YAML::Node& map, const std::string& key) {
  const YAML::Node node = map[key];
  if (!node) return absl::InvalidArgumentError(absl::StrCat(key, ": missing"));
  return YamlScalarInt(node, YamlWhere(map, key));
}

absl::StatusOr<std::vector<int>> YamlIntList(const YAML::Node& map, const std::string& key) {
  const YAML::Node node = map[key];
  if (!node) return absl::InvalidArgumentError(absl::StrCat(key, ": missing"));
  const std::string where = YamlWhere(map, key);
  if (!node.IsSequence()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected a list like [1, 2]"));
  }
  if (node.size() > kMaxListLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", node.size(), " entries, more than ", kMaxListLength));
  }
  std::vector<int> out;
  for (size_t i = 0; i < node.size(); ++i) {
    absl::StatusOr<int> v = YamlScalarInt(node[i], absl::StrCat(where, "[", i, "]"));
    if (!v.ok()) return v.status();
    out.push_back(*v);
  }
  return out;
}

absl::StatusOr<std::string> YamlString(const YAML::Node& map, const std::string& key) {
  const YAML::Node node = map[key];
  if (!node) return absl::InvalidArgumentError(absl::StrCat(key, ": missing"));
  if (!node.IsScalar()) {
    return absl::InvalidArgumentError(absl::StrCat(YamlWhere(map, key), ": expected a string"));
  }
  return node.Scalar();
}

namespace {

absl::StatusOr<double> YamlScalarDouble(const YAML::Node& node, const std::string& where) {
  if (node.IsScalar()) {
    try {
      const double v = node.as<double>();
      if (std::isfinite(v)) return v;
    } catch (const YAML::Exception&) {
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(where, ": expected a finite number, got '",
                                                 Shorten(node.IsScalar() ? node.Scalar() : "?"),
                                                 "'"));
}

}  // namespace

absl::StatusOr<double> YamlDouble(const YAML::Node& map, const std::string& key) {
  const YAML::Node node = map[key];
  if (!node) return absl::InvalidArgumentError(absl::StrCat(key, ": missing"));
  return YamlScalarDouble(node, YamlWhere(map, key));
}

absl::StatusOr<std::vector<double>> YamlDoubleList(const YAML::Node& map, const std::string& key) {
  const YAML::Node node = map[key];
  if (!node) return absl::InvalidArgumentError(absl::StrCat(key, ": missing"));
  const std::string where = YamlWhere(map, key);
  if (!node.IsSequence() || node.size() > kMaxListLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": expected a list of at most ", kMaxListLength, " numbers"));
  }
  std::vector<double> out;
  for (size_t i = 0; i < node.size(); ++i) {
    absl::StatusOr<double> v = YamlScalarDouble(node[i], absl::StrCat(where, "[", i, "]"));
    if (!v.ok()) return v.status();
    out.push_back(*v);
  }
  return out;
}

absl::StatusOr<bool> YamlBool(const YAML::Node& map, const std::string& key) {
  const YAML::Node node = map[key];
  if (!node) return absl::InvalidArgumentError(absl::StrCat(key, ": missing"));
  if (node.IsScalar()) {
    try {
      return node.as<bool>();
    } catch (const YAML::Exception&) {
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(YamlWhere(map, key), ": expected True or False"));
}

absl::StatusOr<nlohmann::json> ParseJsonObject(const std::string& text) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("byte ", e.byte, ": JSON syntax error: ", e.what()));
  } catch (const nlohmann::json::exception& e) {
    // Valid syntax the library still refuses, e.g. a number beyond double's range (found by
    // tests/fuzz/fuzz_subtransformer_config.cc: it escaped as an exception before).
    return absl::InvalidArgumentError(absl::StrCat("JSON: ", e.what()));
  }
  if (!doc.is_object()) {
    return absl::InvalidArgumentError("expected a JSON object at the top level");
  }
  return doc;
}

absl::StatusOr<int> JsonInt(const nlohmann::json& obj, const std::string& path,
                            const std::string& key) {
  const std::string where = absl::StrCat(path, "/", key);
  auto it = obj.find(key);
  if (it == obj.end()) return absl::InvalidArgumentError(absl::StrCat(where, ": missing"));
  return JsonScalarInt(*it, where);
}

absl::StatusOr<std::vector<int>> JsonIntList(const nlohmann::json& obj, const std::string& path,
                                             const std::string& key) {
  const std::string where = absl::StrCat(path, "/", key);
  auto it = obj.find(key);
  if (it == obj.end()) return absl::InvalidArgumentError(absl::StrCat(where, ": missing"));
  if (!it->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected an array of integers"));
  }
  if (it->size() > kMaxListLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", it->size(), " entries, more than ", kMaxListLength));
  }
  std::vector<int> out;
  for (size_t i = 0; i < it->size(); ++i) {
    absl::StatusOr<int> v = JsonScalarInt((*it)[i], absl::StrCat(where, "/", i));
    if (!v.ok()) return v.status();
    out.push_back(*v);
  }
  return out;
}

absl::StatusOr<std::string> JsonString(const nlohmann::json& obj, const std::string& path,
                                       const std::string& key) {
  const std::string where = absl::StrCat(path, "/", key);
  auto it = obj.find(key);
  if (it == obj.end()) return absl::InvalidArgumentError(absl::StrCat(where, ": missing"));
  if (!it->is_string())
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected a string"));
  return it->get<std::string>();
}

absl::StatusOr<const nlohmann::json*> JsonObject(const nlohmann::json& obj, const std::string& path,
                                                 const std::string& key) {
  const std::string where = absl::StrCat(path, "/", key);
  auto it = obj.find(key);
  if (it == obj.end()) return absl::InvalidArgumentError(absl::StrCat(where, ": missing"));
  if (!it->is_object())
    return absl::InvalidArgumentError(absl::StrCat(where, ": expected an object"));
  return &*it;
}

absl::Status JsonOnlyKeys(const nlohmann::json& obj, const std::string& path,
                          const std::vector<std::string>& allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (std::find(allowed.begin(), allowed.end(), it.key()) == allowed.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, "/", Shorten(it.key()), ": unknown key"));
    }
  }
  return absl::OkStatus();
}

bool LooksLikeJson(absl::string_view text) {
  for (char c : text) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) continue;
    return c == '{';
  }
  return false;
}

}  // namespace hat
