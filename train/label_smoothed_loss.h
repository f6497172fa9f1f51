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

}  // namespace hat

#endif  // HATFLEET_TRAIN_LABEL_SMOOTHED_LOSS_H_
