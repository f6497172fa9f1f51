// Feature vectors a latency predictor reads, computed from HAT's 10 layer-averaged features.
//
// Every cost below is linear in per-layer quantities (a layer's FFN width, the encoder layers a
// decoder layer attends to), so the sum over layers equals layer count × HAT's mean: the same
// features are exact for HAT's CSV datasets and for hatfleet's per-layer data.
//
//   hat10: HAT's features divided by HAT's norms (what HAT's MLP reads).
//   cost:  HAT's 10 features, then analytic MACs of the HAT workload (see common/cost_model.h):
//          encoder attention, encoder FFN, decoder attention (self and enc-dec), decoder FFN,
//          enc-dec keys/values (once per sentence), output projection; then counts that carry
//          per-kernel overheads: encoder heads, decoder self-attention heads, decoder enc-dec
//          heads, attended encoder layers (summed over layers).
#ifndef HATFLEET_PREDICTOR_COST_FEATURES_H_
#define HATFLEET_PREDICTOR_COST_FEATURES_H_

#include <array>
#include <string>
#include <vector>

#include "common/cost_model.h"
#include "common/design_space.h"
#include "common/features.h"

namespace hat {

// The workload the analytic costs describe.
struct CostWorkload {
  int qkv_dim = 512;
  int vocab_size = 32768;
  CostShape shape;  // source tokens, decoder steps, beam

  static CostWorkload ForSpace(const DesignSpace& space, const CostShape& shape = {});
};

// HAT's feature norms for its WMT spaces ([640, 6, 2048, 6, 640, 6, 2048, 6, 6, 2]).
const std::array<double, kNumHatFeatures>& HatWmtFeatureNorms();

inline constexpr int kNumCostFeatures = kNumHatFeatures + 10;
const std::vector<std::string>& CostFeatureNames();

std::vector<double> CostFeatures(const std::array<double, kNumHatFeatures>& hat_features,
                                 const CostWorkload& workload);

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_COST_FEATURES_H_
