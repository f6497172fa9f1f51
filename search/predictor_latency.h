// PredictorLatency: a fitted latency predictor (predictor/latency_predictor.h) as the search's
// LatencyModel for one device class.
#ifndef HATFLEET_SEARCH_PREDICTOR_LATENCY_H_
#define HATFLEET_SEARCH_PREDICTOR_LATENCY_H_

#include <utility>
#include <vector>

#include "predictor/latency_predictor.h"
#include "search/search_interfaces.h"

namespace hat {

class PredictorLatency : public LatencyModel {
 public:
  explicit PredictorLatency(LatencyPredictor predictor) : predictor_(std::move(predictor)) {}
  absl::StatusOr<std::vector<double>> PredictMs(
      const std::vector<SubTransformerConfig>& configs) override;
  const LatencyPredictor& predictor() const { return predictor_; }

 private:
  LatencyPredictor predictor_;
};

}  // namespace hat

#endif  // HATFLEET_SEARCH_PREDICTOR_LATENCY_H_
