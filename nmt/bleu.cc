// Corpus BLEU; see bleu.h.
#include "nmt/bleu.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hat {
namespace {

using NgramCounts = std::map<std::string, int64_t>;

// Every n-gram of order 1..kBleuMaxOrder, joined by a space (tokens hold no whitespace).
NgramCounts CountNgrams(const std::vector<std::string>& tokens) {
  NgramCounts counts;
  for (int n = 1; n <= kBleuMaxOrder; ++n) {
    for (size_t i = 0; i + n <= tokens.size(); ++i) {
      ++counts[absl::StrJoin(tokens.begin() + i, tokens.begin() + i + n, " ")];
    }
  }
  return counts;
}

int NgramOrder(const std::string& ngram) {
  return 1 + static_cast<int>(std::count(ngram.begin(), ngram.end(), ' '));
}

BleuScore Score(const std::array<int64_t, kBleuMaxOrder>& matches,
                const std::array<int64_t, kBleuMaxOrder>& totals, int64_t hyp_len, int64_t ref_len,
                int64_t sentences) {
  BleuScore s;
  s.matches = matches;
  s.totals = totals;
  s.hypothesis_length = hyp_len;
  s.reference_length = ref_len;
  s.sentences = sentences;
  // No match of any order: 0, brevity penalty reported as 0 (sacreBLEU 2's early exit).
  if (std::all_of(matches.begin(), matches.end(), [](int64_t m) { return m == 0; })) return s;
  double smooth = 1;
  double log_sum = 0;
  bool zero = false;
  for (int n = 0; n < kBleuMaxOrder; ++n) {
    if (totals[n] == 0) {  // no n-grams of this order at all: BLEU is 0 (sacreBLEU's my_log(0))
      zero = true;
      break;
    }
    if (matches[n] == 0) {
      smooth *= 2;
      s.precisions[n] = 100.0 / (smooth * static_cast<double>(totals[n]));
    } else {
      s.precisions[n] = 100.0 * static_cast<double>(matches[n]) / static_cast<double>(totals[n]);
    }
    log_sum += std::log(s.precisions[n]);
  }
  if (hyp_len >= ref_len) {
    s.brevity_penalty = 1;
  } else {
    s.brevity_penalty = hyp_len > 0 ? std::exp(1.0 - static_cast<double>(ref_len) / hyp_len) : 0.0;
  }
  // Precisions are percentages: the geometric mean is too, as is the score.
  s.bleu = zero ? 0.0 : s.brevity_penalty * std::exp(log_sum / kBleuMaxOrder);
  return s;
}

}  // namespace

absl::StatusOr<BleuScore> CorpusBleuOfTokens(
    const std::vector<std::vector<std::string>>& hypotheses,
    const std::vector<std::vector<std::vector<std::string>>>& references) {
  if (references.empty())
    return absl::InvalidArgumentError("BLEU needs at least one reference set");
  for (size_t k = 0; k < references.size(); ++k) {
    if (references[k].size() != hypotheses.size()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "reference set ", k + 1, " has ", references[k].size(), " sentences but there are ",
          hypotheses.size(), " hypotheses (the files must be line-aligned)"));
    }
  }
  std::array<int64_t, kBleuMaxOrder> matches{}, totals{};
  int64_t hyp_len = 0, ref_len = 0;
  for (size_t i = 0; i < hypotheses.size(); ++i) {
    const std::vector<std::string>& hyp = hypotheses[i];
    const int64_t len = static_cast<int64_t>(hyp.size());
    // The closest reference length; the shorter on a tie.
    int64_t closest = -1;
    NgramCounts max_ref;
    for (const auto& set : references) {
      const std::vector<std::string>& ref = set[i];
      const int64_t r = static_cast<int64_t>(ref.size());
      if (closest < 0 || std::llabs(r - len) < std::llabs(closest - len) ||
          (std::llabs(r - len) == std::llabs(closest - len) && r < closest)) {
        closest = r;
      }
      for (const auto& [ngram, count] : CountNgrams(ref)) {
        int64_t& best = max_ref[ngram];
        best = std::max(best, count);
      }
    }
    hyp_len += len;
    ref_len += closest;
    for (const auto& [ngram, count] : CountNgrams(hyp)) {
      const int n = NgramOrder(ngram) - 1;
      totals[n] += count;
      auto it = max_ref.find(ngram);
      if (it != max_ref.end()) matches[n] += std::min(count, it->second);
    }
  }
  return Score(matches, totals, hyp_len, ref_len, static_cast<int64_t>(hypotheses.size()));
}

absl::StatusOr<BleuScore> CorpusBleu(const std::vector<std::string>& hypotheses,
                                     const std::vector<std::vector<std::string>>& references,
                                     const BleuOptions& options) {
  std::vector<std::vector<std::string>> hyp_tokens;
  hyp_tokens.reserve(hypotheses.size());
  for (const std::string& h : hypotheses) {
    hyp_tokens.push_back(BleuTokens(h, options.tokenize, options.lowercase));
  }
  std::vector<std::vector<std::vector<std::string>>> ref_tokens(references.size());
  for (size_t k = 0; k < references.size(); ++k) {
    for (const std::string& r : references[k]) {
      ref_tokens[k].push_back(BleuTokens(r, options.tokenize, options.lowercase));
    }
  }
  return CorpusBleuOfTokens(hyp_tokens, ref_tokens);
}

}  // namespace hat
