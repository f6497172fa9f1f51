// Label-smoothed cross-entropy with a hand-written gradient; see label_smoothed_loss.h.
//
// Written through autograd, the loss costs several passes over the [tokens, vocabulary] logits
// in each direction (log-softmax output, a zero-filled tensor for gather's gradient, the
// broadcast of the smoothing sum, log-softmax's backward): with a 10,000-word vocabulary that
// was a quarter of a Transformer-tiny update. The gradient has a closed form,
//   d loss / d logits = softmax(logits) - (1 - ε)·onehot(target) - ε/V   (non-padding rows),
// so the forward keeps only a log-sum-exp per row and the backward writes the gradient once.
#include "train/label_smoothed_loss.h"

#include <torch/torch.h>

#include <algorithm>

namespace hat {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class LabelSmoothedCrossEntropy : public torch::autograd::Function<LabelSmoothedCrossEntropy> {
 public:
  // logits [N, V]; target [N]. Returns {loss sum, nll sum}; the nll carries no gradient.
  static variable_list forward(AutogradContext* ctx, const at::Tensor& logits,
                               const at::Tensor& target, double epsilon, int64_t padding_idx) {
    const double vocab = static_cast<double>(logits.size(1));
    const at::Tensor keep = target.ne(padding_idx);
    const at::Tensor safe_target = target.masked_fill(~keep, 0);
    const at::Tensor lse = at::logsumexp(logits, 1);
    const at::Tensor target_logit = logits.gather(1, safe_target.unsqueeze(1)).squeeze(1);
    const at::Tensor nll = (lse - target_logit).masked_fill(~keep, 0).sum();
    const at::Tensor smooth = (vocab * lse - logits.sum(1)).masked_fill(~keep, 0).sum();
    const at::Tensor loss = (1.0 - epsilon) * nll + (epsilon / vocab) * smooth;
    ctx->save_for_backward({logits, lse, safe_target, keep});
    ctx->saved_data["epsilon"] = epsilon;
    ctx->mark_non_differentiable({nll});
    return {loss, nll};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor& logits = saved[0];
    const at::Tensor& lse = saved[1];
    const at::Tensor& target = saved[2];
    const at::Tensor& keep = saved[3];
    const double epsilon = ctx->saved_data["epsilon"].toDouble();
    const at::Tensor scale = grad_outputs[0];  // scalar
    const double vocab = static_cast<double>(logits.size(1));
    at::Tensor grad = logits - lse.unsqueeze(1);
    grad.exp_();
    grad.sub_(epsilon / vocab);
    grad.scatter_add_(1, target.unsqueeze(1),
                      at::full({logits.size(0), 1}, -(1.0 - epsilon), grad.options()));
    // Padding rows contribute nothing; then the upstream gradient (1 / tokens in training).
    const at::Tensor pad_rows = (~keep).nonzero().squeeze(1);
    if (pad_rows.numel() > 0) grad.index_fill_(0, pad_rows, 0);
    grad.mul_(scale);
    return {grad, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

LossSums LabelSmoothedLoss(const at::Tensor& logits, const at::Tensor& target, double epsilon,
                           int64_t padding_idx) {
  const int64_t vocab = logits.size(-1);
  const variable_list out = LabelSmoothedCrossEntropy::apply(
      logits.reshape({-1, vocab}), target.reshape({-1}), epsilon, padding_idx);
  return LossSums{out[0], out[1]};
}

LossSums LabelSmoothedLossFromHidden(const at::Tensor& hidden, const at::Tensor& output_embedding,
                                     const at::Tensor& target, double epsilon, int64_t padding_idx,
                                     int64_t chunk_rows) {
  const at::NoGradGuard no_grad;
  const int64_t dim = hidden.size(-1);
  const double vocab = static_cast<double>(output_embedding.size(0));
  const at::Tensor flat_target = target.reshape({-1});
  const at::Tensor rows = flat_target.ne(padding_idx).nonzero().squeeze(1);
  const at::Tensor h = hidden.reshape({-1, dim}).index_select(0, rows);
  const at::Tensor t = flat_target.index_select(0, rows);
  const at::Tensor embedding = output_embedding.contiguous();

  const at::Tensor target_logit = (h * embedding.index_select(0, t)).sum(1);
  const at::Tensor logit_sum = at::mv(h, embedding.sum(0));
  at::Tensor lse = at::empty({h.size(0)}, h.options());
  for (int64_t begin = 0; begin < h.size(0); begin += chunk_rows) {
    const int64_t n = std::min(chunk_rows, h.size(0) - begin);
    at::Tensor logits = at::linear(h.narrow(0, begin, n), embedding);
    const at::Tensor max = std::get<0>(logits.max(1, /*keepdim=*/true));
    logits.sub_(max).exp_();
    lse.narrow(0, begin, n).copy_(logits.sum(1).log_().add_(max.squeeze(1)));
  }
  const at::Tensor nll = (lse - target_logit).sum();
  const at::Tensor smooth = (vocab * lse - logit_sum).sum();
  return LossSums{(1.0 - epsilon) * nll + (epsilon / vocab) * smooth, nll};
}

}  // namespace hat
