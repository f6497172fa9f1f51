// Token-count batching; see batching.h.
#include "nmt/batching.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/prng.h"

namespace hat {

absl::StatusOr<BatchPlan> MakeBatches(const EncodedSplit& split, const BatchingOptions& options,
                                      uint64_t seed) {
  if (options.max_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_tokens=", options.max_tokens, ": must be at least 1"));
  }
  BatchPlan plan;
  std::vector<int> order;
  order.reserve(split.size());
  for (size_t i = 0; i < split.size(); ++i) {
    const size_t longest = std::max(split.source[i].size(), split.target[i].size());
    if (options.max_length > 0 && longest > static_cast<size_t>(options.max_length)) {
      ++plan.skipped_too_long;
      continue;
    }
    if (longest > static_cast<size_t>(options.max_tokens)) {
      return absl::InvalidArgumentError(
          absl::StrCat("sentence pair ", i + 1, " has ", longest,
                       " tokens, more than max_tokens=", options.max_tokens));
    }
    order.push_back(static_cast<int>(i));
  }
  Prng prng(seed);
  prng.Shuffle(order);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    if (split.target[a].size() != split.target[b].size()) {
      return split.target[a].size() < split.target[b].size();
    }
    return split.source[a].size() < split.source[b].size();
  });
  std::vector<int> current;
  size_t longest = 0;
  for (int i : order) {
    const size_t len = std::max(split.source[i].size(), split.target[i].size());
    const size_t next_longest = std::max(longest, len);
    const bool full_tokens =
        (current.size() + 1) * next_longest > static_cast<size_t>(options.max_tokens);
    const bool full_sentences =
        options.max_sentences > 0 && current.size() >= static_cast<size_t>(options.max_sentences);
    if (!current.empty() && (full_tokens || full_sentences)) {
      plan.batches.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(i);
    longest = std::max(longest, len);
  }
  if (!current.empty()) plan.batches.push_back(std::move(current));
  return plan;
}

std::vector<int> EpochOrder(int num_batches, uint64_t seed, int64_t epoch) {
  std::vector<int> order(num_batches);
  std::iota(order.begin(), order.end(), 0);
  Prng prng(seed ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(epoch + 1)));
  prng.Shuffle(order);
  return order;
}

}  // namespace hat
