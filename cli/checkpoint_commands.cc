// `hatctl checkpoint info|average`; see checkpoint_commands.h.
#include "cli/checkpoint_commands.h"

#include <filesystem>
#include <iostream>
#include <memory>

#include "absl/strings/str_format.h"
#include "cli/cli_output.h"
#include "common/config_io.h"
#include "common/design_space_io.h"
#include "common/status_macros.h"
#include "train/checkpoint.h"

namespace hat::cli {
namespace {

nlohmann::json InfoJson(const std::string& path, const CheckpointInfo& info) {
  nlohmann::json j = {{"checkpoint", path},
                      {"kind", info.kind},
                      {"step", info.step},
                      {"space", DesignSpaceToJsonValue(info.space)},
                      {"source_lang", info.source_lang},
                      {"target_lang", info.target_lang},
                      {"corpus_dir", info.corpus_dir},
                      {"averaged_from", info.averaged_from}};
  j["config"] = info.config ? ConfigToJsonValue(*info.config) : nlohmann::json();
  j["train_seconds"] = info.train_seconds ? nlohmann::json(*info.train_seconds) : nlohmann::json();
  // The options are the trainer's own JSON; kept as text if a damaged file's do not parse.
  nlohmann::json options = nlohmann::json::parse(info.options_json, nullptr, false);
  j["options"] = options.is_discarded() ? nlohmann::json(info.options_json) : options;
  return j;
}

struct InfoFlags {
  std::string path;
  bool json = false;
};

absl::Status RunInfo(const InfoFlags& f) {
  HAT_ASSIGN_OR_RETURN(const std::string path, ResolveCheckpoint(f.path, /*prefer_average=*/false));
  HAT_ASSIGN_OR_RETURN(const CheckpointInfo info, ReadCheckpointInfo(path));
  HAT_ASSIGN_OR_RETURN(const std::string weights, ParametersSha256(path));
  if (f.json) {
    nlohmann::json j = InfoJson(path, info);
    j["parameters_sha256"] = weights;
    PrintJson(j);
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%s: %s checkpoint of design space '%s' at step %d (%s-%s)\n", path,
                               info.kind, info.space.name, info.step, info.source_lang,
                               info.target_lang);
  if (info.averaged_from > 0) {
    std::cout << absl::StrFormat("average of %d checkpoints (no optimizer state)\n",
                                 info.averaged_from);
  }
  std::cout << "training time: "
            << (info.train_seconds ? absl::StrFormat("%.0f s", *info.train_seconds)
                                   : std::string("not recorded"))
            << "\ncorpus: " << info.corpus_dir << "\nparameters SHA-256: " << weights << "\n";
  return absl::OkStatus();
}

struct AverageFlags {
  std::vector<std::string> inputs;
  std::string out;
  int last = 0;
  bool json = false;
};

absl::Status RunAverage(const AverageFlags& f) {
  HAT_ASSIGN_OR_RETURN(const std::vector<std::string> paths, ExpandCheckpoints(f.inputs, f.last));
  HAT_ASSIGN_OR_RETURN(const CheckpointInfo info, AverageCheckpoints(paths, f.out));
  if (f.json) {
    PrintJson({{"out", f.out},
               {"averaged_from", info.averaged_from},
               {"inputs", paths},
               {"step", info.step}});
  } else {
    std::cout << absl::StrFormat("averaged %d checkpoints (%s ... %s) into %s\n", paths.size(),
                                 paths.front(), paths.back(), f.out);
  }
  return absl::OkStatus();
}

}  // namespace

void AddCheckpointCommands(CLI::App& app, int* exit_code) {
  CLI::App* group = app.add_subcommand("checkpoint", "Inspect and average training checkpoints");
  group->require_subcommand(1);

  CLI::App* info = group->add_subcommand("info", "What a checkpoint holds (step, space, time)");
  auto inf = std::make_shared<InfoFlags>();
  info->add_option("checkpoint", inf->path, "Checkpoint file or run directory (its newest)")
      ->required();
  info->add_flag("--json", inf->json, "Print JSON: kind, step, space, config, train_seconds");
  info->callback([inf, exit_code] { *exit_code = ReportError(RunInfo(*inf)); });

  CLI::App* average = group->add_subcommand(
      "average", "Average the parameters of checkpoints of one run into a new checkpoint");
  auto af = std::make_shared<AverageFlags>();
  average
      ->add_option("inputs", af->inputs,
                   "Checkpoint files, or run directories (their checkpoint_<step>.pt files)")
      ->required();
  average->add_option("--out", af->out, "The averaged checkpoint to write")->required();
  average->add_option("--last", af->last, "Only the last N of the inputs (0: all)")
      ->capture_default_str();
  average->add_flag("--json", af->json, "Print JSON: out, averaged_from, inputs, step");
  average->callback([af, exit_code] { *exit_code = ReportError(RunAverage(*af)); });
}

}  // namespace hat::cli
