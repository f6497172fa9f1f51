// Latency workloads: a standalone SubTransformer with random weights on a device, running the
// measurement protocol's dummy input (HAT's: a source of `source_tokens` tokens, batch 1; the
// decoder run incrementally for `decoder_steps` steps on `beam` hypotheses, output projection
// included). Torch-free header: the agent and hatctl use it without LibTorch headers.
#ifndef HATFLEET_ENGINE_LATENCY_WORKLOAD_H_
#define HATFLEET_ENGINE_LATENCY_WORKLOAD_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"
#include "measure/timed_workload.h"

namespace hat {

class SubTransformer;

struct WorkloadShape {
  int source_tokens = 30;
  int decoder_steps = 30;
  int beam = 5;
};

// Builds workloads for configs of one design space. Each SubTransformer is built at its own size
// with random weights (SubTransformer::Random): latency does not depend on the weights' values,
// and a device then holds only the model it measures, not a whole SuperTransformer (a Raspberry
// Pi shares 1-8 GB with the measurement).
class LatencyWorkloadFactory {
 public:
  // `device` is "cpu" or "cuda" (CheckDevice); weights are drawn from `seed`.
  static absl::StatusOr<std::unique_ptr<LatencyWorkloadFactory>> Create(const DesignSpace& space,
                                                                        const std::string& device,
                                                                        uint64_t seed);
  ~LatencyWorkloadFactory();

  // The workload of `config`: INVALID_ARGUMENT for an out-of-space config or a shape beyond the
  // space's max positions; the model is built and moved to the device here.
  absl::StatusOr<std::unique_ptr<TimedWorkload>> Create(const SubTransformerConfig& config,
                                                        const WorkloadShape& shape) const;

 private:
  LatencyWorkloadFactory() = default;
  DesignSpace space_;
  std::string device_;
  uint64_t seed_ = 1;
};

// The workload of a SubTransformer built elsewhere (extracted, loaded or random), moved to
// `device` here. INVALID_ARGUMENT for a shape beyond the model's max positions.
absl::StatusOr<std::unique_ptr<TimedWorkload>> MakeLatencyWorkload(SubTransformer model,
                                                                   const WorkloadShape& shape,
                                                                   const std::string& device);

}  // namespace hat

#endif  // HATFLEET_ENGINE_LATENCY_WORKLOAD_H_
