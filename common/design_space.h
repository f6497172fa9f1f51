// DesignSpace: the SuperTransformer's maximum dimensions and the elastic choices of its
// SubTransformers (HAT section 3; ../docs/ARCHITECTURE.md). A value type: copy it freely.
//
// The elastic dimensions are "genes", in HAT's gene order. Per-layer genes choose independently
// for every layer of their stack; scalar genes once per SubTransformer. Tables below give every
// gene and every SuperTransformer dimension with the key spellings of each file format, so that
// validation, sampling, evolution and I/O iterate one table instead of repeating ten fields.
#ifndef HATFLEET_COMMON_DESIGN_SPACE_H_
#define HATFLEET_COMMON_DESIGN_SPACE_H_

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace hat {

enum class Gene {
  kEncoderEmbedDim,
  kEncoderLayerNum,
  kEncoderFfnEmbedDim,
  kEncoderSelfAttentionHeads,
  kDecoderEmbedDim,
  kDecoderLayerNum,
  kDecoderFfnEmbedDim,
  kDecoderSelfAttentionHeads,
  kDecoderEndeAttentionHeads,
  kDecoderArbitraryEndeAttn,
};
inline constexpr int kNumGenes = 10;

// Longest list accepted anywhere in input (files, RPCs): bounds memory on hostile input.
inline constexpr size_t kMaxListLength = 4096;

// Which spelling error messages use for keys.
enum class KeyStyle {
  kHatfleet,  // hatfleet JSON and HAT's Python config dict: "encoder_ffn_embed_dim"
  kHatYaml,   // HAT's YAML files: "encoder-ffn-embed-dim-choice" / "...-all-subtransformer"
};

struct GeneInfo {
  Gene gene;
  const char* name;        // hatfleet JSON / HAT config dict: "encoder_ffn_embed_dim"
  const char* space_key;   // HAT space YAML: "encoder-ffn-embed-dim-choice"
  const char* config_key;  // HAT SubTransformer YAML: "encoder-ffn-embed-dim-all-subtransformer"
  bool per_layer;          // one value per layer of its stack
  bool decoder;            // belongs to the decoder stack
};

// All genes in HAT's order; AllGenes()[static_cast<int>(g)].gene == g.
const std::array<GeneInfo, kNumGenes>& AllGenes();
inline const GeneInfo& GetGeneInfo(Gene g) { return AllGenes()[static_cast<int>(g)]; }

// The SuperTransformer: every SubTransformer uses leading slices of its weights.
struct SuperTransformerDims {
  int encoder_embed_dim = 0;
  int decoder_embed_dim = 0;
  int encoder_ffn_embed_dim = 0;
  int decoder_ffn_embed_dim = 0;
  int encoder_layers = 0;
  int decoder_layers = 0;
  int encoder_attention_heads = 0;
  int decoder_attention_heads = 0;
  int qkv_dim = 0;  // width of every q/k/v projection; head dim = qkv_dim / heads
  int vocab_size = 0;
  int max_positions = 0;

  bool operator==(const SuperTransformerDims& other) const;
};

struct SuperDimInfo {
  const char* name;     // hatfleet JSON: "encoder_ffn_embed_dim"
  const char* hat_key;  // HAT YAML: "encoder-ffn-embed-dim"
  int SuperTransformerDims::*field;
};
const std::array<SuperDimInfo, 11>& AllSuperDims();

struct DesignSpace {
  std::string name;
  SuperTransformerDims super;
  // Allowed values per gene, indexed by static_cast<int>(Gene). Order is kept as written (HAT
  // lists largest first); sampling is uniform over the list.
  std::array<std::vector<int>, kNumGenes> choices;

  const std::vector<int>& Choices(Gene g) const { return choices[static_cast<int>(g)]; }
  std::vector<int>& MutableChoices(Gene g) { return choices[static_cast<int>(g)]; }
  // Depth of the SuperTransformer's encoder or decoder stack.
  int Depth(bool decoder) const { return decoder ? super.decoder_layers : super.encoder_layers; }

  // OK when the space is usable: positive dimensions, non-empty duplicate-free choices within the
  // SuperTransformer, head counts dividing qkv_dim, arbitrary attention reaching no further than
  // the shallowest encoder. The error names the key (in `style`) and the value.
  absl::Status Validate(KeyStyle style = KeyStyle::kHatfleet) const;

  // Number of distinct SubTransformers (active layers only), as a double: it overflows integers.
  double Cardinality() const;

  bool operator==(const DesignSpace& other) const;
};

// Number of encoder layers a decoder layer attends to for an arbitrary-attention value:
// -1 -> 1, k >= 1 -> k + 1 (HAT's encoding).
inline int EndeAttendedLayers(int arbitrary_ende_attn) {
  return arbitrary_ende_attn == -1 ? 1 : arbitrary_ende_attn + 1;
}

// "{3072, 2048, 1024}", for messages.
std::string FormatChoices(const std::vector<int>& values);

}  // namespace hat

#endif  // HATFLEET_COMMON_DESIGN_SPACE_H_
