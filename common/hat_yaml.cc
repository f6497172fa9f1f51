// Recognising and reading HAT's YAML files; see hat_yaml.h.
#include "common/hat_yaml.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/config_io.h"
#include "common/design_space_io.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/structured_readers.h"

namespace hat {
namespace {

bool Has(const YAML::Node& root, const char* key) { return static_cast<bool>(root[key]); }

bool HasKeyEndingWith(const YAML::Node& root, absl::string_view suffix) {
  for (auto it = root.begin(); it != root.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (absl::EndsWith(key, suffix) && key != "train-subtransformer") return true;
  }
  return false;
}

// Optional keys keep the default already in *out.
template <typename T, typename Reader>
absl::Status ReadOptional(const YAML::Node& root, const char* key, Reader read, T* out) {
  if (!Has(root, key)) return absl::OkStatus();
  HAT_ASSIGN_OR_RETURN(*out, read(root, key));
  return absl::OkStatus();
}

absl::Status CheckPositive(double value, const YAML::Node& root, const char* key) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(YamlWhere(root, key), "=", value, ": must be positive"));
}

absl::StatusOr<PredictorSettings> ReadPredictor(const YAML::Node& root) {
  PredictorSettings p;
  HAT_RETURN_IF_ERROR(ReadOptional(root, "lat-dataset-path", YamlString, &p.dataset_path));
  HAT_ASSIGN_OR_RETURN(p.feature_norm, YamlDoubleList(root, "feature-norm"));
  HAT_ASSIGN_OR_RETURN(p.lat_norm, YamlDouble(root, "lat-norm"));
  HAT_ASSIGN_OR_RETURN(p.feature_dim, YamlInt(root, "feature-dim"));
  HAT_ASSIGN_OR_RETURN(p.hidden_dim, YamlInt(root, "hidden-dim"));
  HAT_ASSIGN_OR_RETURN(p.hidden_layer_num, YamlInt(root, "hidden-layer-num"));
  HAT_ASSIGN_OR_RETURN(p.train_steps, YamlInt(root, "train-steps"));
  HAT_ASSIGN_OR_RETURN(p.batch_size, YamlInt(root, "bsz"));
  HAT_ASSIGN_OR_RETURN(p.lr, YamlDouble(root, "lr"));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "ckpt-path", YamlString, &p.checkpoint_path));
  for (const char* key :
       {"lat-norm", "feature-dim", "hidden-dim", "hidden-layer-num", "train-steps", "bsz", "lr"}) {
    HAT_ASSIGN_OR_RETURN(double v, YamlDouble(root, key));
    HAT_RETURN_IF_ERROR(CheckPositive(v, root, key));
  }
  if (p.feature_norm.size() != static_cast<size_t>(p.feature_dim)) {
    return absl::InvalidArgumentError(absl::StrCat(YamlWhere(root, "feature-norm"), ": has ",
                                                   p.feature_norm.size(),
                                                   " entries but feature-dim is ", p.feature_dim));
  }
  for (size_t i = 0; i < p.feature_norm.size(); ++i) {
    if (!(p.feature_norm[i] > 0)) {
      return absl::InvalidArgumentError(absl::StrCat(
          YamlWhere(root, "feature-norm"), "[", i, "]=", p.feature_norm[i], ": must be positive"));
    }
  }
  return p;
}

absl::StatusOr<EvoSearchSettings> ReadEvoSearch(const YAML::Node& root) {
  EvoSearchSettings e;
  HAT_ASSIGN_OR_RETURN(e.iterations, YamlInt(root, "evo-iter"));
  HAT_ASSIGN_OR_RETURN(e.population_size, YamlInt(root, "population-size"));
  HAT_ASSIGN_OR_RETURN(e.parent_size, YamlInt(root, "parent-size"));
  HAT_ASSIGN_OR_RETURN(e.mutation_size, YamlInt(root, "mutation-size"));
  HAT_ASSIGN_OR_RETURN(e.crossover_size, YamlInt(root, "crossover-size"));
  HAT_ASSIGN_OR_RETURN(e.mutation_prob, YamlDouble(root, "mutation-prob"));
  HAT_RETURN_IF_ERROR(
      ReadOptional(root, "latency-constraint", YamlDouble, &e.latency_constraint_ms));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "feature-norm", YamlDoubleList, &e.feature_norm));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "lat-norm", YamlDouble, &e.lat_norm));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "ckpt-path", YamlString, &e.predictor_path));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "restore-file", YamlString, &e.supernet_path));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "write-config-path", YamlString, &e.write_config_path));
  for (const char* key : {"evo-iter", "population-size", "parent-size"}) {
    HAT_ASSIGN_OR_RETURN(double v, YamlDouble(root, key));
    HAT_RETURN_IF_ERROR(CheckPositive(v, root, key));
  }
  if (e.mutation_size < 0 || e.crossover_size < 0 ||
      e.parent_size + e.mutation_size + e.crossover_size != e.population_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(YamlWhere(root, "population-size"), "=", e.population_size,
                     ": must equal parent-size + mutation-size + crossover-size (", e.parent_size,
                     " + ", e.mutation_size, " + ", e.crossover_size, ")"));
  }
  if (!(e.mutation_prob >= 0 && e.mutation_prob <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat(YamlWhere(root, "mutation-prob"), "=",
                                                   e.mutation_prob, ": must be in [0, 1]"));
  }
  return e;
}

// fairseq writes Adam's betas as a Python tuple string: "(0.9, 0.98)".
absl::Status ReadAdamBetas(const YAML::Node& root, TrainingSettings* t) {
  if (!Has(root, "adam-betas")) return absl::OkStatus();
  HAT_ASSIGN_OR_RETURN(std::string text, YamlString(root, "adam-betas"));
  absl::string_view inner = absl::StripAsciiWhitespace(text);
  absl::ConsumePrefix(&inner, "(");
  absl::ConsumeSuffix(&inner, ")");
  std::vector<std::string> parts = absl::StrSplit(inner, ',');
  if (parts.size() != 2 ||
      !absl::SimpleAtod(absl::StripAsciiWhitespace(parts[0]), &t->adam_beta1) ||
      !absl::SimpleAtod(absl::StripAsciiWhitespace(parts[1]), &t->adam_beta2) ||
      !(t->adam_beta1 >= 0 && t->adam_beta1 < 1 && t->adam_beta2 >= 0 && t->adam_beta2 < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat(YamlWhere(root, "adam-betas"),
                     ": expected '(beta1, beta2)' with each in [0, 1), got '", text, "'"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingSettings> ReadTraining(const YAML::Node& root) {
  TrainingSettings t;
  HAT_RETURN_IF_ERROR(ReadOptional(root, "arch", YamlString, &t.arch));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "max-update", YamlInt, &t.max_update));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "warmup-updates", YamlInt, &t.warmup_updates));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "lr-scheduler", YamlString, &t.lr_scheduler));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "lr", YamlDouble, &t.lr));
  if (Has(root, "max-lr")) {
    HAT_ASSIGN_OR_RETURN(t.max_lr, YamlDouble(root, "max-lr"));
  }
  HAT_RETURN_IF_ERROR(ReadOptional(root, "warmup-init-lr", YamlDouble, &t.warmup_init_lr));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "dropout", YamlDouble, &t.dropout));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "attention-dropout", YamlDouble, &t.attention_dropout));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "label-smoothing", YamlDouble, &t.label_smoothing));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "weight-decay", YamlDouble, &t.weight_decay));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "clip-norm", YamlDouble, &t.clip_norm));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "max-tokens", YamlInt, &t.max_tokens));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "update-freq", YamlInt, &t.update_freq));
  HAT_RETURN_IF_ERROR(ReadOptional(root, "fp16", YamlBool, &t.fp16));
  HAT_RETURN_IF_ERROR(ReadAdamBetas(root, &t));
  if (!t.lr_scheduler.empty() && t.lr_scheduler != "cosine" && t.lr_scheduler != "inverse_sqrt") {
    return absl::InvalidArgumentError(
        absl::StrCat(YamlWhere(root, "lr-scheduler"), "='", t.lr_scheduler,
                     "': supported schedules are cosine and inverse_sqrt"));
  }
  for (const auto& [key, value] :
       {std::pair{"dropout", t.dropout}, std::pair{"attention-dropout", t.attention_dropout},
        std::pair{"label-smoothing", t.label_smoothing}}) {
    if (!(value >= 0 && value < 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(YamlWhere(root, key), "=", value, ": must be in [0, 1)"));
    }
  }
  if (t.max_update < 0 || t.warmup_updates < 0 || t.update_freq < 1 || t.max_tokens < 0) {
    return absl::InvalidArgumentError(
        "max-update, warmup-updates and max-tokens must be >= 0 and update-freq >= 1");
  }
  return t;
}

bool HasTrainingKeys(const YAML::Node& root) {
  return Has(root, "max-update") || Has(root, "optimizer") || Has(root, "lr-scheduler");
}

absl::StatusOr<HatYamlFile> ReadHatYaml(const std::string& text, const std::string& stem) {
  HAT_ASSIGN_OR_RETURN(YAML::Node root, ParseYamlMapping(text));
  HatYamlFile file{HatYamlKind::kTraining, {}, {}, {}, {}, {}, {}};
  if (HasKeyEndingWith(root, "-choice")) {
    HAT_ASSIGN_OR_RETURN(DesignSpace space, ParseDesignSpace(text, stem));
    if (Has(root, "lat-dataset-path")) {
      file.kind = HatYamlKind::kLatencyDataset;
      LatencyDatasetSettings d;
      d.space = std::move(space);
      HAT_ASSIGN_OR_RETURN(d.dataset_path, YamlString(root, "lat-dataset-path"));
      HAT_RETURN_IF_ERROR(ReadOptional(root, "lat-dataset-size", YamlInt, &d.dataset_size));
      HAT_RETURN_IF_ERROR(ReadOptional(root, "latgpu", YamlBool, &d.gpu));
      HAT_RETURN_IF_ERROR(ReadOptional(root, "latiter", YamlInt, &d.timed_runs));
      if (d.timed_runs < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(YamlWhere(root, "latiter"), "=", d.timed_runs, ": must be at least 1"));
      }
      file.latency_dataset = std::move(d);
    } else {
      file.kind = HatYamlKind::kSpace;
      file.space = std::move(space);
    }
  } else if (HasKeyEndingWith(root, "-subtransformer")) {
    file.kind = HatYamlKind::kSubTransformer;
    HAT_ASSIGN_OR_RETURN(ParsedConfig parsed, ParseSubTransformerConfig(text));
    file.subtransformer = std::move(parsed.config);
  } else if (Has(root, "evo-iter")) {
    file.kind = HatYamlKind::kEvoSearch;
    HAT_ASSIGN_OR_RETURN(file.evo_search, ReadEvoSearch(root));
  } else if (Has(root, "hidden-dim") || Has(root, "feature-norm")) {
    file.kind = HatYamlKind::kPredictor;
    HAT_ASSIGN_OR_RETURN(file.predictor, ReadPredictor(root));
  } else if (!HasTrainingKeys(root)) {
    return absl::InvalidArgumentError(
        "not a HAT config: found none of the keys of a space (*-choice), SubTransformer "
        "(*-subtransformer), predictor (feature-norm), evolution (evo-iter) or training "
        "(max-update) file");
  }
  if (HasTrainingKeys(root)) {
    HAT_ASSIGN_OR_RETURN(file.training, ReadTraining(root));
  }
  return file;
}

}  // namespace

const char* HatYamlKindName(HatYamlKind kind) {
  switch (kind) {
    case HatYamlKind::kSpace:
      return "space";
    case HatYamlKind::kLatencyDataset:
      return "latency_dataset";
    case HatYamlKind::kPredictor:
      return "latency_predictor";
    case HatYamlKind::kEvoSearch:
      return "evo_search";
    case HatYamlKind::kSubTransformer:
      return "subtransformer";
    case HatYamlKind::kTraining:
      return "training";
  }
  return "?";
}

absl::StatusOr<HatYamlFile> LoadHatYamlFile(const std::string& path) {
  HAT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  absl::StatusOr<HatYamlFile> file = ReadHatYaml(text, FileStem(path));
  if (!file.ok()) return Annotate(file.status(), path);
  return file;
}

}  // namespace hat
