// Stored latency predictors (`hatctl predictor fit --out`, the server's predictor versions), read
// from a path. Property: a predictor that loads predicts finite latencies for HAT's published
// feature ranges.
#include <array>
#include <cmath>

#include "predictor/latency_predictor.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hat::fuzz::ScratchFile file("input.predictor");
  const absl::StatusOr<hat::LatencyPredictor> predictor =
      hat::LatencyPredictor::Load(file.Write(data, size));
  if (!predictor.ok()) {
    FUZZ_CHECK(!predictor.status().message().empty(), "a refusal says why");
    return 0;
  }
  // A small and the largest WMT SubTransformer, in HAT's feature order (common/features.h).
  const std::vector<std::array<double, hat::kNumHatFeatures>> features = {
      {512, 6, 1024, 4, 512, 1, 1024, 4, 4, 1},
      {640, 6, 3072, 8, 640, 6, 3072, 8, 8, 2},
  };
  const auto predictions = predictor->Predict(features);
  if (predictions.ok()) {
    for (const auto& p : *predictions) {
      FUZZ_CHECK(std::isfinite(p.latency_ms), "a loaded predictor predicts finite latencies");
    }
  }
  return 0;
}
