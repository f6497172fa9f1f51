// `hatctl config validate|features`.
#include "cli/config_commands.h"

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/cli_output.h"
#include "common/builtin_spaces.h"
#include "common/config_io.h"
#include "common/cost_model.h"
#include "common/design_space_io.h"
#include "common/features.h"
#include "common/status_macros.h"

namespace hat::cli {
namespace {

struct ConfigOptions {
  std::string file;
  std::string space;
  bool json = false;
  bool per_layer = false;
  std::string to = "json";
  CostShape shape;
};

int RunValidate(const ConfigOptions& opts) {
  absl::StatusOr<DesignSpace> space = ResolveDesignSpace(opts.space);
  if (!space.ok()) return ReportError(space.status());
  absl::StatusOr<SubTransformerConfig> config = LoadConfigInSpace(opts.file, *space);
  if (opts.json) {
    nlohmann::json out = {{"file", opts.file}, {"space", space->name}, {"valid", config.ok()}};
    if (config.ok()) {
      out["config_id"] = HexId(ConfigId(*config));
      out["canonical_key"] = CanonicalKey(*config);
    } else {
      out["error"] = std::string(config.status().message());
    }
    PrintJson(out);
    return config.ok() ? kExitOk : kExitFailure;
  }
  if (!config.ok()) return ReportError(config.status());
  std::cout << absl::StrFormat("%s: valid in %s (%s)\n", opts.file, space->name,
                               CanonicalKey(*config));
  return kExitOk;
}

absl::Status RunFeaturesOrError(const ConfigOptions& opts) {
  HAT_ASSIGN_OR_RETURN(auto space_and_config, LoadConfigAndSpace(opts.file, opts.space));
  const DesignSpace& space = space_and_config.first;
  const SubTransformerConfig& config = space_and_config.second;
  HAT_ASSIGN_OR_RETURN(ModelCost cost, EstimateCost(config, space, opts.shape));
  const auto features = HatFeatures(config);
  const auto& names = HatFeatureNames();
  const int64_t macs = cost.encoder_macs + cost.decoder_macs;

  if (opts.json) {
    nlohmann::json out;
    for (int i = 0; i < kNumHatFeatures; ++i) out[names[i]] = features[i];
    out["params"] = cost.params;
    out["embedding_params"] = cost.embedding_params;
    out["macs"] = macs;
    out["encoder_macs"] = cost.encoder_macs;
    out["decoder_macs"] = cost.decoder_macs;
    out["output_projection_macs"] = cost.output_projection_macs;
    out["cost_shape"] = {{"source_tokens", opts.shape.source_tokens},
                         {"decoder_steps", opts.shape.decoder_steps},
                         {"beam", opts.shape.beam}};
    out["space"] = space.name;
    out["config_id"] = HexId(ConfigId(config));
    out["canonical_key"] = CanonicalKey(config);
    if (opts.per_layer) {
      const std::vector<std::string> layer_names = PerLayerFeatureNames(space);
      const std::vector<double> layer_values = PerLayerFeatures(config, space);
      nlohmann::json per_layer;
      for (size_t i = 0; i < layer_names.size(); ++i) per_layer[layer_names[i]] = layer_values[i];
      out["per_layer"] = per_layer;
    }
    PrintJson(out);
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%s in %s\n%s\n", opts.file, space.name, CanonicalKey(config));
  for (int i = 0; i < kNumHatFeatures; ++i) {
    std::cout << absl::StrFormat("  %-34s %g\n", names[i], features[i]);
  }
  std::cout << absl::StrFormat("  %-34s %d (embedding %d)\n", "params", cost.params,
                               cost.embedding_params);
  std::cout << absl::StrFormat(
      "  %-34s %.4g (encoder %.4g, decoder %.4g of which output projection %.4g)\n",
      absl::StrFormat("MACs (L=%d, T=%d, beam %d)", opts.shape.source_tokens,
                      opts.shape.decoder_steps, opts.shape.beam),
      static_cast<double>(macs), static_cast<double>(cost.encoder_macs),
      static_cast<double>(cost.decoder_macs), static_cast<double>(cost.output_projection_macs));
  if (opts.per_layer) {
    const std::vector<std::string> layer_names = PerLayerFeatureNames(space);
    const std::vector<double> layer_values = PerLayerFeatures(config, space);
    for (size_t i = 0; i < layer_names.size(); ++i) {
      std::cout << absl::StrFormat("  %-34s %g\n", layer_names[i], layer_values[i]);
    }
  }
  return absl::OkStatus();
}

absl::Status RunConvertOrError(const ConfigOptions& opts) {
  HAT_ASSIGN_OR_RETURN(ParsedConfig parsed, LoadSubTransformerConfigFile(opts.file));
  if (opts.to == "json") {
    std::cout << ConfigToJson(parsed.config);
  } else if (opts.to == "hat-yaml") {
    std::cout << ConfigToHatYaml(parsed.config);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--to=", opts.to, ": expected json or hat-yaml"));
  }
  return absl::OkStatus();
}

}  // namespace

void AddConfigCommands(CLI::App& app, int* exit_code) {
  CLI::App* group = app.add_subcommand("config", "Validate SubTransformer configs, show features");
  group->require_subcommand(1);
  auto opts = std::make_shared<ConfigOptions>();

  CLI::App* validate = group->add_subcommand(
      "validate", "Check a config against a design space (exit 0 valid, 1 with the reason)");
  validate->add_option("file", opts->file, "HAT SubTransformer YAML or hatfleet JSON")->required();
  validate->add_option("--space", opts->space, "Built-in name or space file")->required();
  validate->add_flag("--json", opts->json, "Print JSON");
  validate->callback([opts, exit_code] { *exit_code = RunValidate(*opts); });

  CLI::App* features = group->add_subcommand(
      "features", "HAT's 10 latency features of a config, its parameters and MACs");
  features->add_option("file", opts->file, "HAT SubTransformer YAML or hatfleet JSON")->required();
  features->add_option("--space", opts->space,
                       "Built-in name or space file (default: the first built-in space that "
                       "contains the config)");
  features->add_option("--source-tokens", opts->shape.source_tokens, "Source length L for MACs")
      ->capture_default_str();
  features->add_option("--decoder-steps", opts->shape.decoder_steps, "Decoding steps T for MACs")
      ->capture_default_str();
  features->add_option("--beam", opts->shape.beam, "Beam B for MACs")->capture_default_str();
  features->add_flag("--per-layer", opts->per_layer, "Also print the per-layer feature vector");
  features->add_flag("--json", opts->json,
                     "Print JSON (keys: HAT's CSV column names, params, macs)");
  features->callback([opts, exit_code] { *exit_code = ReportError(RunFeaturesOrError(*opts)); });

  CLI::App* convert = group->add_subcommand(
      "convert", "Print a config in another format (HAT's config-dict JSON or HAT's YAML)");
  convert->add_option("file", opts->file, "HAT SubTransformer YAML or hatfleet JSON")->required();
  convert->add_option("--to", opts->to, "json or hat-yaml")->capture_default_str();
  convert->callback([opts, exit_code] { *exit_code = ReportError(RunConvertOrError(*opts)); });
}

}  // namespace hat::cli
