// Active sampling of a latency dataset: after an initial random batch, measure next the configs
// the predictor is least sure of, so a new device reaches a target accuracy with fewer
// measurements than uniform sampling needs.
//
// Uncertainty is the cost-linear predictor's bootstrap spread relative to its prediction: the
// configs whose latency the current measurements pin down least (in practice the extremes of the
// cost features, where a linear model's coefficients are leveraged most).
#ifndef HATFLEET_PREDICTOR_ACTIVE_SAMPLING_H_
#define HATFLEET_PREDICTOR_ACTIVE_SAMPLING_H_

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "predictor/latency_predictor.h"

namespace hat {

// Round sizes for a dataset of `total` configs: the initial random batch (a fifth, at least 20)
// and each later batch (a twentieth, at least 10); never more than `total`.
int InitialSampleSize(int total);
int ActiveBatchSize(int total);

// The cost-linear predictor on every row of `dataset` (90% to fit, 10% to choose the ridge
// penalty; no test split: the point is the next measurement, not a report).
absl::StatusOr<LatencyPredictor> FitForSampling(const LatencyDataset& dataset,
                                                const CostWorkload& workload, uint64_t seed);

// Indices of the `count` candidates with the highest relative uncertainty (stddev / latency),
// highest first; ties go to the lower index.
absl::StatusOr<std::vector<int>> MostUncertain(
    const LatencyPredictor& predictor,
    const std::vector<std::array<double, kNumHatFeatures>>& candidates, int count);

// The next batch of `count` candidates (given in random order) to measure: half the most
// uncertain, half the first others. Pure uncertainty sampling keeps picking the extremes of the
// cost features; measured on HAT's datasets the half-and-half batch was ahead of uniform sampling
// more often (docs/BENCHMARKS.md), because the random half keeps the typical configs covered.
absl::StatusOr<std::vector<int>> NextBatch(
    const LatencyPredictor& predictor,
    const std::vector<std::array<double, kNumHatFeatures>>& candidates, int count);

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_ACTIVE_SAMPLING_H_
