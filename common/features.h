// Feature vectors of a SubTransformer for latency predictors.
//
// HatFeatures: HAT's 10 features exactly as HAT's latency predictor computes them (means over
// the active layers only; arbitrary attention -1/1/2 counted as 1/2/3 attended encoder layers),
// with HAT's CSV column names.
// PerLayerFeatures: every active layer's own values, so a predictor can see what the means hide.
#ifndef HATFLEET_COMMON_FEATURES_H_
#define HATFLEET_COMMON_FEATURES_H_

#include <array>
#include <string>
#include <vector>

#include "common/design_space.h"
#include "common/subtransformer_config.h"

namespace hat {

inline constexpr int kNumHatFeatures = 10;

// HAT's column names, in HAT's order (the header of its latency CSV files).
const std::array<const char*, kNumHatFeatures>& HatFeatureNames();

// REQUIRES: ValidateConfigShape(config).ok().
std::array<double, kNumHatFeatures> HatFeatures(const SubTransformerConfig& config);

// Names of PerLayerFeatures() for a space: "encoder_embed_dim", "encoder_layer_num", then per
// encoder layer i "encoder.i.active", "encoder.i.ffn_embed_dim", "encoder.i.self_attention_heads";
// the same for the decoder plus "decoder.i.ende_attention_heads" and "decoder.i.ende_layers".
std::vector<std::string> PerLayerFeatureNames(const DesignSpace& space);

// Inactive layers are all zeros (active = 0). REQUIRES: ValidateConfig(config, space).ok().
std::vector<double> PerLayerFeatures(const SubTransformerConfig& config, const DesignSpace& space);

}  // namespace hat

#endif  // HATFLEET_COMMON_FEATURES_H_
