// Fitting, checking, storing and running latency predictors; see latency_predictor.h.
#include "predictor/latency_predictor.h"

#include <chrono>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "predictor/accuracy.h"

namespace hat {
namespace {

v1::CostContext ToProto(const CostWorkload& w) {
  v1::CostContext c;
  c.set_qkv_dim(w.qkv_dim);
  c.set_vocab_size(w.vocab_size);
  c.set_source_tokens(w.shape.source_tokens);
  c.set_decoder_steps(w.shape.decoder_steps);
  c.set_beam(w.shape.beam);
  return c;
}

CostWorkload FromProto(const v1::CostContext& c) {
  CostWorkload w;
  w.qkv_dim = c.qkv_dim();
  w.vocab_size = c.vocab_size();
  w.shape = CostShape{c.source_tokens(), c.decoder_steps(), c.beam()};
  return w;
}

absl::Status CheckWorkload(const CostWorkload& w) {
  if (w.qkv_dim < 1 || w.vocab_size < 1 || w.shape.source_tokens < 1 || w.shape.decoder_steps < 1 ||
      w.shape.beam < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cost workload: qkv_dim=", w.qkv_dim, " vocab_size=", w.vocab_size,
        " source_tokens=", w.shape.source_tokens, " decoder_steps=", w.shape.decoder_steps,
        " beam=", w.shape.beam, ": each must be at least 1"));
  }
  return absl::OkStatus();
}

double MeanTotal(const LatencyDataset& d, const std::vector<int>& rows) {
  double sum = 0;
  for (int i : rows) sum += d.rows[i].total_ms();
  return sum / rows.size();
}

}  // namespace

absl::StatusOr<v1::PredictorModelKind> ParsePredictorModel(const std::string& name) {
  if (name == "hat-mlp") return v1::PREDICTOR_MODEL_HAT_MLP;
  if (name == "default" || name == "cost-linear") return v1::PREDICTOR_MODEL_COST_LINEAR;
  return absl::InvalidArgumentError(
      absl::StrCat("--model=", name, ": expected hat-mlp (HAT's MLP) or default (cost-linear)"));
}

std::string PredictorModelName(v1::PredictorModelKind kind) {
  switch (kind) {
    case v1::PREDICTOR_MODEL_HAT_MLP:
      return "hat-mlp";
    case v1::PREDICTOR_MODEL_COST_LINEAR:
      return "cost-linear";
    default:
      return "unknown";
  }
}

absl::StatusOr<LatencyPredictor> LatencyPredictor::Fit(const LatencyDataset& dataset,
                                                       const LatencyPredictorOptions& options) {
  return FitOnSplit(dataset, SplitRows(static_cast<int>(dataset.rows.size()), options.seed),
                    options);
}

absl::StatusOr<LatencyPredictor> LatencyPredictor::FitOnSplit(
    const LatencyDataset& dataset, const DatasetSplit& split,
    const LatencyPredictorOptions& options) {
  HAT_RETURN_IF_ERROR(CheckWorkload(options.workload));
  if (options.max_train_rows < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--train-rows=", options.max_train_rows, ": must be positive (0: all)"));
  }
  std::vector<int> train = split.train;
  if (options.max_train_rows > 0 && options.max_train_rows < static_cast<int>(train.size())) {
    train.resize(options.max_train_rows);  // the split is shuffled: a random subset
  }
  if (train.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("a predictor needs at least 2 training rows; the dataset has ",
                     dataset.rows.size(), " rows, ", train.size(), " for training"));
  }
  const auto start = std::chrono::steady_clock::now();
  v1::LatencyPredictor proto;
  proto.set_format_version(kPredictorFormatVersion);
  proto.set_model(options.model);
  proto.set_space(options.space);
  proto.set_source(options.source);
  proto.set_seed(options.seed);
  *proto.mutable_cost_context() = ToProto(options.workload);

  std::vector<double> y(dataset.rows.size());
  for (size_t i = 0; i < y.size(); ++i) y[i] = dataset.rows[i].total_ms();
  v1::PredictorAccuracy* accuracy = proto.mutable_accuracy();
  accuracy->set_measurements(dataset.measurements);
  accuracy->set_drift_corrected(dataset.drift_corrected);
  accuracy->set_throttled_left_out(dataset.throttled_left_out);

  if (options.model == v1::PREDICTOR_MODEL_COST_LINEAR) {
    FeatureRows x(dataset.rows.size());
    for (size_t i = 0; i < x.size(); ++i) {
      x[i] = CostFeatures(dataset.rows[i].hat_features, options.workload);
    }
    CostLinearOptions linear = options.linear;
    linear.seed = options.seed;
    HAT_ASSIGN_OR_RETURN(CostLinearFit fit, FitCostLinear(x, y, train, split.valid, linear));
    for (const std::string& name : CostFeatureNames()) proto.add_feature_names(name);
    for (size_t f = 0; f < fit.standardizer.offset.size(); ++f) {
      proto.add_feature_offset(fit.standardizer.offset[f]);
      proto.add_feature_scale(fit.standardizer.scale[f]);
    }
    proto.set_target_scale(1.0);
    proto.set_ridge_lambda(fit.lambda);
    for (const LinearModel& m : fit.members) {
      v1::LinearMember* member = proto.add_linear_members();
      member->mutable_weights()->Add(m.weights.begin(), m.weights.end());
      member->set_intercept(m.intercept);
    }
    accuracy->set_outliers_dropped(fit.outliers_dropped);
  } else if (options.model == v1::PREDICTOR_MODEL_HAT_MLP) {
    for (int f = 0; f < kNumHatFeatures; ++f) {
      if (!(options.feature_norm[f] > 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat("feature norm ", f, " (", HatFeatureNames()[f], ") must be positive"));
      }
    }
    const double lat_norm = options.lat_norm > 0 ? options.lat_norm : MeanTotal(dataset, train);
    FeatureRows x(dataset.rows.size());
    for (size_t i = 0; i < x.size(); ++i) {
      x[i].resize(kNumHatFeatures);
      for (int f = 0; f < kNumHatFeatures; ++f) {
        x[i][f] = dataset.rows[i].hat_features[f] / options.feature_norm[f];
      }
    }
    std::vector<double> scaled(y.size());
    for (size_t i = 0; i < y.size(); ++i) scaled[i] = y[i] / lat_norm;
    MlpOptions mlp = options.mlp;
    mlp.seed = options.seed;
    HAT_ASSIGN_OR_RETURN(*proto.mutable_mlp(), TrainMlp(x, scaled, train, split.valid, mlp));
    for (int f = 0; f < kNumHatFeatures; ++f) {
      proto.add_feature_names(HatFeatureNames()[f]);
      proto.add_feature_offset(0);
      proto.add_feature_scale(options.feature_norm[f]);
    }
    proto.set_target_scale(lat_norm);
  } else {
    return absl::InvalidArgumentError("unknown predictor model");
  }
  accuracy->set_fit_seconds(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  accuracy->set_train_rows(static_cast<int>(train.size()));
  accuracy->set_valid_rows(static_cast<int>(split.valid.size()));
  accuracy->set_test_rows(static_cast<int>(split.test.size()));

  LatencyPredictor predictor(std::move(proto));
  v1::PredictorAccuracy* report = predictor.proto_.mutable_accuracy();
  // Accuracy on `rows`; with `points`, each row's measured and predicted latency too.
  auto evaluate = [&](const std::vector<int>& rows,
                      google::protobuf::RepeatedPtrField<v1::PredictedPoint>* points)
      -> absl::StatusOr<AccuracyMetrics> {
    std::vector<std::array<double, kNumHatFeatures>> features;
    std::vector<double> actual;
    for (int i : rows) {
      features.push_back(dataset.rows[i].hat_features);
      actual.push_back(y[i]);
    }
    HAT_ASSIGN_OR_RETURN(auto predictions, predictor.Predict(features));
    std::vector<double> predicted;
    for (const LatencyPrediction& p : predictions) predicted.push_back(p.latency_ms);
    for (size_t i = 0; points != nullptr && i < predicted.size(); ++i) {
      v1::PredictedPoint* point = points->Add();
      point->set_measured_ms(actual[i]);
      point->set_predicted_ms(predicted[i]);
    }
    return ComputeAccuracy(predicted, actual);
  };
  if (!split.valid.empty()) {
    HAT_ASSIGN_OR_RETURN(AccuracyMetrics valid, evaluate(split.valid, nullptr));
    report->set_valid_rmse_ms(valid.rmse_ms);
  }
  if (!split.test.empty()) {
    HAT_ASSIGN_OR_RETURN(AccuracyMetrics test, evaluate(split.test, report->mutable_test_points()));
    report->set_test_rmse_ms(test.rmse_ms);
    report->set_test_mape_pct(test.mape_pct);
    report->set_test_kendall_tau(test.kendall_tau);
    report->set_within_5pct(test.within_5pct);
    report->set_within_10pct(test.within_10pct);
  }
  return predictor;
}

namespace {

template <typename Numbers>
bool AllFinite(const Numbers& numbers) {
  for (const auto x : numbers) {
    if (!std::isfinite(x)) return false;
  }
  return true;
}

// Finite weights can still overflow on features far outside the training data; a latency that
// is not a number must not reach a search, where every comparison with it is false.
absl::StatusOr<std::vector<LatencyPrediction>> CheckFinite(std::vector<LatencyPrediction> out) {
  for (size_t r = 0; r < out.size(); ++r) {
    if (!std::isfinite(out[r].latency_ms) || !std::isfinite(out[r].stddev_ms)) {
      return absl::OutOfRangeError(absl::StrCat(
          "predictor: the prediction for row ", r, " is not a finite number (", out[r].latency_ms,
          " ms): its features are too far outside what the predictor was trained on"));
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<LatencyPredictor> LatencyPredictor::FromProto(v1::LatencyPredictor proto) {
  if (proto.format_version() < 1 || proto.format_version() > kPredictorFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "predictor format version ", proto.format_version(), ": this build reads 1 to ",
        kPredictorFormatVersion,
        (proto.format_version() > kPredictorFormatVersion ? " (written by a newer hatfleet)"
                                                          : " (not a hatfleet predictor?)")));
  }
  const int expected = proto.model() == v1::PREDICTOR_MODEL_COST_LINEAR ? kNumCostFeatures
                       : proto.model() == v1::PREDICTOR_MODEL_HAT_MLP   ? kNumHatFeatures
                                                                        : -1;
  if (expected < 0) return absl::InvalidArgumentError("predictor: unknown model kind");
  if (proto.feature_names_size() != expected || proto.feature_offset_size() != expected ||
      proto.feature_scale_size() != expected) {
    return absl::InvalidArgumentError(absl::StrCat(
        "predictor (", PredictorModelName(proto.model()), "): ", proto.feature_names_size(),
        " feature names, ", proto.feature_offset_size(), " offsets, ", proto.feature_scale_size(),
        " scales; expected ", expected, " of each"));
  }
  for (int f = 0; f < expected; ++f) {
    if (!(proto.feature_scale(f) > 0) || !std::isfinite(proto.feature_scale(f)) ||
        !std::isfinite(proto.feature_offset(f))) {
      return absl::InvalidArgumentError(
          absl::StrCat("predictor: feature ", proto.feature_names(f),
                       ": scale must be positive and finite, offset finite"));
    }
  }
  if (!(proto.target_scale() > 0) || !std::isfinite(proto.target_scale())) {
    return absl::InvalidArgumentError("predictor: target_scale must be positive and finite");
  }
  HAT_RETURN_IF_ERROR(CheckWorkload(hat::FromProto(proto.cost_context())));
  if (proto.model() == v1::PREDICTOR_MODEL_COST_LINEAR) {
    if (proto.linear_members_size() == 0) {
      return absl::InvalidArgumentError("predictor (cost-linear): no linear model");
    }
    for (int m = 0; m < proto.linear_members_size(); ++m) {
      const v1::LinearMember& member = proto.linear_members(m);
      if (member.weights_size() != expected) {
        return absl::InvalidArgumentError(absl::StrCat("predictor (cost-linear): member ", m,
                                                       " has ", member.weights_size(),
                                                       " weights, expected ", expected));
      }
      if (!AllFinite(member.weights()) || !std::isfinite(member.intercept())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "predictor (cost-linear): member ", m, " has a weight that is not a finite number"));
      }
    }
  } else {
    const v1::MlpModel& mlp = proto.mlp();
    if (mlp.layers_size() == 0 || mlp.layers(0).inputs() != expected ||
        mlp.layers(mlp.layers_size() - 1).outputs() != 1) {
      return absl::InvalidArgumentError(absl::StrCat("predictor (hat-mlp): the MLP must take ",
                                                     expected, " inputs and give 1 output"));
    }
    for (int l = 0; l < mlp.layers_size(); ++l) {
      const v1::MlpLayer& layer = mlp.layers(l);
      const bool chained = l == 0 || mlp.layers(l - 1).outputs() == layer.inputs();
      if (!chained || layer.inputs() < 1 || layer.outputs() < 1 ||
          layer.weight_size() != layer.inputs() * layer.outputs() ||
          layer.bias_size() != layer.outputs()) {
        return absl::InvalidArgumentError(
            absl::StrCat("predictor (hat-mlp): layer ", l, " is malformed (", layer.inputs(),
                         " -> ", layer.outputs(), ", ", layer.weight_size(), " weights, ",
                         layer.bias_size(), " biases)"));
      }
      if (!AllFinite(layer.weight()) || !AllFinite(layer.bias())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "predictor (hat-mlp): layer ", l, " has a weight that is not a finite number"));
      }
    }
  }
  return LatencyPredictor(std::move(proto));
}

absl::StatusOr<LatencyPredictor> LatencyPredictor::Load(const std::string& path) {
  HAT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, size_t{256} << 20));
  v1::LatencyPredictor proto;
  if (!proto.ParseFromString(bytes)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not a hatfleet predictor (protobuf parse failed)"));
  }
  absl::StatusOr<LatencyPredictor> predictor = FromProto(std::move(proto));
  if (!predictor.ok()) {
    return absl::Status(predictor.status().code(),
                        absl::StrCat(path, ": ", predictor.status().message()));
  }
  return predictor;
}

absl::Status LatencyPredictor::Save(const std::string& path) const {
  std::string bytes;
  if (!proto_.SerializeToString(&bytes)) {
    return absl::InternalError("cannot serialise the predictor");
  }
  return WriteFileAtomically(path, bytes);
}

std::vector<double> LatencyPredictor::RawFeatures(
    const std::array<double, kNumHatFeatures>& hat) const {
  if (proto_.model() == v1::PREDICTOR_MODEL_COST_LINEAR) {
    return CostFeatures(hat, hat::FromProto(proto_.cost_context()));
  }
  return std::vector<double>(hat.begin(), hat.end());
}

absl::StatusOr<std::vector<LatencyPrediction>> LatencyPredictor::Predict(
    const std::vector<std::array<double, kNumHatFeatures>>& hat_features) const {
  FeatureRows z(hat_features.size());
  for (size_t r = 0; r < z.size(); ++r) {
    z[r] = RawFeatures(hat_features[r]);
    for (size_t f = 0; f < z[r].size(); ++f) {
      z[r][f] = (z[r][f] - proto_.feature_offset(f)) / proto_.feature_scale(f);
    }
  }
  std::vector<LatencyPrediction> out(z.size());
  if (proto_.model() == v1::PREDICTOR_MODEL_HAT_MLP) {
    HAT_ASSIGN_OR_RETURN(std::vector<double> y, EvaluateMlp(proto_.mlp(), z));
    for (size_t r = 0; r < y.size(); ++r) out[r].latency_ms = y[r] * proto_.target_scale();
    return CheckFinite(std::move(out));
  }
  const int members = proto_.linear_members_size();
  for (size_t r = 0; r < z.size(); ++r) {
    double first = 0, sum = 0, sum_sq = 0;
    for (int m = 0; m < members; ++m) {
      const v1::LinearMember& member = proto_.linear_members(m);
      double y = member.intercept();
      for (size_t f = 0; f < z[r].size(); ++f) y += member.weights(f) * z[r][f];
      y *= proto_.target_scale();
      if (m == 0) {
        first = y;
      } else {
        sum += y;
        sum_sq += y * y;
      }
    }
    out[r].latency_ms = first;
    if (members > 2) {
      const double n = members - 1;
      const double mean = sum / n;
      out[r].stddev_ms = std::sqrt(std::max(0.0, (sum_sq - n * mean * mean) / (n - 1)));
    }
  }
  return CheckFinite(std::move(out));
}

absl::StatusOr<std::vector<LatencyPrediction>> LatencyPredictor::PredictConfigs(
    const std::vector<SubTransformerConfig>& configs) const {
  std::vector<std::array<double, kNumHatFeatures>> features;
  features.reserve(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    absl::Status shape = ValidateConfigShape(configs[i]);
    if (!shape.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("config ", i, ": ", shape.message()));
    }
    features.push_back(HatFeatures(configs[i]));
  }
  return Predict(features);
}

}  // namespace hat
