// Active sampling; see active_sampling.h.
#include "predictor/active_sampling.h"

#include <algorithm>
#include <numeric>

#include "common/status_macros.h"

namespace hat {

int InitialSampleSize(int total) { return std::min(total, std::max(20, total / 5)); }
int ActiveBatchSize(int total) { return std::min(total, std::max(10, total / 20)); }

absl::StatusOr<LatencyPredictor> FitForSampling(const LatencyDataset& dataset,
                                                const CostWorkload& workload, uint64_t seed) {
  const int rows = static_cast<int>(dataset.rows.size());
  DatasetSplit split = SplitRows(rows, seed);
  // Fold the test part into training: 90% train, 10% valid.
  split.train.insert(split.train.end(), split.test.begin(), split.test.end());
  split.test.clear();
  LatencyPredictorOptions options;
  options.seed = seed;
  options.workload = workload;
  return LatencyPredictor::FitOnSplit(dataset, split, options);
}

absl::StatusOr<std::vector<int>> MostUncertain(
    const LatencyPredictor& predictor,
    const std::vector<std::array<double, kNumHatFeatures>>& candidates, int count) {
  HAT_ASSIGN_OR_RETURN(std::vector<LatencyPrediction> predictions, predictor.Predict(candidates));
  std::vector<double> score(predictions.size());
  for (size_t i = 0; i < score.size(); ++i) {
    score[i] = predictions[i].stddev_ms / std::max(1e-9, std::abs(predictions[i].latency_ms));
  }
  std::vector<int> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  const int k = std::clamp(count, 0, static_cast<int>(order.size()));
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int a, int b) {
    return score[a] != score[b] ? score[a] > score[b] : a < b;
  });
  order.resize(k);
  return order;
}

absl::StatusOr<std::vector<int>> NextBatch(
    const LatencyPredictor& predictor,
    const std::vector<std::array<double, kNumHatFeatures>>& candidates, int count) {
  const int k = std::clamp(count, 0, static_cast<int>(candidates.size()));
  HAT_ASSIGN_OR_RETURN(std::vector<int> batch, MostUncertain(predictor, candidates, (k + 1) / 2));
  std::vector<bool> taken(candidates.size(), false);
  for (int i : batch) taken[i] = true;
  for (int i = 0; i < static_cast<int>(candidates.size()) && static_cast<int>(batch.size()) < k;
       ++i) {
    if (!taken[i]) batch.push_back(i);
  }
  return batch;
}

}  // namespace hat
