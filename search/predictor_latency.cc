// A latency predictor as the search's latency model; see predictor_latency.h.
#include "search/predictor_latency.h"

#include "common/status_macros.h"

namespace hat {

absl::StatusOr<std::vector<double>> PredictorLatency::PredictMs(
    const std::vector<SubTransformerConfig>& configs) {
  HAT_ASSIGN_OR_RETURN(std::vector<LatencyPrediction> predicted,
                       predictor_.PredictConfigs(configs));
  std::vector<double> ms;
  ms.reserve(predicted.size());
  for (const LatencyPrediction& p : predicted) ms.push_back(p.latency_ms);
  return ms;
}

}  // namespace hat
