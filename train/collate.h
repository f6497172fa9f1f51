// Turning sentence pairs into the tensors one training or validation step needs.
#ifndef HATFLEET_TRAIN_COLLATE_H_
#define HATFLEET_TRAIN_COLLATE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "nmt/prepared_corpus.h"

namespace hat {

// Right-padded with the padding id. prev_output is the decoder input of teacher forcing:
// eos, then the target without its final eos (fairseq's shift).
struct TrainingBatch {
  at::Tensor source;       // [B, S] int64
  at::Tensor prev_output;  // [B, T] int64
  at::Tensor target;       // [B, T] int64
  int64_t target_tokens = 0;
  int64_t sentences = 0;
};

// REQUIRES: every index is in range and every sentence ends with eos.
TrainingBatch Collate(const EncodedSplit& split, const std::vector<int>& indices);

}  // namespace hat

#endif  // HATFLEET_TRAIN_COLLATE_H_
