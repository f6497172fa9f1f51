// The SubTransformer forward pass: HAT's post-norm encoder-decoder Transformer with a fixed
// qkv width, arbitrary encoder-decoder attention and tied output projection, over
// SubTransformerWeights (sliced from a SuperTransformer or standalone).
//
// Tensors are batch-first: tokens [B, T] int64, hidden states [B, T, d]. Token ids follow
// fairseq's dictionary (padding_idx 1, eos 2). These functions throw c10::Error on misuse; the
// engine's public entry points (sub_transformer.h, latency_workload.h) catch it at the edge.
#ifndef HATFLEET_ENGINE_TRANSFORMER_FORWARD_H_
#define HATFLEET_ENGINE_TRANSFORMER_FORWARD_H_

#include <ATen/core/Tensor.h>

#include <utility>
#include <vector>

#include "engine/packed_linear.h"
#include "engine/step_decoder.h"
#include "engine/sub_transformer_weights.h"

namespace hat {

// Dropout probabilities; all zero (and training false) for inference.
struct ForwardOptions {
  bool training = false;
  double dropout = 0;               // after embeddings, attention blocks and FFNs (HAT: scaled
                                    // by sampled / super embed dim)
  double encoder_attn_dropout = 0;  // after encoder self-attention: HAT uses the unscaled value
  double attention_dropout = 0;     // on attention probabilities
  double activation_dropout = 0;    // after the FFN activation
};

struct EncoderOutput {
  std::vector<at::Tensor> layers;  // output of every active encoder layer, [B, S, d_encoder]
  at::Tensor padding_mask;         // [B, S] bool, true at padding; undefined when none
};

// fairseq's sinusoidal table: [num_positions, dim], sin in the first dim/2 columns and cos in
// the next, row `padding_idx` zero. HAT builds it at the SuperTransformer's embed dim and a
// SubTransformer uses its leading columns.
at::Tensor SinusoidalPositions(int64_t num_positions, int64_t dim, int64_t padding_idx);

// Position ids as fairseq makes them: padding_idx + 1 + index among non-pad tokens; pads get
// padding_idx.
at::Tensor MakePositions(const at::Tensor& tokens, int64_t padding_idx);

EncoderOutput Encode(const SubTransformerWeights& w, const at::Tensor& src_tokens,
                     const ForwardOptions& options = {});

// The keys/values memory a decoder layer attends to: the last `attended_layers` encoder layers
// concatenated along time, last layer first (HAT's order), and the padding mask repeated the
// same way (undefined when the encoder had no padding).
std::pair<at::Tensor, at::Tensor> EndeMemory(const EncoderOutput& encoder, int attended_layers);

// Packs the per-step linear layers of `w`'s decoder and its output projection.
// REQUIRES: float32 CPU weights.
DecodingKernels PackForDecoding(const SubTransformerWeights& w);

// Teacher-forced decoding of every position (causal self-attention): the decoder's output
// [B, T, embed dim] before the output projection (the tied embedding `w.decoder_embed`).
at::Tensor DecodeHidden(const SubTransformerWeights& w, const at::Tensor& prev_tokens,
                        const EncoderOutput& encoder, const ForwardOptions& options = {});

// DecodeHidden projected onto the vocabulary: logits [B, T, vocab].
at::Tensor DecodeAll(const SubTransformerWeights& w, const at::Tensor& prev_tokens,
                     const EncoderOutput& encoder, const ForwardOptions& options = {});

// Decoding one token at a time with a self-attention key/value cache, for N sentences with
// `beam` hypotheses each (decoder batch N·beam, sentence-major). The encoder-decoder keys and
// values are computed once per sentence at construction and shared by its hypotheses: the beam
// attends as if its hypotheses were query positions, so nothing is copied per hypothesis.
// Inference only (no dropout).
class IncrementalDecoder : public StepDecoder {
 public:
  // `encoder` holds the N sentences. `kernels` (optional, CPU only) are the decoder's linear
  // layers packed for few rows (PackForDecoding); they are used while N·beam is small.
  // REQUIRES: beam >= 1, max_steps >= 1; `w`, `kernels` outlive the decoder.
  IncrementalDecoder(const SubTransformerWeights& w, const EncoderOutput& encoder, int beam,
                     int max_steps, const DecodingKernels* kernels = nullptr);

  // Feeds tokens [N·beam] (the previous output; eos at the first step) and returns the logits
  // [N·beam, vocab] of the next token. At most max_steps calls.
  at::Tensor Step(const at::Tensor& tokens) override;

  // Keeps the hypotheses `order` [N·beam] selects. REQUIRES: every index stays within its own
  // sentence's block of `beam` rows (beam search only reorders within a sentence).
  void Reorder(const at::Tensor& order) override;

  int steps_taken() const { return steps_; }

 private:
  struct LayerCache {
    at::Tensor self_keys;  // [N·beam, H, max_steps, head_dim]
    at::Tensor self_values;
    at::Tensor ende_keys;  // [N, H, attended · S, head_dim]
    at::Tensor ende_values;
    at::Tensor ende_mask;  // [N, attended · S] or undefined
  };

  // x·Wᵀ + b with the packed kernel when there is one and the batch is small.
  at::Tensor Project(const at::Tensor& x, const LinearWeights& w, const PackedLinear* packed) const;

  const SubTransformerWeights& w_;
  const DecodingKernels* kernels_;
  bool use_kernels_ = false;
  int64_t sentences_;
  int beam_;
  int max_steps_;
  int steps_ = 0;
  std::vector<LayerCache> cache_;
};

}  // namespace hat

#endif  // HATFLEET_ENGINE_TRANSFORMER_FORWARD_H_
