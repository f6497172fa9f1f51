// A trained latency predictor: features, normalisation, model and accuracy report, as one value
// that is fitted, saved, loaded and asked for predictions.
//
//   LatencyPredictorOptions options;           // default model: cost-linear
//   HAT_ASSIGN_OR_RETURN(auto dataset, LoadLatencyDataset(path, LatencyFileFormat::kHatCsv));
//   HAT_ASSIGN_OR_RETURN(LatencyPredictor p, LatencyPredictor::Fit(dataset, options));
//   p.accuracy().test_rmse_ms();               // on the held-out 10%
//   HAT_ASSIGN_OR_RETURN(auto ms, p.PredictConfigs(configs));
#ifndef HATFLEET_PREDICTOR_LATENCY_PREDICTOR_H_
#define HATFLEET_PREDICTOR_LATENCY_PREDICTOR_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/features.h"
#include "common/subtransformer_config.h"
#include "hat/v1/predictor.pb.h"
#include "predictor/cost_features.h"
#include "predictor/dataset_split.h"
#include "predictor/latency_records.h"
#include "predictor/linear_fit.h"
#include "predictor/mlp.h"

namespace hat {

// Version written by this build; Load() refuses newer ones.
inline constexpr uint32_t kPredictorFormatVersion = 1;

// "hat-mlp", or "default" / "cost-linear".
absl::StatusOr<v1::PredictorModelKind> ParsePredictorModel(const std::string& name);
std::string PredictorModelName(v1::PredictorModelKind kind);

struct LatencyPredictorOptions {
  v1::PredictorModelKind model = v1::PREDICTOR_MODEL_COST_LINEAR;
  uint64_t seed = 1;       // split, initialisation, batches, bootstrap
  int max_train_rows = 0;  // keep only this many training rows (0: all)
  CostWorkload workload;   // what the cost features describe
  std::string space;       // recorded with the predictor
  std::string source;      // recorded with the predictor
  CostLinearOptions linear;
  MlpOptions mlp;
  std::array<double, kNumHatFeatures> feature_norm = HatWmtFeatureNorms();  // hat-mlp inputs
  double lat_norm = 0;  // hat-mlp target divisor; 0: the training rows' mean latency
};

struct LatencyPrediction {
  double latency_ms = 0;
  double stddev_ms = 0;  // uncertainty (bootstrap spread); 0 for models without one
};

class LatencyPredictor {
 public:
  // Splits `dataset` 80/10/10 with options.seed, trains on the training part (validation for
  // model selection) and reports accuracy on the test part.
  static absl::StatusOr<LatencyPredictor> Fit(const LatencyDataset& dataset,
                                              const LatencyPredictorOptions& options);
  // The same on a given split (test may be empty: no accuracy then).
  static absl::StatusOr<LatencyPredictor> FitOnSplit(const LatencyDataset& dataset,
                                                     const DatasetSplit& split,
                                                     const LatencyPredictorOptions& options);

  // Checks a stored predictor for consistency; INVALID_ARGUMENT says what is wrong.
  static absl::StatusOr<LatencyPredictor> FromProto(v1::LatencyPredictor proto);
  static absl::StatusOr<LatencyPredictor> Load(const std::string& path);
  absl::Status Save(const std::string& path) const;

  absl::StatusOr<std::vector<LatencyPrediction>> Predict(
      const std::vector<std::array<double, kNumHatFeatures>>& hat_features) const;
  // REQUIRES for each config: ValidateConfigShape(config).ok() (checked: INVALID_ARGUMENT).
  absl::StatusOr<std::vector<LatencyPrediction>> PredictConfigs(
      const std::vector<SubTransformerConfig>& configs) const;

  const v1::LatencyPredictor& proto() const { return proto_; }
  const v1::PredictorAccuracy& accuracy() const { return proto_.accuracy(); }

 private:
  explicit LatencyPredictor(v1::LatencyPredictor proto) : proto_(std::move(proto)) {}
  std::vector<double> RawFeatures(const std::array<double, kNumHatFeatures>& hat) const;

  v1::LatencyPredictor proto_;
};

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_LATENCY_PREDICTOR_H_
