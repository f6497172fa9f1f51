#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "common/builtin_spaces.h"
#include "common/cost_model.h"
#include "common/file_util.h"
#include "common/sampling.h"
#include "predictor/accuracy.h"
#include "predictor/cost_features.h"
#include "predictor/dataset_split.h"
#include "predictor/latency_predictor.h"
#include "predictor/linear_fit.h"
#include "tests/predictor/predictor_test_util.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::hat::testing::StatusIs;
using ::hat::testing::SyntheticDataset;
using ::testing::HasSubstr;

TEST(SplitRowsTest, EightyTenTenDisjointAndSeeded) {
  const DatasetSplit a = SplitRows(2000, 1);
  EXPECT_EQ(a.train.size(), 1600u);
  EXPECT_EQ(a.valid.size(), 200u);
  EXPECT_EQ(a.test.size(), 200u);
  std::set<int> all(a.train.begin(), a.train.end());
  all.insert(a.valid.begin(), a.valid.end());
  all.insert(a.test.begin(), a.test.end());
  EXPECT_EQ(all.size(), 2000u);
  EXPECT_EQ(*all.begin(), 0);
  EXPECT_EQ(*all.rbegin(), 1999);
  EXPECT_EQ(SplitRows(2000, 1).test, a.test);
  EXPECT_NE(SplitRows(2000, 2).test, a.test);
}

TEST(AccuracyTest, KnownValues) {
  const AccuracyMetrics m = ComputeAccuracy({110, 190, 300, 400}, {100, 200, 300, 500});
  EXPECT_DOUBLE_EQ(m.rmse_ms, std::sqrt((100.0 + 100 + 0 + 10000) / 4));
  EXPECT_DOUBLE_EQ(m.mape_pct, 100.0 * (0.1 + 0.05 + 0 + 0.2) / 4);
  EXPECT_DOUBLE_EQ(m.within_5pct, 50);   // 190 vs 200 and 300 vs 300
  EXPECT_DOUBLE_EQ(m.within_10pct, 75);  // and 110 vs 100
  EXPECT_DOUBLE_EQ(m.kendall_tau, 1);    // same order
  EXPECT_DOUBLE_EQ(KendallTau({1, 2, 3, 4}, {4, 3, 2, 1}), -1);
  EXPECT_DOUBLE_EQ(KendallTau({1, 2, 3, 4}, {1, 3, 2, 4}), (5.0 - 1.0) / 6.0);
  EXPECT_DOUBLE_EQ(KendallTau({1, 1, 1}, {1, 2, 3}), 0);
}

// The cost features of the layer averages sum to the cost model's per-layer MACs exactly.
TEST(CostFeaturesTest, AgreeWithTheCostModel) {
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  const CostWorkload workload = CostWorkload::ForSpace(space);
  for (const SubTransformerConfig& config : SampleConfigs(space, 50, 3)) {
    ASSERT_OK_AND_ASSIGN(ModelCost cost, EstimateCost(config, space));
    const std::vector<double> f = CostFeatures(HatFeatures(config), workload);
    ASSERT_EQ(f.size(), static_cast<size_t>(kNumCostFeatures));
    ASSERT_EQ(CostFeatureNames().size(), f.size());
    const double encoder = f[10] + f[11];
    const double decoder = f[12] + f[13] + f[14] + f[15];
    EXPECT_NEAR(encoder, cost.encoder_macs, 1e-9 * cost.encoder_macs);
    EXPECT_NEAR(decoder, cost.decoder_macs, 1e-9 * cost.decoder_macs);
    EXPECT_DOUBLE_EQ(f[15], cost.output_projection_macs);
  }
}

TEST(LinearFitTest, RidgeRecoversAnExactLinearRelation) {
  FeatureRows z;
  std::vector<double> y;
  std::vector<int> all;
  for (int i = 0; i < 30; ++i) {
    const double a = i % 7, b = (i * 13) % 11;
    z.push_back({a, b});
    y.push_back(3 + 2 * a - 0.5 * b);
    all.push_back(i);
  }
  ASSERT_OK_AND_ASSIGN(LinearModel m, FitRidge(z, y, all, 1e-9));
  EXPECT_NEAR(m.weights[0], 2, 1e-6);
  EXPECT_NEAR(m.weights[1], -0.5, 1e-6);
  EXPECT_NEAR(m.intercept, 3, 1e-6);
}

TEST(LinearFitTest, OutliersAreLeftOutAndDoNotBendTheFit) {
  LatencyDataset clean = SyntheticDataset(400, 1);
  LatencyDataset dirty = clean;
  const DatasetSplit split = SplitRows(400, 1);
  // 20 training rows measured 4x too slow (a device busy with something else).
  for (int k = 0; k < 20; ++k) dirty.rows[split.train[k]].decoder_ms *= 4;
  LatencyPredictorOptions options;
  ASSERT_OK_AND_ASSIGN(LatencyPredictor robust,
                       LatencyPredictor::FitOnSplit(dirty, split, options));
  EXPECT_GE(robust.accuracy().outliers_dropped(), 20);
  EXPECT_LT(robust.accuracy().test_mape_pct(), 0.5);
  options.linear.outlier_sigmas = 0;  // plain least squares is pulled by the outliers
  ASSERT_OK_AND_ASSIGN(LatencyPredictor plain, LatencyPredictor::FitOnSplit(dirty, split, options));
  EXPECT_EQ(plain.accuracy().outliers_dropped(), 0);
  EXPECT_GT(plain.accuracy().test_mape_pct(), 5 * robust.accuracy().test_mape_pct());
}

TEST(CostLinearTest, LearnsALinearDeviceFromFewRows) {
  const LatencyDataset dataset = SyntheticDataset(1000, 2, /*relative_noise=*/0.01);
  LatencyPredictorOptions options;
  options.max_train_rows = 40;
  ASSERT_OK_AND_ASSIGN(LatencyPredictor p, LatencyPredictor::Fit(dataset, options));
  EXPECT_EQ(p.accuracy().train_rows(), 40);
  EXPECT_EQ(p.accuracy().test_rows(), 100);
  EXPECT_LT(p.accuracy().test_mape_pct(), 1.5);
  EXPECT_GT(p.accuracy().test_kendall_tau(), 0.95);
  // Noisy data: the bootstrap members disagree a little, and the spread is reported.
  ASSERT_OK_AND_ASSIGN(auto predictions, p.Predict({dataset.rows[0].hat_features}));
  EXPECT_GT(predictions[0].stddev_ms, 0);
  EXPECT_LT(predictions[0].stddev_ms, 0.05 * predictions[0].latency_ms);
}

TEST(CostLinearTest, KeepsEveryTestRowsMeasuredAndPredictedLatency) {
  const LatencyDataset dataset = SyntheticDataset(300, 2, 0.05);
  ASSERT_OK_AND_ASSIGN(LatencyPredictor p, LatencyPredictor::Fit(dataset, {}));
  const v1::PredictorAccuracy& a = p.accuracy();
  ASSERT_EQ(a.test_points_size(), a.test_rows());
  // The points are the rows the figures were computed on: their RMSE is the reported one.
  double squared = 0;
  for (const v1::PredictedPoint& point : a.test_points()) {
    EXPECT_GT(point.measured_ms(), 0);
    squared +=
        (point.predicted_ms() - point.measured_ms()) * (point.predicted_ms() - point.measured_ms());
  }
  EXPECT_NEAR(std::sqrt(squared / a.test_points_size()), a.test_rmse_ms(), 1e-9);
}

TEST(CostLinearTest, DeterministicForASeed) {
  const LatencyDataset dataset = SyntheticDataset(300, 3, 0.05);
  LatencyPredictorOptions options;
  ASSERT_OK_AND_ASSIGN(LatencyPredictor a, LatencyPredictor::Fit(dataset, options));
  ASSERT_OK_AND_ASSIGN(LatencyPredictor b, LatencyPredictor::Fit(dataset, options));
  v1::LatencyPredictor pa = a.proto(), pb = b.proto();
  pa.mutable_accuracy()->clear_fit_seconds();
  pb.mutable_accuracy()->clear_fit_seconds();
  EXPECT_EQ(pa.SerializeAsString(), pb.SerializeAsString());
  options.seed = 4;
  ASSERT_OK_AND_ASSIGN(LatencyPredictor c, LatencyPredictor::Fit(dataset, options));
  EXPECT_NE(c.accuracy().test_rmse_ms(), a.accuracy().test_rmse_ms());
}

TEST(LatencyPredictorTest, RefusesTooFewRowsAndBadOptions) {
  const LatencyDataset dataset = SyntheticDataset(2, 1);  // 1 training row
  EXPECT_THAT(LatencyPredictor::Fit(dataset, {}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("at least 2 training rows")));
  LatencyPredictorOptions options;
  options.max_train_rows = -3;
  EXPECT_THAT(LatencyPredictor::Fit(SyntheticDataset(50, 1), options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--train-rows=-3")));
  EXPECT_THAT(ParsePredictorModel("xgboost"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hat-mlp")));
}

TEST(LatencyPredictorTest, SaveLoadRoundTripPredictsTheSame) {
  hat::testing::TempDir dir;
  const LatencyDataset dataset = SyntheticDataset(200, 5, 0.02);
  ASSERT_OK_AND_ASSIGN(LatencyPredictor p, LatencyPredictor::Fit(dataset, {}));
  ASSERT_THAT(p.Save(dir.File("p.bin")), hat::testing::IsOk());
  ASSERT_OK_AND_ASSIGN(LatencyPredictor q, LatencyPredictor::Load(dir.File("p.bin")));
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  const auto configs = SampleConfigs(space, 20, 9);
  ASSERT_OK_AND_ASSIGN(auto a, p.PredictConfigs(configs));
  ASSERT_OK_AND_ASSIGN(auto b, q.PredictConfigs(configs));
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].latency_ms, b[i].latency_ms);
    EXPECT_EQ(a[i].stddev_ms, b[i].stddev_ms);
  }
  EXPECT_EQ(q.accuracy().test_rmse_ms(), p.accuracy().test_rmse_ms());
}

TEST(LatencyPredictorTest, LoadRefusesForeignNewerAndInconsistentFiles) {
  hat::testing::TempDir dir;
  ASSERT_THAT(WriteFileAtomically(dir.File("junk"), "\xff\xff\xff not a predictor"),
              hat::testing::IsOk());
  EXPECT_THAT(LatencyPredictor::Load(dir.File("junk")),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("junk")));
  EXPECT_THAT(LatencyPredictor::Load(dir.File("missing")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing")));

  ASSERT_OK_AND_ASSIGN(LatencyPredictor p, LatencyPredictor::Fit(SyntheticDataset(100, 1), {}));
  v1::LatencyPredictor newer = p.proto();
  newer.set_format_version(kPredictorFormatVersion + 1);
  EXPECT_THAT(LatencyPredictor::FromProto(newer),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("newer hatfleet")));
  v1::LatencyPredictor short_member = p.proto();
  short_member.mutable_linear_members(0)->mutable_weights()->RemoveLast();
  EXPECT_THAT(LatencyPredictor::FromProto(short_member),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member 0")));
  v1::LatencyPredictor zero_scale = p.proto();
  zero_scale.set_feature_scale(3, 0);
  EXPECT_THAT(LatencyPredictor::FromProto(zero_scale),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("scale must be positive")));
}

// Found by fuzzing (tests/fuzz/fuzz_predictor_file.cc): a stored predictor with a weight that is
// not a number loaded and predicted NaN latencies, which a search compares as neither feasible
// nor infeasible. Non-finite numbers are refused on load, and a prediction that overflows is an
// error, not a number.
TEST(LatencyPredictorTest, NonFiniteNumbersAreRefusedAndOverflowIsAnError) {
  ASSERT_OK_AND_ASSIGN(LatencyPredictor p, LatencyPredictor::Fit(SyntheticDataset(100, 1), {}));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  v1::LatencyPredictor nan_weight = p.proto();
  nan_weight.mutable_linear_members(1)->set_weights(2, nan);
  EXPECT_THAT(LatencyPredictor::FromProto(nan_weight),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("member 1 has a weight that is not a finite number")));
  v1::LatencyPredictor inf_intercept = p.proto();
  inf_intercept.mutable_linear_members(0)->set_intercept(-inf);
  EXPECT_THAT(LatencyPredictor::FromProto(inf_intercept),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("member 0")));
  v1::LatencyPredictor inf_scale = p.proto();
  inf_scale.set_target_scale(inf);
  EXPECT_THAT(LatencyPredictor::FromProto(inf_scale),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("target_scale")));
  v1::LatencyPredictor inf_feature_scale = p.proto();
  inf_feature_scale.set_feature_scale(0, inf);
  EXPECT_THAT(LatencyPredictor::FromProto(inf_feature_scale),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("positive and finite")));

  v1::LatencyPredictor huge = p.proto();
  for (int f = 0; f < huge.linear_members(0).weights_size(); ++f) {
    huge.mutable_linear_members(0)->set_weights(f, 1e308);
  }
  ASSERT_OK_AND_ASSIGN(LatencyPredictor overflowing, LatencyPredictor::FromProto(huge));
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  EXPECT_THAT(overflowing.PredictConfigs(SampleConfigs(space, 3, 1)),
              StatusIs(absl::StatusCode::kOutOfRange, HasSubstr("not a finite number")));
}

TEST(LatencyPredictorTest, PredictConfigsRefusesMalformedConfigs) {
  ASSERT_OK_AND_ASSIGN(LatencyPredictor p, LatencyPredictor::Fit(SyntheticDataset(100, 1), {}));
  SubTransformerConfig broken = SmallestConfig(*BuiltinSpace("hat-wmt14-en-de"));
  broken.decoder.layer_num = 0;
  EXPECT_THAT(p.PredictConfigs({broken}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("config 0")));
}

MlpOptions SmallMlp() {
  MlpOptions o;
  o.hidden_dim = 32;
  o.hidden_layer_num = 1;
  o.learning_rate = 1e-2;
  o.train_steps = 300;
  o.batch_size = 64;
  return o;
}

TEST(HatMlpTest, LearnsAndIsDeterministicForASeed) {
  const LatencyDataset dataset = SyntheticDataset(500, 4, 0.01);
  LatencyPredictorOptions options;
  options.model = v1::PREDICTOR_MODEL_HAT_MLP;
  options.mlp = SmallMlp();
  ASSERT_OK_AND_ASSIGN(LatencyPredictor a, LatencyPredictor::Fit(dataset, options));
  ASSERT_OK_AND_ASSIGN(LatencyPredictor b, LatencyPredictor::Fit(dataset, options));
  EXPECT_EQ(a.proto().mlp().SerializeAsString(), b.proto().mlp().SerializeAsString());
  EXPECT_EQ(a.proto().mlp().layers_size(), 3);  // 10 -> 32, 32 -> 32, 32 -> 1
  // Far better than predicting the mean (whose MAPE on this data is tens of percent).
  EXPECT_LT(a.accuracy().test_mape_pct(), 10);
  EXPECT_GT(a.accuracy().test_kendall_tau(), 0.8);
  options.seed = 2;
  ASSERT_OK_AND_ASSIGN(LatencyPredictor c, LatencyPredictor::Fit(dataset, options));
  EXPECT_NE(c.proto().mlp().SerializeAsString(), a.proto().mlp().SerializeAsString());

  hat::testing::TempDir dir;
  ASSERT_THAT(a.Save(dir.File("mlp.bin")), hat::testing::IsOk());
  ASSERT_OK_AND_ASSIGN(LatencyPredictor loaded, LatencyPredictor::Load(dir.File("mlp.bin")));
  ASSERT_OK_AND_ASSIGN(auto pa, a.Predict({dataset.rows[7].hat_features}));
  ASSERT_OK_AND_ASSIGN(auto pl, loaded.Predict({dataset.rows[7].hat_features}));
  EXPECT_EQ(pa[0].latency_ms, pl[0].latency_ms);
}

TEST(HatMlpTest, EarlyStoppingKeepsTheBestValidationWeights) {
  const LatencyDataset dataset = SyntheticDataset(300, 6, 0.01);
  LatencyPredictorOptions options;
  options.model = v1::PREDICTOR_MODEL_HAT_MLP;
  options.mlp = SmallMlp();
  options.mlp.learning_rate = 0.5;  // diverges after a few steps: the last weights are bad
  options.mlp.eval_every = 1;
  ASSERT_OK_AND_ASSIGN(LatencyPredictor last, LatencyPredictor::Fit(dataset, options));
  options.mlp.early_stopping = true;
  ASSERT_OK_AND_ASSIGN(LatencyPredictor best, LatencyPredictor::Fit(dataset, options));
  EXPECT_LE(best.accuracy().valid_rmse_ms(), last.accuracy().valid_rmse_ms());
}

TEST(HatMlpTest, StopsWhenAskedWithCancelled) {
  LatencyPredictorOptions options;
  options.model = v1::PREDICTOR_MODEL_HAT_MLP;
  options.mlp = SmallMlp();
  options.mlp.eval_every = 10;
  int asked = 0;
  options.mlp.should_stop = [&asked] { return ++asked == 3; };
  EXPECT_THAT(LatencyPredictor::Fit(SyntheticDataset(100, 1), options),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("step 30 of 300")));
}

TEST(HatMlpTest, RefusesBadOptions) {
  LatencyPredictorOptions options;
  options.model = v1::PREDICTOR_MODEL_HAT_MLP;
  options.mlp.train_steps = 0;
  EXPECT_THAT(LatencyPredictor::Fit(SyntheticDataset(50, 1), options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("train_steps=0")));
  options.mlp = SmallMlp();
  options.feature_norm[2] = 0;
  EXPECT_THAT(LatencyPredictor::Fit(SyntheticDataset(50, 1), options),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("encoder_ffn_embed_dim_avg")));
}

}  // namespace
}  // namespace hat
