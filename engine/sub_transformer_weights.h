// SubTransformerWeights: the tensors one SubTransformer computes with, at its own dimensions.
//
// The same struct serves both ways of running a SubTransformer:
//   - sliced: views of the SuperTransformer's parameters (leading slices, HAT section 2), so
//     gradients flow into the shared weights (training, inherited-weight validation loss);
//   - standalone: contiguous tensors of its own (deployment, latency measurement).
// transformer_forward.h runs either. Layout follows HAT/fairseq: linear weights are
// [out_features, in_features]; self-attention projects q, k, v with one [3·qkv, d] matrix.
#ifndef HATFLEET_ENGINE_SUB_TRANSFORMER_WEIGHTS_H_
#define HATFLEET_ENGINE_SUB_TRANSFORMER_WEIGHTS_H_

#include <ATen/core/Tensor.h>

#include <vector>

namespace hat {

struct LinearWeights {
  at::Tensor weight;  // [out, in]
  at::Tensor bias;    // [out]; undefined for the bias-free output projection
};

struct LayerNormWeights {
  at::Tensor weight;  // [d]
  at::Tensor bias;    // [d]
};

struct SelfAttentionWeights {
  LinearWeights qkv;  // [3·qkv, d]: rows q, then k, then v
  LinearWeights out;  // [d, qkv]
  int heads = 0;
};

struct EndeAttentionWeights {
  LinearWeights q;    // [qkv, d_decoder]
  LinearWeights kv;   // [2·qkv, d_encoder]: rows k, then v
  LinearWeights out;  // [d_decoder, qkv]
  int heads = 0;
  int attended_layers = 1;  // the last this many encoder layers, concatenated along time
};

struct FfnWeights {
  LinearWeights fc1;  // [ffn, d]
  LinearWeights fc2;  // [d, ffn]
};

struct EncoderLayerWeights {
  SelfAttentionWeights self_attn;
  LayerNormWeights self_attn_norm;
  FfnWeights ffn;
  LayerNormWeights final_norm;
};

struct DecoderLayerWeights {
  SelfAttentionWeights self_attn;
  LayerNormWeights self_attn_norm;
  EndeAttentionWeights ende_attn;
  LayerNormWeights ende_attn_norm;
  FfnWeights ffn;
  LayerNormWeights final_norm;
};

struct SubTransformerWeights {
  int qkv_dim = 0;
  int padding_idx = 1;
  at::Tensor encoder_embed;      // [vocab, d_encoder]
  at::Tensor decoder_embed;      // [vocab, d_decoder]; also the output projection (tied, no bias)
  at::Tensor encoder_positions;  // [max_positions + padding_idx + 1, d_encoder], sinusoidal
  at::Tensor decoder_positions;  // [..., d_decoder]
  std::vector<EncoderLayerWeights> encoder_layers;
  std::vector<DecoderLayerWeights> decoder_layers;

  int encoder_embed_dim() const { return static_cast<int>(encoder_embed.size(1)); }
  int decoder_embed_dim() const { return static_cast<int>(decoder_embed.size(1)); }
  int vocab_size() const { return static_cast<int>(decoder_embed.size(0)); }
};

}  // namespace hat

#endif  // HATFLEET_ENGINE_SUB_TRANSFORMER_WEIGHTS_H_
