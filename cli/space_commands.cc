// `hatctl space list|show|sample|smallest`.
#include "cli/space_commands.h"

#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/cli_output.h"
#include "common/builtin_spaces.h"
#include "common/config_io.h"
#include "common/design_space_io.h"
#include "common/file_util.h"
#include "common/sampling.h"
#include "common/status_macros.h"

namespace hat::cli {
namespace {

constexpr int kMaxSampleCount = 1'000'000;

struct SpaceOptions {
  std::string space;
  bool json = false;
  int count = 10;
  uint64_t seed = 1;
  std::string out_dir;
  std::string out;
};

int RunList(const SpaceOptions& opts) {
  nlohmann::json rows = nlohmann::json::array();
  for (const std::string& name : BuiltinSpaceNames()) {
    const DesignSpace space = *BuiltinSpace(name);
    rows.push_back({{"name", name}, {"cardinality", space.Cardinality()}});
    if (!opts.json)
      std::cout << absl::StrFormat("%-28s %.3g SubTransformers\n", name, space.Cardinality());
  }
  if (opts.json) PrintJson(rows);
  return kExitOk;
}

int RunShow(const SpaceOptions& opts) {
  absl::StatusOr<DesignSpace> space = ResolveDesignSpace(opts.space);
  if (!space.ok()) return ReportError(space.status());
  if (opts.json) {
    // Exactly the hatfleet space format, so the output can be edited and loaded back.
    PrintJson(DesignSpaceToJsonValue(*space));
    return kExitOk;
  }
  const SuperTransformerDims& s = space->super;
  std::cout << absl::StrFormat("design space %s: %.3g SubTransformers\n", space->name,
                               space->Cardinality());
  std::cout << absl::StrFormat(
      "SuperTransformer: encoder %d layers, embed %d, ffn %d, %d heads; decoder %d layers, "
      "embed %d, ffn %d, %d heads;\n                  qkv %d, vocabulary %d, max positions %d\n",
      s.encoder_layers, s.encoder_embed_dim, s.encoder_ffn_embed_dim, s.encoder_attention_heads,
      s.decoder_layers, s.decoder_embed_dim, s.decoder_ffn_embed_dim, s.decoder_attention_heads,
      s.qkv_dim, s.vocab_size, s.max_positions);
  std::cout << "choices:\n";
  for (const GeneInfo& info : AllGenes()) {
    std::cout << absl::StrFormat("  %-30s %-20s %s\n", info.name,
                                 FormatChoices(space->Choices(info.gene)),
                                 info.per_layer ? "per layer" : "");
  }
  return kExitOk;
}

absl::Status RunSampleOrError(const SpaceOptions& opts) {
  if (opts.count < 1 || opts.count > kMaxSampleCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("--count=", opts.count, ": must be in [1, ", kMaxSampleCount, "]"));
  }
  HAT_ASSIGN_OR_RETURN(DesignSpace space, ResolveDesignSpace(opts.space));
  const std::vector<SubTransformerConfig> configs = SampleConfigs(space, opts.count, opts.seed);
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < configs.size(); ++i) {
    const SubTransformerConfig& config = configs[i];
    const std::string id = HexId(ConfigId(config));
    if (!opts.out_dir.empty()) {
      const std::string path = absl::StrFormat("%s/config_%06d.yml", opts.out_dir, i);
      HAT_RETURN_IF_ERROR(WriteFileAtomically(path, ConfigToHatYaml(config)));
    }
    if (opts.json) {
      rows.push_back({{"index", i},
                      {"config_id", id},
                      {"canonical_key", CanonicalKey(config)},
                      {"config", ConfigToJsonValue(config)}});
    } else {
      std::cout << absl::StrFormat("%6d  %s  %s\n", i, id, CanonicalKey(config));
    }
  }
  if (opts.json) {
    PrintJson({{"space", space.name}, {"seed", opts.seed}, {"configs", rows}});
  }
  return absl::OkStatus();
}

// The smallest SubTransformer is the fastest one a latency model knows of: a search refuses a
// limit below its predicted latency, so scripts ask for it to choose limits that can be met.
absl::Status RunSmallestOrError(const SpaceOptions& opts) {
  HAT_ASSIGN_OR_RETURN(DesignSpace space, ResolveDesignSpace(opts.space));
  const SubTransformerConfig config = SmallestConfig(space);
  if (!opts.out.empty()) {
    HAT_RETURN_IF_ERROR(WriteFileAtomically(opts.out, ConfigToHatYaml(config)));
  }
  if (opts.json) {
    PrintJson({{"space", space.name},
               {"config_id", HexId(ConfigId(config))},
               {"canonical_key", CanonicalKey(config)},
               {"config", ConfigToJsonValue(config)}});
  } else if (opts.out.empty()) {
    std::cout << ConfigToHatYaml(config);
  }
  return absl::OkStatus();
}

}  // namespace

void AddSpaceCommands(CLI::App& app, int* exit_code) {
  CLI::App* group = app.add_subcommand("space", "Inspect design spaces and sample from them");
  group->require_subcommand(1);
  auto opts = std::make_shared<SpaceOptions>();

  CLI::App* list = group->add_subcommand("list", "List the built-in design spaces");
  list->add_flag("--json", opts->json, "Print JSON");
  list->callback([opts, exit_code] { *exit_code = RunList(*opts); });

  CLI::App* show = group->add_subcommand("show", "Print a design space (built-in name or file)");
  show->add_option("space", opts->space, "Built-in name or HAT YAML / hatfleet JSON file")
      ->required();
  show->add_flag("--json", opts->json, "Print the space in hatfleet's JSON format");
  show->callback([opts, exit_code] { *exit_code = RunShow(*opts); });

  CLI::App* sample =
      group->add_subcommand("sample", "Sample SubTransformers uniformly (reproducible by seed)");
  sample->add_option("space", opts->space, "Built-in name or space file")->required();
  sample->add_option("--count,-n", opts->count, "How many configs")->capture_default_str();
  sample->add_option("--seed", opts->seed, "Seed; the same seed gives the same configs everywhere")
      ->capture_default_str();
  sample
      ->add_option("--out-dir", opts->out_dir,
                   "Also write each config as HAT SubTransformer YAML into this directory")
      ->check(CLI::ExistingDirectory);
  sample->add_flag("--json", opts->json, "Print JSON");
  sample->callback([opts, exit_code] { *exit_code = ReportError(RunSampleOrError(*opts)); });

  CLI::App* smallest = group->add_subcommand(
      "smallest", "The smallest SubTransformer of a space (HAT YAML; the fastest it holds)");
  smallest->add_option("space", opts->space, "Built-in name or space file")->required();
  smallest->add_option("--out", opts->out, "Write the HAT YAML to this file instead of stdout");
  smallest->add_flag("--json", opts->json, "Print JSON");
  smallest->callback([opts, exit_code] { *exit_code = ReportError(RunSmallestOrError(*opts)); });
}

}  // namespace hat::cli
