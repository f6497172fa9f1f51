// StepDecoder: what a search over output sequences drives, one token at a time.
#ifndef HATFLEET_ENGINE_STEP_DECODER_H_
#define HATFLEET_ENGINE_STEP_DECODER_H_

#include <ATen/core/Tensor.h>

namespace hat {

class StepDecoder {
 public:
  virtual ~StepDecoder() = default;
  // Feeds the previous tokens [rows] and returns scores [rows, vocab] of the next token
  // (logits or log-probabilities: the search normalises with log-softmax). `tokens` and
  // Reorder's `order` may be on the CPU whatever the decoder's device; the scores are on the
  // decoder's device.
  virtual at::Tensor Step(const at::Tensor& tokens) = 0;
  // Keeps the rows `order` selects (rows stay within their sentence's block).
  virtual void Reorder(const at::Tensor& order) = 0;
};

}  // namespace hat

#endif  // HATFLEET_ENGINE_STEP_DECODER_H_
