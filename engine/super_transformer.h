// SuperTransformer: the weight-sharing supernet of HAT (section 2). Every SubTransformer of its
// design space computes with leading slices of these parameters; Slice() returns those views.
//
// Parameters follow HAT's layout: one embedding matrix shared by encoder, decoder and output
// projection ([vocab, max embed dim]); self-attention projects q, k, v with one
// [3·qkv, embed] matrix; encoder-decoder attention projects q from the decoder width and k, v
// from the encoder width. Initialisation as fairseq: embeddings N(0, dim^-1/2) with a zero
// padding row, projections Xavier-uniform with zero biases (q, k, v of an attention drawn as
// one matrix when their input widths are equal, as fairseq does), layer norms (1, 0).
//
// Thread safety: Slice() is const and may run concurrently; training mutates the parameters.
#ifndef HATFLEET_ENGINE_SUPER_TRANSFORMER_H_
#define HATFLEET_ENGINE_SUPER_TRANSFORMER_H_

#include <torch/nn/module.h>

#include <cstdint>
#include <memory>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"
#include "engine/sub_transformer_weights.h"

namespace hat {

inline constexpr int kPaddingIdx = 1;  // fairseq dictionary: <s>=0, <pad>=1, </s>=2, <unk>=3
inline constexpr int kEosIdx = 2;

// The scales SuperTransformer parameters are drawn with (fairseq's initialisation, described
// above), from the SuperTransformer's dimensions: embeddings N(0, embed_std), each linear
// weight U(-bound, bound). SubTransformer::Random draws with the same ones, so a random
// SubTransformer's values are distributed as a slice of a SuperTransformer's.
struct InitScales {
  double embed_std = 0;
  double encoder_qkv = 0, encoder_out = 0, encoder_fc1 = 0, encoder_fc2 = 0;
  double decoder_qkv = 0, decoder_out = 0, decoder_fc1 = 0, decoder_fc2 = 0;
  double ende_q = 0, ende_kv = 0, ende_out = 0;
};
InitScales InitScalesFor(const SuperTransformerDims& dims);

class SuperTransformer : public torch::nn::Module {
 public:
  // Builds and initialises the SuperTransformer of `space` from `seed`.
  // INVALID_ARGUMENT when the space is invalid; RESOURCE_EXHAUSTED when allocation fails.
  static absl::StatusOr<std::shared_ptr<SuperTransformer>> Create(const DesignSpace& space,
                                                                  uint64_t seed);

  // Views of this SuperTransformer's parameters for `config`. The config is validated against
  // the space first: an out-of-space config is refused before any tensor is touched.
  absl::StatusOr<SubTransformerWeights> Slice(const SubTransformerConfig& config) const;

  const DesignSpace& space() const { return space_; }

 private:
  struct SelfAttentionParams {
    at::Tensor in_proj_weight, in_proj_bias, out_proj_weight, out_proj_bias;
  };
  struct LayerNormParams {
    at::Tensor weight, bias;
  };
  struct FfnParams {
    at::Tensor fc1_weight, fc1_bias, fc2_weight, fc2_bias;
  };
  struct EncoderLayerParams {
    SelfAttentionParams self_attn;
    LayerNormParams self_attn_norm, final_norm;
    FfnParams ffn;
  };
  struct DecoderLayerParams {
    SelfAttentionParams self_attn;
    at::Tensor ende_q_weight, ende_q_bias, ende_kv_weight, ende_kv_bias, ende_out_weight,
        ende_out_bias;
    LayerNormParams self_attn_norm, ende_attn_norm, final_norm;
    FfnParams ffn;
  };

  explicit SuperTransformer(const DesignSpace& space);
  void Build(uint64_t seed);

  DesignSpace space_;
  at::Tensor embed_;              // [vocab, max(encoder, decoder) super embed dim]
  at::Tensor encoder_positions_;  // [positions, super encoder embed dim] (buffer)
  at::Tensor decoder_positions_;
  std::vector<EncoderLayerParams> encoder_;
  std::vector<DecoderLayerParams> decoder_;
};

}  // namespace hat

#endif  // HATFLEET_ENGINE_SUPER_TRANSFORMER_H_
