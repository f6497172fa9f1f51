// SubTransformerConfig: one point of a design space, with per-layer values as in HAT's config
// dict ({"encoder": {"encoder_embed_dim": ..., ...}, "decoder": {...}}). A value type.
//
// Per-layer lists hold at least layer_num entries and at most the SuperTransformer's depth.
// Entries past layer_num are inactive: they do not change the model (features, canonical key and
// cost ignore them) but evolution keeps them, as HAT's gene does, so that a deeper mutant
// reactivates them.
#ifndef HATFLEET_COMMON_SUBTRANSFORMER_CONFIG_H_
#define HATFLEET_COMMON_SUBTRANSFORMER_CONFIG_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/design_space.h"

namespace hat {

struct EncoderConfig {
  int embed_dim = 0;
  int layer_num = 0;
  std::vector<int> ffn_embed_dim;
  std::vector<int> self_attention_heads;
};

struct DecoderConfig {
  int embed_dim = 0;
  int layer_num = 0;
  std::vector<int> ffn_embed_dim;
  std::vector<int> self_attention_heads;
  std::vector<int> ende_attention_heads;
  std::vector<int> arbitrary_ende_attn;  // -1: last encoder layer; k >= 1: last k+1 layers
};

struct SubTransformerConfig {
  EncoderConfig encoder;
  DecoderConfig decoder;

  // Gene access, for code that walks all genes (sampling, evolution, I/O). The scalar accessors
  // return null for per-layer genes and the list accessors null for scalar genes.
  int* MutableScalar(Gene g);
  const int* Scalar(Gene g) const;
  std::vector<int>* MutableList(Gene g);
  const std::vector<int>* List(Gene g) const;
  int LayerNum(bool in_decoder) const { return in_decoder ? decoder.layer_num : encoder.layer_num; }

  // Exact equality, inactive entries included. Use CanonicalKey() to compare models.
  bool operator==(const SubTransformerConfig& other) const;
  bool operator!=(const SubTransformerConfig& other) const { return !(*this == other); }
};

// OK when every value is one of the space's choices and every list covers the active layers
// without exceeding the SuperTransformer's depth. The error names the key in `style` and the
// value, e.g. "decoder_ffn_embed_dim[2]=5000: not in {3072, 2048, 1024}".
absl::Status ValidateConfig(const SubTransformerConfig& config, const DesignSpace& space,
                            KeyStyle style = KeyStyle::kHatfleet);

// Structural checks that need no space: positive layer counts, lists long enough to cover them.
absl::Status ValidateConfigShape(const SubTransformerConfig& config,
                                 KeyStyle style = KeyStyle::kHatfleet);

// Canonical text of the model (active layers only), stable across releases:
//   "enc:512:6:ffn=3072,...:sa=4,8,...|dec:512:1:ffn=3072:sa=8:ea=8:at=1"
// Two configs with the same key build the same network.
std::string CanonicalKey(const SubTransformerConfig& config);

// 64-bit FNV-1a hash of CanonicalKey(): a compact id for storage keys and caches.
uint64_t ConfigId(const SubTransformerConfig& config);

// The config with inactive entries dropped (lists exactly layer_num long).
SubTransformerConfig ActiveOnly(const SubTransformerConfig& config);

// The config with every list padded to the space's SuperTransformer depth, as HAT's gene is.
// Padding repeats the last given value. REQUIRES: ValidateConfigShape(config).ok().
SubTransformerConfig PadToSuperDepth(const SubTransformerConfig& config, const DesignSpace& space);

// The name of a gene's key in `style` ("decoder_ffn_embed_dim" or
// "decoder-ffn-embed-dim-all-subtransformer").
const char* ConfigKey(Gene g, KeyStyle style);

}  // namespace hat

#endif  // HATFLEET_COMMON_SUBTRANSFORMER_CONFIG_H_
