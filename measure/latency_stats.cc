// Latency statistics; see latency_stats.h for the definitions.
#include "measure/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace hat {
namespace {

double Mean(const double* begin, const double* end) {
  return begin == end ? 0.0 : std::accumulate(begin, end, 0.0) / static_cast<double>(end - begin);
}

double SampleStd(const double* begin, const double* end) {
  const auto n = end - begin;
  if (n < 2) return 0.0;
  const double mean = Mean(begin, end);
  double sq = 0;
  for (const double* p = begin; p != end; ++p) sq += (*p - mean) * (*p - mean);
  return std::sqrt(sq / static_cast<double>(n - 1));
}

}  // namespace

double SortedQuantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0.0;
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
}

LatencyStats ComputeLatencyStats(const std::vector<double>& samples) {
  LatencyStats s;
  s.raw_ms = samples;
  s.samples = static_cast<int>(samples.size());
  if (samples.empty()) return s;
  std::vector<double> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  const double* b = sorted.data();
  const double* e = b + sorted.size();
  s.mean_ms = Mean(b, e);
  s.std_ms = SampleStd(b, e);
  s.median_ms = SortedQuantile(sorted, 0.5);
  s.p25_ms = SortedQuantile(sorted, 0.25);
  s.p75_ms = SortedQuantile(sorted, 0.75);
  s.min_ms = sorted.front();
  s.max_ms = sorted.back();

  const size_t n = sorted.size();
  const size_t drop_low = n / 10;
  const size_t drop_high = std::max<size_t>(1, n / 10);
  if (n >= 2 && drop_low + drop_high < n) {
    s.trimmed_mean_ms = Mean(b + drop_low, e - drop_high);
    s.trimmed_std_ms = SampleStd(b + drop_low, e - drop_high);
  } else {
    s.trimmed_mean_ms = s.mean_ms;
    s.trimmed_std_ms = s.std_ms;
  }

  if (n >= 2 && s.median_ms > 0) {
    const double robust_sigma = (s.p75_ms - s.p25_ms) / 1.349;
    s.median_rse = 1.2533 * robust_sigma / std::sqrt(static_cast<double>(n)) / s.median_ms;
  }
  return s;
}

}  // namespace hat
