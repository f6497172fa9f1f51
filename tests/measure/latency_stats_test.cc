// Latency statistics against hand-computed values.
#include "measure/latency_stats.h"

#include <gtest/gtest.h>

#include <cmath>

namespace hat {
namespace {

TEST(LatencyStatsTest, HandComputedValues) {
  const LatencyStats s = ComputeLatencyStats({4, 1, 3, 2, 100, 5, 6, 7, 8, 9});
  EXPECT_EQ(s.samples, 10);
  EXPECT_DOUBLE_EQ(s.mean_ms, 14.5);
  EXPECT_DOUBLE_EQ(s.median_ms, 5.5);
  EXPECT_DOUBLE_EQ(s.p25_ms, 3.25);  // type-7 quantile: 1 + 0.25 * 9 = position 2.25
  EXPECT_DOUBLE_EQ(s.p75_ms, 7.75);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_DOUBLE_EQ(s.max_ms, 100);
  // HAT: drop floor(10%) = 1 lowest and max(1, 1) = 1 highest: mean of 2..9.
  EXPECT_DOUBLE_EQ(s.trimmed_mean_ms, 5.5);
  EXPECT_DOUBLE_EQ(s.median_rse, 1.2533 * (4.5 / 1.349) / std::sqrt(10.0) / 5.5);
  EXPECT_EQ(s.raw_ms.size(), 10u);
  EXPECT_EQ(s.raw_ms[4], 100) << "raw samples keep measurement order";
}

TEST(LatencyStatsTest, HatTrimmingOfTwentyRunsKeepsTheMiddleSixteen) {
  std::vector<double> v;
  for (int i = 1; i <= 20; ++i) v.push_back(i);
  // Drop 1, 2 and 19, 20: the mean of 3..18 is 10.5.
  EXPECT_DOUBLE_EQ(ComputeLatencyStats(v).trimmed_mean_ms, 10.5);
}

TEST(LatencyStatsTest, FewSamplesStillDropTheHighest) {
  // Five samples: floor(0.5) = 0 dropped low, max(1, 0) = 1 dropped high.
  EXPECT_DOUBLE_EQ(ComputeLatencyStats({5, 1, 2, 3, 4}).trimmed_mean_ms, 2.5);
  // Two samples (HAT's Raspberry Pi protocol): the lower one remains.
  EXPECT_DOUBLE_EQ(ComputeLatencyStats({7, 3}).trimmed_mean_ms, 3);
  EXPECT_DOUBLE_EQ(ComputeLatencyStats({7}).trimmed_mean_ms, 7);
}

TEST(LatencyStatsTest, StandardDeviationIsTheSampleOne) {
  EXPECT_DOUBLE_EQ(ComputeLatencyStats({2, 4, 4, 4, 5, 5, 7, 9}).std_ms, std::sqrt(32.0 / 7));
}

TEST(LatencyStatsTest, EmptyInputIsAllZeros) {
  const LatencyStats s = ComputeLatencyStats({});
  EXPECT_EQ(s.samples, 0);
  EXPECT_EQ(s.median_ms, 0);
}

}  // namespace
}  // namespace hat
