// `hatctl predictor fit --data FILE --format hat-csv|full [--model hat-mlp|default]
//  [--train-rows N] [--seed S] [--out FILE] [--json]` and
// `hatctl predictor predict --predictor FILE (--config FILE | --space NAME --sample N) [--json]`.
#include "cli/predictor_commands.h"

#include <chrono>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/cli_output.h"
#include "cli/config_source.h"
#include "common/design_space_io.h"
#include "common/file_util.h"
#include "common/hat_yaml.h"
#include "common/status_macros.h"
#include "engine/runtime.h"
#include "predictor/latency_predictor.h"
#include "predictor/repeated_measurements.h"

namespace hat::cli {
namespace {

constexpr int kMaxPredictConfigs = 10000000;

struct FitOptions {
  std::string data;
  std::string format = "hat-csv";
  std::string model = "default";
  int train_rows = 0;
  uint64_t seed = 1;
  std::string out;
  std::string space = "hat-wmt14-en-de";
  std::string hat_config;
  double lat_norm = 0;
  int steps = 0;
  bool early_stopping = false;
  bool drift_correction = true;
  bool include_throttled = false;
  bool json = false;
};

nlohmann::json AccuracyToJson(const v1::PredictorAccuracy& a) {
  return {{"train_rows", a.train_rows()},
          {"valid_rows", a.valid_rows()},
          {"test_rows", a.test_rows()},
          {"outliers_dropped", a.outliers_dropped()},
          {"valid_rmse_ms", a.valid_rmse_ms()},
          {"test_rmse_ms", a.test_rmse_ms()},
          {"test_mape_pct", a.test_mape_pct()},
          {"test_kendall_tau", a.test_kendall_tau()},
          {"within_5pct", a.within_5pct()},
          {"within_10pct", a.within_10pct()},
          {"fit_seconds", a.fit_seconds()},
          {"measurements", a.measurements()},
          {"drift_corrected", a.drift_corrected()},
          {"throttled_left_out", a.throttled_left_out()}};
}

absl::Status RunFit(const FitOptions& o) {
  if (o.data.empty()) return absl::InvalidArgumentError("--data FILE is required");
  HAT_ASSIGN_OR_RETURN(LatencyFileFormat format, ParseLatencyFileFormat(o.format));
  HAT_ASSIGN_OR_RETURN(v1::PredictorModelKind model, ParsePredictorModel(o.model));
  HAT_ASSIGN_OR_RETURN(DesignSpace space, ResolveDesignSpace(o.space));
  HAT_ASSIGN_OR_RETURN(LatencyDataset dataset,
                       LoadLatencyDataset(o.data, format, o.include_throttled));
  // One row per config before the split: repeats of a config never straddle train and test.
  RepeatedMeasurementOptions repeat_options;
  repeat_options.correct_host_drift = o.drift_correction;
  CombineRepeatedMeasurements(&dataset, repeat_options);

  LatencyPredictorOptions options;
  options.model = model;
  options.seed = o.seed;
  options.max_train_rows = o.train_rows;
  options.workload = CostWorkload::ForSpace(space, dataset.has_shape ? dataset.shape : CostShape{});
  options.space = space.name;
  options.source = FileStem(o.data);
  if (!o.hat_config.empty()) {
    // HAT's latency_predictor/*.yml: its norms and training settings.
    HAT_ASSIGN_OR_RETURN(HatYamlFile file, LoadHatYamlFile(o.hat_config));
    if (!file.predictor) {
      return absl::InvalidArgumentError(
          absl::StrCat(o.hat_config, ": not a HAT latency predictor config"));
    }
    const PredictorSettings& p = *file.predictor;
    if (p.feature_norm.size() == kNumHatFeatures) {
      std::copy(p.feature_norm.begin(), p.feature_norm.end(), options.feature_norm.begin());
    }
    if (p.lat_norm > 0) options.lat_norm = p.lat_norm;
    if (p.hidden_dim > 0) options.mlp.hidden_dim = p.hidden_dim;
    if (p.hidden_layer_num > 0) options.mlp.hidden_layer_num = p.hidden_layer_num;
    if (p.train_steps > 0) options.mlp.train_steps = p.train_steps;
    if (p.batch_size > 0) options.mlp.batch_size = p.batch_size;
    if (p.lr > 0) options.mlp.learning_rate = p.lr;
  }
  if (o.lat_norm > 0) options.lat_norm = o.lat_norm;
  if (o.steps > 0) options.mlp.train_steps = o.steps;
  options.mlp.early_stopping = o.early_stopping;
  const auto start = std::chrono::steady_clock::now();
  options.mlp.progress = [&](int step, int total) {
    if (step % 500 != 0 && step != total) return;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double rate = step / std::max(elapsed, 1e-9);
    PrintProgress("train", step, total, rate, (total - step) / rate, "steps");
  };
  // One thread: training is deterministic for a seed, and fast enough for these sizes.
  HAT_RETURN_IF_ERROR(ConfigureThreads(1));
  HAT_ASSIGN_OR_RETURN(LatencyPredictor predictor, LatencyPredictor::Fit(dataset, options));
  if (!o.out.empty()) HAT_RETURN_IF_ERROR(predictor.Save(o.out));

  const v1::PredictorAccuracy& a = predictor.accuracy();
  if (o.json) {
    nlohmann::json out = AccuracyToJson(a);
    out["model"] = PredictorModelName(model);
    out["data"] = o.data;
    out["rows"] = dataset.rows.size();
    out["seed"] = o.seed;
    out["space"] = space.name;
    if (!o.out.empty()) out["out"] = o.out;
    PrintJson(out);
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat(
      "%s on %s: %d rows from %d measurements (%d corrected for host drift, %d throttled left "
      "out; train %d, valid %d, test %d; %d outliers left out), fit in %.2f s\n",
      PredictorModelName(model), o.data, dataset.rows.size(), a.measurements(), a.drift_corrected(),
      a.throttled_left_out(), a.train_rows(), a.valid_rows(), a.test_rows(), a.outliers_dropped(),
      a.fit_seconds());
  std::cout << absl::StrFormat(
      "test: RMSE %.2f ms, MAPE %.2f%%, Kendall tau %.3f, within 5%% %.1f%%, within 10%% %.1f%%\n",
      a.test_rmse_ms(), a.test_mape_pct(), a.test_kendall_tau(), a.within_5pct(), a.within_10pct());
  if (!o.out.empty()) std::cout << "saved to " << o.out << "\n";
  return absl::OkStatus();
}

struct PredictOptions {
  std::string predictor;
  std::string config_file;
  std::string space;
  int sample = 0;
  uint64_t seed = 1;
  bool json = false;
};

absl::Status RunPredict(const PredictOptions& o) {
  if (o.predictor.empty()) return absl::InvalidArgumentError("--predictor FILE is required");
  HAT_ASSIGN_OR_RETURN(
      auto space_and_configs,
      LoadConfigsFromFlags(o.config_file, o.space, o.sample, o.seed, kMaxPredictConfigs));
  const std::vector<SubTransformerConfig>& configs = space_and_configs.second;
  HAT_ASSIGN_OR_RETURN(LatencyPredictor predictor, LatencyPredictor::Load(o.predictor));
  HAT_RETURN_IF_ERROR(ConfigureThreads(1));
  const auto start = std::chrono::steady_clock::now();
  HAT_ASSIGN_OR_RETURN(std::vector<LatencyPrediction> predictions,
                       predictor.PredictConfigs(configs));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (o.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (size_t i = 0; i < configs.size(); ++i) {
      rows.push_back({{"index", i},
                      {"config_id", HexId(ConfigId(configs[i]))},
                      {"latency_ms", predictions[i].latency_ms},
                      {"stddev_ms", predictions[i].stddev_ms}});
    }
    PrintJson({{"predictor", o.predictor},
               {"model", PredictorModelName(predictor.proto().model())},
               {"predict_seconds", seconds},
               {"configs", rows}});
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%5s  %-16s %12s %10s\n", "index", "config", "latency_ms",
                               "stddev_ms");
  for (size_t i = 0; i < configs.size(); ++i) {
    std::cout << absl::StrFormat("%5d  %-16s %12.2f %10.2f\n", i, HexId(ConfigId(configs[i])),
                                 predictions[i].latency_ms, predictions[i].stddev_ms);
  }
  std::cerr << absl::StrFormat("%d predictions in %.3f ms\n", configs.size(), seconds * 1e3);
  return absl::OkStatus();
}

}  // namespace

void AddPredictorCommands(CLI::App& app, int* exit_code) {
  CLI::App* predictor =
      app.add_subcommand("predictor", "Train and query latency predictors (local, no server)");
  predictor->require_subcommand(1);

  CLI::App* fit = predictor->add_subcommand(
      "fit", "Train a predictor on a latency dataset; prints test accuracy (80/10/10 split)");
  auto f = std::make_shared<FitOptions>();
  fit->add_option("--data", f->data, "Latency dataset file")->required();
  fit->add_option("--format", f->format, "hat-csv (HAT's CSV) or full (hatfleet JSON lines)")
      ->capture_default_str();
  fit->add_option("--model", f->model, "hat-mlp (HAT's MLP) or default (cost-linear)")
      ->capture_default_str();
  fit->add_option("--train-rows", f->train_rows,
                  "Keep only N of the training rows (sample-efficiency curves; 0: all)");
  fit->add_option("--seed", f->seed, "Seed of the split and the training")->capture_default_str();
  fit->add_option("--out", f->out, "Write the trained predictor here");
  fit->add_option("--space", f->space, "Design space of the data (qkv dim, vocabulary)")
      ->capture_default_str();
  fit->add_option("--hat-config", f->hat_config,
                  "HAT latency_predictor/*.yml: take its norms and MLP settings (hat-mlp)");
  fit->add_option("--lat-norm", f->lat_norm,
                  "hat-mlp: divide latencies by this (HAT: 300 Xeon, 200 GPU, 5000 Pi; default: "
                  "the training mean)");
  fit->add_option("--steps", f->steps, "hat-mlp: training steps (HAT: 5000)");
  fit->add_flag("--early-stopping", f->early_stopping,
                "hat-mlp: keep the weights with the lowest validation loss");
  fit->add_flag("--drift-correction,!--no-drift-correction", f->drift_correction,
                "full format, configs measured more than once: divide each measurement by the "
                "host's drift that the repeats show (default on; a no-op without repeats)");
  fit->add_flag("--include-throttled", f->include_throttled,
                "full format: train on measurements of a throttled device too (left out by "
                "default)");
  fit->add_flag("--json", f->json,
                "Print JSON: test_rmse_ms, test_mape_pct, test_kendall_tau, within_5pct, "
                "within_10pct, fit_seconds, row counts");
  fit->callback([f, exit_code] { *exit_code = ReportError(RunFit(*f)); });

  CLI::App* predict =
      predictor->add_subcommand("predict", "Predict the latency of configs with a predictor");
  auto p = std::make_shared<PredictOptions>();
  predict->add_option("--predictor", p->predictor, "Predictor file (hatctl predictor fit --out)")
      ->required();
  predict->add_option("--config", p->config_file, "A SubTransformer (HAT YAML or hatfleet JSON)");
  predict->add_option("--space", p->space, "Design space (built-in name or file)");
  predict->add_option("--sample", p->sample, "Predict N configs sampled from --space");
  predict->add_option("--seed", p->seed, "Seed of the sample")->capture_default_str();
  predict->add_flag("--json", p->json,
                    "Print JSON: per config latency_ms and stddev_ms; predict_seconds");
  predict->callback([p, exit_code] { *exit_code = ReportError(RunPredict(*p)); });
}

}  // namespace hat::cli
