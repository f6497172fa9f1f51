// Label-smoothed cross-entropy, HAT's training criterion (fairseq's label_smoothed_cross_entropy
// of HAT's version): loss = (1 - ε)·nll + ε/V · Σ_v -log p(v), summed over non-padding target
// tokens. The plain negative log-likelihood comes with it.
#ifndef HATFLEET_TRAIN_LABEL_SMOOTHED_LOSS_H_
#define HATFLEET_TRAIN_LABEL_SMOOTHED_LOSS_H_

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace hat {

struct LossSums {
  at::Tensor loss;  // scalar, summed over tokens (differentiable)
  at::Tensor nll;   // scalar, summed over tokens
};

// logits [B, T, V], target [B, T] with `padding_idx` where there is no token.
LossSums LabelSmoothedLoss(const at::Tensor& logits, const at::Tensor& target, double epsilon,
                           int64_t padding_idx);

// The same sums from the decoder's output before the projection, for evaluation (no gradient):
// hidden [B, T, D], output_embedding [V, D] (logits = hidden · output_embeddingᵀ). Padding
// positions are dropped before the projection, and the logits are made `chunk_rows` rows at a
// time so that each chunk's log-sum-exp reads them from cache: with a 10,000-word vocabulary the
// log-sum-exp over whole-batch logits cost twice the projection itself. The target logit and the
// smoothing term (Σ_v logit_v = hidden · Σ_v embedding_v) need no logits at all.
// REQUIRES: chunk_rows >= 1.
LossSums LabelSmoothedLossFromHidden(const at::Tensor& hidden, const at::Tensor& output_embedding,
                                     const at::Tensor& target, double epsilon, int64_t padding_idx,
                                     int64_t chunk_rows = 256);

}  // namespace hat

#endif  // HATFLEET_TRAIN_LABEL_SMOOTHED_LOSS_H_
