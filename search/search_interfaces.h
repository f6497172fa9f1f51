// What the evolutionary search needs from the rest of hatfleet, as two small interfaces, so the
// search core carries no LibTorch, gRPC or RocksDB and its tests run on synthetic functions in
// milliseconds:
//   - FitnessEvaluator: HAT's fitness, the validation loss of a SubTransformer with weights
//     inherited from the SuperTransformer (search/supernet_fitness.h implements it with LibTorch);
//   - LatencyModel: a device's predicted latency (a fitted latency predictor).
#ifndef HATFLEET_SEARCH_SEARCH_INTERFACES_H_
#define HATFLEET_SEARCH_SEARCH_INTERFACES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/subtransformer_config.h"

namespace hat {

class FitnessEvaluator {
 public:
  virtual ~FitnessEvaluator() = default;
  // Validation losses of `configs`, in order; lower is better. The same config must always get
  // the same loss (the search caches them).
  virtual absl::StatusOr<std::vector<double>> Evaluate(
      const std::vector<SubTransformerConfig>& configs) = 0;
  // Names what the losses depend on (the SuperTransformer's checksum and the validation subset),
  // so that cached losses are reused only for the same fitness.
  virtual std::string Identity() const = 0;
};

class LatencyModel {
 public:
  virtual ~LatencyModel() = default;
  // Predicted latencies in milliseconds, in order.
  virtual absl::StatusOr<std::vector<double>> PredictMs(
      const std::vector<SubTransformerConfig>& configs) = 0;
};

// A latency limit on one device class, judged by that class's model. HAT admits a candidate only
// when it is within every limit.
struct LatencyConstraint {
  std::string device_class;
  double limit_ms = 0;
  LatencyModel* model = nullptr;  // not owned
};

}  // namespace hat

#endif  // HATFLEET_SEARCH_SEARCH_INTERFACES_H_
