// Analytic cost of a SubTransformer: parameters and multiply-accumulates (MACs).
//
// Counts follow the network hatfleet builds (post-norm fairseq Transformer, HAT's fixed qkv
// width, shared embeddings tied to the output projection):
//   encoder layer  (d = encoder embed, q = qkv dim, f = ffn, L = source tokens):
//     q/k/v/out projections 4·L·d·q, attention scores and weighted sum 2·L²·q, FFN 2·L·d·f
//   decoder step t of T (d = decoder embed, beam B, Lk = L × attended encoder layers):
//     self-attention B·(4·d·q + 2·t·q), enc-dec attention B·(2·d·q + 2·Lk·q), FFN B·2·d·f,
//     output projection B·d·V
//   enc-dec keys/values: 2·Lk·d_enc·q per layer, once per sentence (not per beam hypothesis).
// Biases, layer norms, softmax and embedding lookups are left out of the MACs (they are a few
// percent at most); parameters count everything, the shared embedding once (V × the wider of
// the two embed dims).
#ifndef HATFLEET_COMMON_COST_MODEL_H_
#define HATFLEET_COMMON_COST_MODEL_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"

namespace hat {

// The workload costed; defaults are HAT's WMT measurement protocol.
struct CostShape {
  int source_tokens = 30;
  int decoder_steps = 30;
  int beam = 5;
};

struct ModelCost {
  int64_t params = 0;                  // total, shared embedding counted once
  int64_t embedding_params = 0;        // V × max(encoder embed, decoder embed)
  int64_t encoder_params = 0;          // encoder layers only
  int64_t decoder_params = 0;          // decoder layers only
  int64_t encoder_macs = 0;            // one sentence of source_tokens
  int64_t decoder_macs = 0;            // all steps, all beams, output projection and enc-dec K/V
  int64_t output_projection_macs = 0;  // the part of decoder_macs spent on the vocabulary
};

// INVALID_ARGUMENT when the config does not fit the space or the shape is not positive.
absl::StatusOr<ModelCost> EstimateCost(const SubTransformerConfig& config, const DesignSpace& space,
                                       const CostShape& shape = {});

}  // namespace hat

#endif  // HATFLEET_COMMON_COST_MODEL_H_
