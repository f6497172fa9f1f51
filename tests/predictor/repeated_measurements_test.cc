// Repeated measurements: one row per config, and host drift removed using the repeats.
#include "predictor/repeated_measurements.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/prng.h"

namespace hat {
namespace {

LatencyRecord Measurement(const std::string& key, double encoder_ms, double decoder_ms,
                          int64_t started_at_ms = 0) {
  LatencyRecord r;
  r.config_key = key;
  r.encoder_ms = encoder_ms;
  r.decoder_ms = decoder_ms;
  r.started_at_ms = started_at_ms;
  r.hat_features[0] = encoder_ms;  // tells rows apart in the assertions
  return r;
}

TEST(CombineRepeatedMeasurementsTest, OneRowPerConfigWithTheMedians) {
  LatencyDataset d;
  d.rows = {Measurement("a", 10, 100), Measurement("b", 5, 50), Measurement("a", 12, 90),
            Measurement("a", 11, 95), Measurement("c", 7, 70)};
  RepeatedMeasurementOptions options;
  options.correct_host_drift = false;
  CombineRepeatedMeasurements(&d, options);
  ASSERT_EQ(d.rows.size(), 3u);
  EXPECT_EQ(d.measurements, 5);
  EXPECT_EQ(d.drift_corrected, 0);
  // Order of first appearance; "a" is the median of its three measurements, part by part.
  EXPECT_EQ(d.rows[0].config_key, "a");
  EXPECT_DOUBLE_EQ(d.rows[0].encoder_ms, 11);
  EXPECT_DOUBLE_EQ(d.rows[0].decoder_ms, 95);
  EXPECT_EQ(d.rows[1].config_key, "b");
  EXPECT_DOUBLE_EQ(d.rows[1].decoder_ms, 50);
  EXPECT_EQ(d.rows[2].config_key, "c");
}

TEST(CombineRepeatedMeasurementsTest, TwoMeasurementsGiveTheirMean) {
  LatencyDataset d;
  d.rows = {Measurement("a", 10, 100), Measurement("a", 14, 110)};
  CombineRepeatedMeasurements(&d);
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_DOUBLE_EQ(d.rows[0].encoder_ms, 12);
  EXPECT_DOUBLE_EQ(d.rows[0].decoder_ms, 105);
}

TEST(CombineRepeatedMeasurementsTest, RowsWithoutAKeyAreNeverMerged) {
  // HAT's CSV has no config identity: equal features need not be the same config.
  LatencyDataset d;
  d.rows = {Measurement("", 10, 100), Measurement("", 10, 100)};
  CombineRepeatedMeasurements(&d);
  EXPECT_EQ(d.rows.size(), 2u);
  EXPECT_EQ(d.drift_corrected, 0);
}

// A host whose speed swings slowly: factor 1 + 6% sin over a 10-minute period.
double HostDrift(int64_t t_ms) { return 1.0 + 0.06 * std::sin(2 * M_PI * t_ms / 600000.0); }

// `configs` configs with known latencies, measured pass by pass `passes` times (each pass in
// its own order, as a latency-dataset job with repeats does), one measurement every 5 s, each
// with a small deterministic noise of its own.
std::vector<LatencyRecord> DriftingCollection(int configs, int passes,
                                              std::vector<double>* true_decoder_ms) {
  std::vector<LatencyRecord> rows;
  true_decoder_ms->clear();
  for (int c = 0; c < configs; ++c) true_decoder_ms->push_back(100 + 13.0 * ((c * 7) % 31));
  std::vector<int> order(configs);
  std::iota(order.begin(), order.end(), 0);
  Prng prng(7);
  int64_t t = 0;
  for (int pass = 0; pass < passes; ++pass) {
    if (pass > 0) prng.Shuffle(order);
    for (int c : order) {
      t += 5000;
      const double noise = 1 + 0.002 * (((c * 5 + pass * 3) % 7) - 3) / 3.0;
      const double decoder = (*true_decoder_ms)[c] * HostDrift(t) * noise;
      rows.push_back(Measurement(absl::StrCat("config-", c), decoder / 10, decoder, t + 1));
    }
  }
  return rows;
}

// Mean absolute error in percent, up to one common factor: labels are relative to the host's
// average state over the collection, which no correction can know in absolute terms.
double MeanAbsPctError(const LatencyDataset& d, const std::vector<double>& truth) {
  double mean_log_ratio = 0;
  for (size_t c = 0; c < d.rows.size(); ++c) {
    mean_log_ratio += std::log(d.rows[c].decoder_ms / truth[c]) / d.rows.size();
  }
  double sum = 0;
  for (size_t c = 0; c < d.rows.size(); ++c) {
    sum += std::abs(std::log(d.rows[c].decoder_ms / truth[c]) - mean_log_ratio);
  }
  return 100 * sum / d.rows.size();
}

TEST(CorrectHostDriftTest, RepeatsRemoveASlowHostSwing) {
  std::vector<double> truth;
  LatencyDataset raw;
  raw.rows = DriftingCollection(/*configs=*/60, /*passes=*/3, &truth);  // 15 min: 1.5 periods
  LatencyDataset corrected = raw;
  RepeatedMeasurementOptions off;
  off.correct_host_drift = false;
  CombineRepeatedMeasurements(&raw, off);
  CombineRepeatedMeasurements(&corrected);
  ASSERT_EQ(corrected.rows.size(), 60u);
  EXPECT_EQ(corrected.measurements, 180);
  EXPECT_EQ(corrected.drift_corrected, 180);
  const double before = MeanAbsPctError(raw, truth);
  const double after = MeanAbsPctError(corrected, truth);
  EXPECT_GT(before, 1.0);  // the swing shows in the medians of three
  EXPECT_LT(after, 0.3);   // and is gone after the correction
}

TEST(CorrectHostDriftTest, AConfigMeasuredOnceIsCorrectedByItsNeighbours) {
  std::vector<double> truth;
  std::vector<LatencyRecord> rows = DriftingCollection(40, 3, &truth);
  // One more config, measured once at the top of the swing (t = 150 s: +6%).
  rows.push_back(Measurement("single", 20, 200 * HostDrift(150000), 150000));
  ASSERT_EQ(CorrectHostDrift(&rows), static_cast<int>(rows.size()));
  EXPECT_NEAR(rows.back().decoder_ms, 200, 200 * 0.01);
}

TEST(CorrectHostDriftTest, MeasurementsFarFromAnyRepeatAreLeftAlone) {
  std::vector<double> truth;
  std::vector<LatencyRecord> rows = DriftingCollection(40, 3, &truth);
  // From another job, three hours later: the repeats say nothing about the host then.
  rows.push_back(Measurement("later", 20, 200, 3 * 3600 * 1000));
  ASSERT_EQ(CorrectHostDrift(&rows), static_cast<int>(rows.size()) - 1);
  EXPECT_DOUBLE_EQ(rows.back().decoder_ms, 200);
}

TEST(CorrectHostDriftTest, OneSlowMeasurementDoesNotMoveItsNeighbours) {
  // No drift at all; one measurement hit by a 50% hiccup.
  std::vector<LatencyRecord> rows;
  for (int pass = 0; pass < 3; ++pass) {
    for (int c = 0; c < 20; ++c) {
      const int64_t t = 1 + 5000 * (pass * 20 + c);
      const double slow = pass == 1 && c == 10 ? 1.5 : 1.0;
      rows.push_back(Measurement(absl::StrCat("config-", c), 10, (100 + c) * slow, t));
    }
  }
  LatencyDataset d;
  d.rows = rows;
  CombineRepeatedMeasurements(&d);
  for (int c = 0; c < 20; ++c) {
    EXPECT_NEAR(d.rows[c].decoder_ms, 100 + c, (100 + c) * 0.001) << "config " << c;
  }
}

TEST(CorrectHostDriftTest, NothingToLearnWithoutRepeatsOrTimes) {
  std::vector<LatencyRecord> distinct;
  for (int c = 0; c < 20; ++c) distinct.push_back(Measurement(absl::StrCat(c), 1, 10 + c, 1 + c));
  const std::vector<LatencyRecord> before = distinct;
  EXPECT_EQ(CorrectHostDrift(&distinct), 0);
  for (size_t i = 0; i < distinct.size(); ++i) {
    EXPECT_DOUBLE_EQ(distinct[i].decoder_ms, before[i].decoder_ms);
  }
  std::vector<LatencyRecord> untimed;
  for (int pass = 0; pass < 3; ++pass) {
    for (int c = 0; c < 10; ++c) untimed.push_back(Measurement(absl::StrCat(c), 1, 10 + pass));
  }
  EXPECT_EQ(CorrectHostDrift(&untimed), 0);
  EXPECT_DOUBLE_EQ(untimed[0].decoder_ms, 10);
}

}  // namespace
}  // namespace hat
