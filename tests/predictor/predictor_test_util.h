// Synthetic latency datasets whose true latency is known, for predictor tests.
#ifndef HATFLEET_TESTS_PREDICTOR_PREDICTOR_TEST_UTIL_H_
#define HATFLEET_TESTS_PREDICTOR_PREDICTOR_TEST_UTIL_H_

#include <cmath>
#include <vector>

#include "common/builtin_spaces.h"
#include "common/cost_model.h"
#include "common/prng.h"
#include "common/sampling.h"
#include "predictor/latency_records.h"

namespace hat::testing {

// A device whose latency is linear in the analytic costs: 0.1 ms per GMAC of encoder, 0.3 ms per
// GMAC of decoder, 2 ms per decoder layer, 1 ms fixed; multiplied by (1 + noise) with noise
// uniform in [-relative_noise, relative_noise].
inline LatencyDataset SyntheticDataset(int rows, uint64_t seed, double relative_noise = 0.0) {
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  Prng noise(seed ^ 0x5eed);
  LatencyDataset dataset;
  for (const SubTransformerConfig& config : SampleConfigs(space, rows, seed)) {
    const ModelCost cost = *EstimateCost(config, space);
    const double factor = 1 + relative_noise * (2 * noise.UniformDouble() - 1);
    LatencyRecord r;
    r.hat_features = HatFeatures(config);
    r.encoder_ms = (1.0 + 0.1e-9 * cost.encoder_macs) * factor;
    r.decoder_ms = (0.3e-9 * cost.decoder_macs + 2.0 * config.decoder.layer_num) * factor;
    dataset.rows.push_back(r);
  }
  return dataset;
}

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_PREDICTOR_PREDICTOR_TEST_UTIL_H_
