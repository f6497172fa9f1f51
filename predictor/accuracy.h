// How well predicted latencies match measured ones.
#ifndef HATFLEET_PREDICTOR_ACCURACY_H_
#define HATFLEET_PREDICTOR_ACCURACY_H_

#include <vector>

namespace hat {

struct AccuracyMetrics {
  int rows = 0;
  double rmse_ms = 0;
  double mape_pct = 0;     // mean |predicted - actual| / actual, percent
  double kendall_tau = 0;  // tau-b: rank agreement, what a search needs most
  double within_5pct = 0;  // percent of rows with relative error at most 5%
  double within_10pct = 0;
};

// REQUIRES: same sizes, actual > 0. Empty input gives all zeros.
AccuracyMetrics ComputeAccuracy(const std::vector<double>& predicted,
                                const std::vector<double>& actual);

// Kendall's tau-b of two equally long sequences (ties in either excluded from the pairs that
// count); 0 when fewer than two rows or one side is constant. O(n^2): test sets are thousands.
double KendallTau(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_ACCURACY_H_
