// Corpus BLEU (Papineni et al. 2002) exactly as sacreBLEU computes it with its defaults: n-grams
// up to 4, clipped counts summed over the corpus, the closest reference length (the shorter on a
// tie), brevity penalty exp(1 - r/c), and 'exp' smoothing of zero counts (a precision with no
// match counts as 1 / (2^k · total) for the k-th such order). Scores are in [0, 100].
#ifndef HATFLEET_NMT_BLEU_H_
#define HATFLEET_NMT_BLEU_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nmt/bleu_tokenizer.h"

namespace hat {

inline constexpr int kBleuMaxOrder = 4;

struct BleuOptions {
  BleuTokenize tokenize = BleuTokenize::k13a;
  bool lowercase = false;
};

struct BleuScore {
  double bleu = 0;
  std::array<double, kBleuMaxOrder> precisions{};  // percent, after smoothing
  std::array<int64_t, kBleuMaxOrder> matches{};    // clipped n-gram matches
  std::array<int64_t, kBleuMaxOrder> totals{};     // hypothesis n-grams
  double brevity_penalty = 0;
  int64_t hypothesis_length = 0;
  int64_t reference_length = 0;
  int64_t sentences = 0;
};

// BLEU of `hypotheses` against one or more reference sets; references[k][i] is the k-th
// reference of sentence i. INVALID_ARGUMENT (with the counts) when a reference set's length
// differs from the hypotheses', or when there are no reference sets.
absl::StatusOr<BleuScore> CorpusBleu(const std::vector<std::string>& hypotheses,
                                     const std::vector<std::vector<std::string>>& references,
                                     const BleuOptions& options = {});

// The same on already tokenised sentences.
absl::StatusOr<BleuScore> CorpusBleuOfTokens(
    const std::vector<std::vector<std::string>>& hypotheses,
    const std::vector<std::vector<std::vector<std::string>>>& references);

}  // namespace hat

#endif  // HATFLEET_NMT_BLEU_H_
