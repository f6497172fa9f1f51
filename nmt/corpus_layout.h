// CorpusLayout: where a parallel corpus's files are. Any corpus given as line-aligned text files
// `<split>.<lang>` (plain or .gz) in one directory works; an optional `corpus.json` there names
// the languages and maps hatfleet's splits (train, valid, test) to the files' prefixes:
//
//   {"languages": ["en", "de"], "splits": {"train": "train", "valid": "val",
//    "test": "test_2016_flickr"}}
//
// Without it the prefixes are train/valid/test and the languages must be given. The direction
// defaults to the first language -> the second.
#ifndef HATFLEET_NMT_CORPUS_LAYOUT_H_
#define HATFLEET_NMT_CORPUS_LAYOUT_H_

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace hat {

inline constexpr const char* kCorpusSplits[] = {"train", "valid", "test"};

struct CorpusLayout {
  std::string dir;
  std::string source_lang;
  std::string target_lang;
  std::map<std::string, std::string> split_prefix;  // "train" -> "train", "valid" -> "val", ...

  // The file of `split` in `lang`: `<dir>/<prefix>.<lang>`, or with `.gz` when only that exists.
  // NOT_FOUND naming both candidates.
  absl::StatusOr<std::string> File(const std::string& split, const std::string& lang) const;
};

// Reads `dir`'s layout. `source_lang`/`target_lang` override corpus.json's direction (both or
// neither); INVALID_ARGUMENT when the languages are unknown or corpus.json is malformed (naming
// the field), NOT_FOUND when `dir` does not exist.
absl::StatusOr<CorpusLayout> ReadCorpusLayout(const std::string& dir,
                                              const std::string& source_lang = "",
                                              const std::string& target_lang = "");

}  // namespace hat

#endif  // HATFLEET_NMT_CORPUS_LAYOUT_H_
