// The tokenisations corpus BLEU is computed on, as sacreBLEU defines them, so that hatfleet's
// BLEU can be compared with published figures:
//   k13a:  mteval-v13a's: unescape a few HTML entities, split off punctuation and symbols, split
//          periods and commas unless between digits, and a dash after a digit. For detokenised
//          text (the raw Multi30k files).
//   kNone: whitespace only. For text that is already tokenised (the lc.norm.tok files, which the
//          published Multi30k numbers use).
#ifndef HATFLEET_NMT_BLEU_TOKENIZER_H_
#define HATFLEET_NMT_BLEU_TOKENIZER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hat {

enum class BleuTokenize { k13a, kNone };

// "13a" or "none".
absl::StatusOr<BleuTokenize> ParseBleuTokenize(absl::string_view name);

// sacreBLEU's tokenizer_13a on one line, as a single-space-joined string.
std::string Tokenize13a(absl::string_view line);

// Lowercases UTF-8 text: ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic capitals (what
// Python's str.lower() does for them); other characters, and invalid bytes, are kept as they are.
std::string LowercaseUtf8(absl::string_view text);

// The tokens BLEU counts: optional lowercasing, then the tokenisation, then whitespace splitting.
std::vector<std::string> BleuTokens(absl::string_view line, BleuTokenize tokenize, bool lowercase);

}  // namespace hat

#endif  // HATFLEET_NMT_BLEU_TOKENIZER_H_
