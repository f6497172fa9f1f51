// Corpus directory layout; see corpus_layout.h.
#include "nmt/corpus_layout.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace hat {
namespace {

bool IsFile(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

}  // namespace

absl::StatusOr<std::string> CorpusLayout::File(const std::string& split,
                                               const std::string& lang) const {
  auto it = split_prefix.find(split);
  if (it == split_prefix.end()) {
    return absl::InvalidArgumentError(absl::StrCat("unknown corpus split '", split, "'"));
  }
  const std::string plain = absl::StrCat(dir, "/", it->second, ".", lang);
  if (IsFile(plain)) return plain;
  if (IsFile(plain + ".gz")) return plain + ".gz";
  return absl::NotFoundError(absl::StrCat("corpus ", dir, ": no ", split, " file for '", lang,
                                          "' (looked for ", plain, " and ", plain, ".gz)"));
}

absl::StatusOr<CorpusLayout> ReadCorpusLayout(const std::string& dir,
                                              const std::string& source_lang,
                                              const std::string& target_lang) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    return absl::NotFoundError(absl::StrCat("corpus directory ", dir, " does not exist"));
  }
  if (source_lang.empty() != target_lang.empty()) {
    return absl::InvalidArgumentError("give both the source and the target language, or neither");
  }
  CorpusLayout layout;
  layout.dir = dir;
  for (const char* split : kCorpusSplits) layout.split_prefix[split] = split;
  const std::string manifest = dir + "/corpus.json";
  if (IsFile(manifest)) {
    absl::StatusOr<std::string> text = ReadFileToString(manifest);
    if (!text.ok()) return text.status();
    const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(manifest, ": not a JSON object"));
    }
    if (j.contains("languages")) {
      const nlohmann::json& langs = j["languages"];
      if (!langs.is_array() || langs.size() != 2 || !langs[0].is_string() ||
          !langs[1].is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(manifest, ": 'languages' must be two strings, e.g. [\"en\", \"de\"]"));
      }
      layout.source_lang = langs[0].get<std::string>();
      layout.target_lang = langs[1].get<std::string>();
    }
    if (j.contains("splits")) {
      const nlohmann::json& splits = j["splits"];
      if (!splits.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(manifest, ": 'splits' must be an object"));
      }
      for (const auto& [split, prefix] : splits.items()) {
        if (!layout.split_prefix.count(split) || !prefix.is_string()) {
          return absl::InvalidArgumentError(
              absl::StrCat(manifest, ": splits.", split,
                           ": expected one of train, valid, test mapped to a file prefix"));
        }
        layout.split_prefix[split] = prefix.get<std::string>();
      }
    }
  }
  if (!source_lang.empty()) {
    const bool known = layout.source_lang.empty() ||
                       ((source_lang == layout.source_lang && target_lang == layout.target_lang) ||
                        (source_lang == layout.target_lang && target_lang == layout.source_lang));
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat("corpus ", dir, " has languages ", layout.source_lang, " and ",
                       layout.target_lang, ", not ", source_lang, "-", target_lang));
    }
    layout.source_lang = source_lang;
    layout.target_lang = target_lang;
  }
  if (layout.source_lang.empty() || layout.source_lang == layout.target_lang) {
    return absl::InvalidArgumentError(
        absl::StrCat("corpus ", dir,
                     ": languages unknown (add corpus.json or give --source-lang and "
                     "--target-lang)"));
  }
  return layout;
}

}  // namespace hat
