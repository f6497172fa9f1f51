// Label-smoothed cross-entropy; see label_smoothed_loss.h.
#include "train/label_smoothed_loss.h"

#include <ATen/ATen.h>

namespace hat {

LossSums LabelSmoothedLoss(const at::Tensor& logits, const at::Tensor& target, double epsilon,
                           int64_t padding_idx) {
  const at::Tensor lprobs = at::log_softmax(logits, -1);
  const at::Tensor t = target.unsqueeze(-1);
  const at::Tensor keep = target.ne(padding_idx);
  const at::Tensor nll = -lprobs.gather(-1, t).squeeze(-1).masked_fill(~keep, 0);
  const at::Tensor smooth = -lprobs.sum(-1).masked_fill(~keep, 0);
  const double eps_i = epsilon / static_cast<double>(lprobs.size(-1));
  LossSums out;
  out.nll = nll.sum();
  out.loss = (1.0 - epsilon) * out.nll + eps_i * smooth.sum();
  return out;
}

}  // namespace hat
