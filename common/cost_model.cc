// Parameter and MAC counts; the formulas are documented in cost_model.h.
#include "common/cost_model.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace hat {

absl::StatusOr<ModelCost> EstimateCost(const SubTransformerConfig& c, const DesignSpace& space,
                                       const CostShape& shape) {
  HAT_RETURN_IF_ERROR(ValidateConfig(c, space));
  if (shape.source_tokens < 1 || shape.decoder_steps < 1 || shape.beam < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cost shape: source_tokens=", shape.source_tokens, ", decoder_steps=", shape.decoder_steps,
        ", beam=", shape.beam, ": each must be at least 1"));
  }
  const int64_t q = space.super.qkv_dim;
  const int64_t vocab = space.super.vocab_size;
  const int64_t de = c.encoder.embed_dim;
  const int64_t dd = c.decoder.embed_dim;
  const int64_t src = shape.source_tokens;
  const int64_t steps = shape.decoder_steps;
  const int64_t beam = shape.beam;

  ModelCost cost;
  cost.embedding_params = vocab * std::max(de, dd);

  for (int i = 0; i < c.encoder.layer_num; ++i) {
    const int64_t f = c.encoder.ffn_embed_dim[i];
    // q/k/v (d->q, with bias) + out (q->d, with bias) + 2 layer norms + fc1 + fc2.
    cost.encoder_params +=
        3 * (de * q + q) + (q * de + de) + 2 * (2 * de) + (de * f + f) + (f * de + de);
    cost.encoder_macs += 4 * src * de * q + 2 * src * src * q + 2 * src * de * f;
  }

  // Sum over steps t = 1..T of the self-attention cache length t.
  const int64_t cache_sum = steps * (steps + 1) / 2;
  for (int i = 0; i < c.decoder.layer_num; ++i) {
    const int64_t f = c.decoder.ffn_embed_dim[i];
    const int64_t attended = src * EndeAttendedLayers(c.decoder.arbitrary_ende_attn[i]);
    cost.decoder_params += 3 * (dd * q + q) + (q * dd + dd)                   // self-attention
                           + (dd * q + q) + 2 * (de * q + q) + (q * dd + dd)  // enc-dec attention
                           + 3 * (2 * dd)                                     // 3 layer norms
                           + (dd * f + f) + (f * dd + dd);                    // FFN
    cost.decoder_macs += beam * (steps * 4 * dd * q + 2 * cache_sum * q)      // self-attention
                         + beam * steps * (2 * dd * q + 2 * attended * q)     // enc-dec attention
                         + 2 * attended * de * q                              // enc-dec K/V, once
                         + beam * steps * 2 * dd * f;                         // FFN
  }
  cost.output_projection_macs = beam * steps * dd * vocab;
  cost.decoder_macs += cost.output_projection_macs;
  cost.params = cost.embedding_params + cost.encoder_params + cost.decoder_params;
  return cost;
}

}  // namespace hat
