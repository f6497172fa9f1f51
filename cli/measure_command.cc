// `hatctl measure --config FILE | --space NAME --sample N [--seed S] [--device cpu|cuda]
//  [--threads T] [--protocol hat|default] [--repeats R] [--json]`
#include "cli/measure_command.h"

#include <cmath>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/cli_output.h"
#include "cli/config_source.h"
#include "common/sampling.h"
#include "common/status_macros.h"
#include "engine/latency_workload.h"
#include "engine/runtime.h"
#include "measure/hardware.h"
#include "measure/measure_json.h"
#include "measure/session.h"

namespace hat::cli {
namespace {

constexpr int kMaxConfigs = 100000;

struct MeasureOptions {
  std::string config_file;
  std::string space;
  int sample = 0;
  uint64_t seed = 1;
  std::string device = "cpu";
  int threads = 1;
  std::string protocol = "default";
  int repeats = 1;
  // Protocol overrides; < 0 keeps the preset's value.
  double cooldown_s = -1;
  int min_runs = -1;
  int max_runs = -1;
  double target_rse = -1;
  double time_budget_s = -1;
  double min_time_s = -1;
  bool pin_cpus = false;
  int reference_runs = 0;
  uint64_t weights_seed = 1;
  bool json = false;
};

absl::Status RunMeasure(const MeasureOptions& o) {
  HAT_ASSIGN_OR_RETURN(MeasurementProtocol protocol, MeasurementProtocol::FromName(o.protocol));
  protocol.threads = o.threads;
  protocol.pin_cpus = o.pin_cpus;
  if (o.cooldown_s >= 0) protocol.cooldown_s = o.cooldown_s;
  if (o.min_runs >= 0) protocol.min_runs = o.min_runs;
  if (o.max_runs >= 0) protocol.max_runs = o.max_runs;
  if (o.target_rse >= 0) protocol.target_rse = o.target_rse;
  if (o.time_budget_s >= 0) protocol.time_budget_s = o.time_budget_s;
  if (o.min_time_s >= 0) protocol.min_time_s = o.min_time_s;
  // The HAT preset runs a fixed count: --min-runs alone sets it.
  if (protocol.preset == MeasurementProtocol::Preset::kHat && o.min_runs >= 0 && o.max_runs < 0) {
    protocol.max_runs = protocol.min_runs;
  }
  protocol.reference_runs = o.reference_runs;
  HAT_RETURN_IF_ERROR(protocol.Validate());
  if (o.repeats < 1 || o.repeats > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("--repeats=", o.repeats, ": must be in [1, 100]"));
  }
  HAT_ASSIGN_OR_RETURN(auto space_and_configs,
                       LoadConfigsFromFlags(o.config_file, o.space, o.sample, o.seed, kMaxConfigs));
  const DesignSpace& space = space_and_configs.first;
  const std::vector<SubTransformerConfig>& configs = space_and_configs.second;

  HAT_RETURN_IF_ERROR(ConfigureThreads(protocol.threads));
  if (protocol.pin_cpus) HAT_RETURN_IF_ERROR(PinToCpus(protocol.threads));
  const HardwareInfo hardware = DescribeRuntime(o.device);
  if (IsReferenceBlas(hardware.blas)) {
    std::cerr << "hatctl: warning: LibTorch runs on reference BLAS (" << hardware.blas
              << "); install libopenblas0-openmp for representative numbers\n";
  }
  HAT_ASSIGN_OR_RETURN(auto factory,
                       LatencyWorkloadFactory::Create(space, o.device, o.weights_seed));
  const WorkloadShape shape{protocol.source_tokens, protocol.decoder_steps, protocol.beam};

  SessionOptions session;
  session.protocol = protocol;
  session.repeats = o.repeats;
  session.seed = o.seed;
  session.reference_builder = [&] { return factory->Create(SmallestConfig(space), shape); };
  const int total = static_cast<int>(configs.size()) * o.repeats;
  auto progress = [&](const SessionProgress& p, int index, const ConfigMeasurement& m) {
    if (total > 1) {
      PrintProgress("measure", p.done, p.total, p.rate_per_s, p.eta_s,
                    absl::StrFormat("config %d: %.2f ms", index, m.total_ms));
    }
  };
  HAT_ASSIGN_OR_RETURN(auto results, RunMeasurementSession(
                                         static_cast<int>(configs.size()),
                                         [&](int i) { return factory->Create(configs[i], shape); },
                                         session, progress));

  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < configs.size(); ++i) {
    // With repeats, the config's figures are the median over its repeats' totals, and the spread
    // between repeats is reported as their coefficient of variation.
    std::vector<const ConfigMeasurement*> reps;
    for (const ConfigMeasurement& m : results[i]) reps.push_back(&m);
    std::sort(reps.begin(), reps.end(), [](auto* a, auto* b) { return a->total_ms < b->total_ms; });
    const ConfigMeasurement& mid = *reps[reps.size() / 2];
    nlohmann::json row = MeasurementToJson(mid, protocol);
    row["index"] = i;
    row["config_id"] = HexId(ConfigId(configs[i]));
    row["canonical_key"] = CanonicalKey(configs[i]);
    if (o.repeats > 1) {
      double mean = 0, sq = 0;
      nlohmann::json totals = nlohmann::json::array();
      for (const ConfigMeasurement& m : results[i]) {
        mean += m.total_ms / results[i].size();
        totals.push_back(m.total_ms);
      }
      for (const ConfigMeasurement& m : results[i]) sq += (m.total_ms - mean) * (m.total_ms - mean);
      row["repeat_total_ms"] = totals;
      row["repeat_cv"] = std::sqrt(sq / (results[i].size() - 1)) / mean;
      // Every repeat in full (the row's own figures are the middle one's), so that no sample
      // taken is lost to the summary.
      nlohmann::json repeats = nlohmann::json::array();
      for (const ConfigMeasurement& m : results[i]) {
        nlohmann::json r = MeasurementToJson(m, protocol);
        r["started_at_s"] = m.started_at_s;
        repeats.push_back(std::move(r));
      }
      row["repeat_measurements"] = std::move(repeats);
    }
    rows.push_back(row);
  }
  if (o.json) {
    PrintJson({{"space", space.name},
               {"protocol", ProtocolToJson(protocol)},
               {"hardware", HardwareToJson(hardware)},
               {"repeats", o.repeats},
               {"configs", rows}});
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%s, %s protocol, %d thread(s), %s, LibTorch %s, %s\n",
                               hardware.cpu_model, protocol.Name(), hardware.threads,
                               hardware.device, hardware.libtorch_version, hardware.blas);
  std::cout << absl::StrFormat("%5s  %-16s %12s %12s %12s %6s  %s\n", "index", "config",
                               "encoder_ms", "decoder_ms", "total_ms", "runs", "stop");
  for (const nlohmann::json& row : rows) {
    std::cout << absl::StrFormat("%5d  %-16s %12.2f %12.2f %12.2f %6d  %s\n",
                                 row["index"].get<int>(), row["config_id"].get<std::string>(),
                                 row["encoder_ms"].get<double>(), row["decoder_ms"].get<double>(),
                                 row["total_ms"].get<double>(), row["runs"].get<int>(),
                                 row["stop_reason"].get<std::string>());
  }
  return absl::OkStatus();
}

}  // namespace

void AddMeasureCommand(CLI::App& app, int* exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "measure", "Measure SubTransformer latency on this machine (encoder, decoder, total)");
  auto o = std::make_shared<MeasureOptions>();
  cmd->add_option("--config", o->config_file, "A SubTransformer (HAT YAML or hatfleet JSON)");
  cmd->add_option("--space", o->space, "Design space (built-in name or file)");
  cmd->add_option("--sample", o->sample, "Measure N configs sampled from --space");
  cmd->add_option("--seed", o->seed, "Seed of the sample and of the measurement order")
      ->capture_default_str();
  cmd->add_option("--device", o->device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--threads", o->threads, "Intra-op threads")->capture_default_str();
  cmd->add_option("--protocol", o->protocol,
                  "hat (HAT's: 20 runs, trimmed mean) or default (adaptive, median)")
      ->capture_default_str();
  cmd->add_option("--repeats", o->repeats,
                  "Measure each config this many times, interleaved with the others")
      ->capture_default_str();
  cmd->add_option("--cooldown", o->cooldown_s, "Seconds of rest between measurements");
  cmd->add_option("--min-runs", o->min_runs,
                  "Timed runs at least (HAT preset: exactly) per measurement");
  cmd->add_option("--max-runs", o->max_runs, "Timed runs at most per measurement (default)");
  cmd->add_option("--target-rse", o->target_rse,
                  "Stop once the median's relative standard error is below this (default)");
  cmd->add_option("--time-budget", o->time_budget_s,
                  "Seconds of timed runs at most per measurement (default; 0: none)");
  cmd->add_option("--min-time", o->min_time_s,
                  "Seconds of timed runs at least per measurement (default)");
  cmd->add_flag("--pin-cpus", o->pin_cpus, "Pin to the last --threads CPUs");
  cmd->add_option("--reference-runs", o->reference_runs,
                  "Drift correction: time the space's smallest config this many times before "
                  "and after each config (0: off)")
      ->capture_default_str();
  cmd->add_option("--weights-seed", o->weights_seed, "Seed of the random weights")
      ->capture_default_str();
  cmd->add_flag("--json", o->json,
                "Print JSON (per config: encoder_ms, decoder_ms, total_ms, "
                "statistics with raw samples; hardware and protocol)");
  cmd->callback([o, exit_code] { *exit_code = ReportError(RunMeasure(*o)); });
}

}  // namespace hat::cli
