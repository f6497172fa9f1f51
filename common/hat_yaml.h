// HAT's YAML files of every kind (configs/<task>/ in HAT's repository), recognised by their keys
// and read into typed settings, so a HAT user can point hatfleet at the files they already have.
//
//   supertransformer/space*.yml   -> DesignSpace (design_space_io.h)
//   latency_dataset/*.yml         -> LatencyDatasetSettings: the sampling space + how to measure
//   latency_predictor/*.yml       -> PredictorSettings
//   evo_search/*.yml              -> EvoSearchSettings
//   subtransformer/HAT_*.yml      -> SubTransformerConfig (config_io.h)
//   subtransformer/common.yml     -> TrainingSettings (also read from space*.yml)
#ifndef HATFLEET_COMMON_HAT_YAML_H_
#define HATFLEET_COMMON_HAT_YAML_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"

namespace hat {

enum class HatYamlKind {
  kSpace,
  kLatencyDataset,
  kPredictor,
  kEvoSearch,
  kSubTransformer,
  kTraining,
};
const char* HatYamlKindName(HatYamlKind kind);

// latency_dataset/*.yml: the space configs are sampled from, and HAT's measurement settings.
struct LatencyDatasetSettings {
  DesignSpace space;
  std::string dataset_path;  // lat-dataset-path
  int dataset_size = 0;      // lat-dataset-size
  bool gpu = false;          // latgpu (else latcpu)
  int timed_runs = 20;       // latiter
};

// latency_predictor/*.yml: HAT's MLP predictor.
struct PredictorSettings {
  std::string dataset_path;          // lat-dataset-path
  std::vector<double> feature_norm;  // divides each of the 10 features
  double lat_norm = 0;               // divides the latency target (ms)
  int feature_dim = 0;
  int hidden_dim = 0;
  int hidden_layer_num = 0;
  int train_steps = 0;
  int batch_size = 0;  // bsz
  double lr = 0;
  std::string checkpoint_path;  // ckpt-path
};

// evo_search/*.yml: HAT's evolutionary search.
struct EvoSearchSettings {
  int iterations = 0;  // evo-iter
  int population_size = 0;
  int parent_size = 0;
  int mutation_size = 0;
  int crossover_size = 0;
  double mutation_prob = 0;
  double latency_constraint_ms = 0;
  std::vector<double> feature_norm;
  double lat_norm = 0;
  std::string predictor_path;     // ckpt-path
  std::string supernet_path;      // restore-file
  std::string write_config_path;  // write-config-path
};

// Training settings shared by SuperTransformer and SubTransformer training (fairseq flags).
struct TrainingSettings {
  std::string arch;
  int max_update = 0;
  int warmup_updates = 0;
  std::string lr_scheduler;  // "cosine" or "inverse_sqrt"
  double lr = 0;             // final lr (cosine) or peak lr (inverse_sqrt)
  std::optional<double> max_lr;
  double warmup_init_lr = 0;
  double dropout = 0;
  double attention_dropout = 0;
  double label_smoothing = 0;
  double weight_decay = 0;
  double clip_norm = 0;
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  int max_tokens = 0;
  int update_freq = 1;
  bool fp16 = false;
};

struct HatYamlFile {
  HatYamlKind kind;
  std::optional<DesignSpace> space;  // kSpace (and kLatencyDataset, inside `latency_dataset`)
  std::optional<LatencyDatasetSettings> latency_dataset;
  std::optional<PredictorSettings> predictor;
  std::optional<EvoSearchSettings> evo_search;
  std::optional<SubTransformerConfig> subtransformer;
  std::optional<TrainingSettings> training;  // also set for kSpace files that carry training keys
};

// Reads any of HAT's YAML files; INVALID_ARGUMENT naming the path and key when a value is wrong,
// or when the file is none of the kinds above.
absl::StatusOr<HatYamlFile> LoadHatYamlFile(const std::string& path);

}  // namespace hat

#endif  // HATFLEET_COMMON_HAT_YAML_H_
