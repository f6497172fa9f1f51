// Summary statistics of repeated latency samples (milliseconds).
#ifndef HATFLEET_MEASURE_LATENCY_STATS_H_
#define HATFLEET_MEASURE_LATENCY_STATS_H_

#include <vector>

namespace hat {

struct LatencyStats {
  double mean_ms = 0;
  double std_ms = 0;  // sample standard deviation (n - 1)
  double median_ms = 0;
  double p25_ms = 0;
  double p75_ms = 0;
  double min_ms = 0;
  double max_ms = 0;
  // HAT's statistic: samples sorted, the lowest floor(10%) and the highest max(1, floor(10%))
  // dropped, the mean of the rest (all samples when fewer than 2).
  double trimmed_mean_ms = 0;
  double trimmed_std_ms = 0;
  // Estimated relative standard error of the median: 1.2533 * sigma / sqrt(n) / median with the
  // robust sigma = IQR / 1.349 (asymptotic normal approximation of the median's sampling error).
  double median_rse = 0;
  int samples = 0;
  std::vector<double> raw_ms;  // in the order measured
};

// Statistics of `samples`; all zeros (samples = 0) for an empty input.
LatencyStats ComputeLatencyStats(const std::vector<double>& samples);

// Linear-interpolation quantile (the "type 7" of R and numpy) of sorted values; q in [0, 1].
double SortedQuantile(const std::vector<double>& sorted, double q);

}  // namespace hat

#endif  // HATFLEET_MEASURE_LATENCY_STATS_H_
