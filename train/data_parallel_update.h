// The gradient exchange of one data-parallel SuperTransformer update.
//
// Every rank samples the same SubTransformer (from seed and step), computes the summed loss of
// its shard of the batch and backpropagates it. Then the gradients are summed over the ranks,
// but only over the regions of the parameters that SubTransformer touched (the leading slices it
// computes with: HAT's weight sharing; the rest of a parameter's gradient is zero everywhere),
// together with the shards' loss and token counts, in one collective, and divided by the batch's
// target tokens. Every rank then holds the gradient a single process would have computed on the
// whole batch (up to the order of float additions) and applies the same update.
#ifndef HATFLEET_TRAIN_DATA_PARALLEL_UPDATE_H_
#define HATFLEET_TRAIN_DATA_PARALLEL_UPDATE_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/sub_transformer_weights.h"
#include "train/data_parallel.h"

namespace hat {

struct BatchSums {
  double loss = 0;  // label-smoothed, summed over target tokens
  double nll = 0;
  int64_t target_tokens = 0;
  int64_t source_tokens = 0;
};

// The leading region of each parameter that `weights` (views of `params`, from
// SuperTransformer::Slice) reads: one entry per touched parameter, in `params` order, as the
// extent of each dimension. A view that is not a leading slice counts as the whole parameter.
struct TouchedRegion {
  size_t param = 0;
  std::vector<int64_t> extent;
};
std::vector<TouchedRegion> TouchedRegions(const std::vector<at::Tensor>& params,
                                          const SubTransformerWeights& weights);

// Sums the touched gradient regions and `local` over the group, then divides the gradients by the
// batch's target tokens. A touched parameter without a gradient (this rank's shard was empty)
// gets zeros first. Returns the batch's sums. UNAVAILABLE when a rank is gone.
absl::StatusOr<BatchSums> AllReduceUpdate(DataParallelGroup& group,
                                          const std::vector<at::Tensor>& params,
                                          const std::vector<TouchedRegion>& regions,
                                          const BatchSums& local, int64_t step);

}  // namespace hat

#endif  // HATFLEET_TRAIN_DATA_PARALLEL_UPDATE_H_
