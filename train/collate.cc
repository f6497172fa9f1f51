// Collation of sentence pairs into padded tensors.
#include "train/collate.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "engine/super_transformer.h"

namespace hat {

TrainingBatch Collate(const EncodedSplit& split, const std::vector<int>& indices) {
  const int64_t b = static_cast<int64_t>(indices.size());
  size_t s = 1, t = 1;
  for (int i : indices) {
    s = std::max(s, split.source[i].size());
    t = std::max(t, split.target[i].size());
  }
  TrainingBatch batch;
  batch.source = at::full({b, static_cast<int64_t>(s)}, kPaddingIdx, at::kLong);
  batch.prev_output = at::full({b, static_cast<int64_t>(t)}, kPaddingIdx, at::kLong);
  batch.target = at::full({b, static_cast<int64_t>(t)}, kPaddingIdx, at::kLong);
  auto src = batch.source.accessor<int64_t, 2>();
  auto prev = batch.prev_output.accessor<int64_t, 2>();
  auto tgt = batch.target.accessor<int64_t, 2>();
  for (int64_t row = 0; row < b; ++row) {
    const std::vector<int32_t>& source = split.source[indices[row]];
    const std::vector<int32_t>& target = split.target[indices[row]];
    for (size_t j = 0; j < source.size(); ++j) src[row][j] = source[j];
    prev[row][0] = kEosIdx;
    for (size_t j = 0; j < target.size(); ++j) {
      tgt[row][j] = target[j];
      if (j + 1 < target.size()) prev[row][j + 1] = target[j];
    }
    batch.target_tokens += static_cast<int64_t>(target.size());
  }
  batch.sentences = b;
  return batch;
}

}  // namespace hat
