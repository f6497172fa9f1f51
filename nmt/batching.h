// Batching by token count with length bucketing, as fairseq does it: sentence pairs are sorted
// by length (target, then source; equal lengths in a seeded random order), so that a batch
// holds sentences of similar length and little padding, and cut greedily so that
// sentences × longest sentence (source or target, eos included) stays within max_tokens.
// Training visits the batches in a seeded random order per epoch.
#ifndef HATFLEET_NMT_BATCHING_H_
#define HATFLEET_NMT_BATCHING_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "nmt/prepared_corpus.h"

namespace hat {

struct BatchingOptions {
  int max_tokens = 4096;
  int max_sentences = 0;  // 0: no limit
  int max_length = 0;     // pairs with a longer side are skipped (0: no limit)
};

struct BatchPlan {
  std::vector<std::vector<int>> batches;  // indices into the split
  int skipped_too_long = 0;
};

// INVALID_ARGUMENT for max_tokens < 1, or when a sentence within max_length cannot fit
// max_tokens on its own (naming it).
absl::StatusOr<BatchPlan> MakeBatches(const EncodedSplit& split, const BatchingOptions& options,
                                      uint64_t seed);

// The order in which epoch `epoch` visits `num_batches` batches: a shuffle seeded by both.
std::vector<int> EpochOrder(int num_batches, uint64_t seed, int64_t epoch);

}  // namespace hat

#endif  // HATFLEET_NMT_BATCHING_H_
