// Benchmark: the memory a measurement takes, and that building the measured SubTransformer alone
// (SubTransformer::Random, what LatencyWorkloadFactory does) leaves its latency unchanged against
// extracting it from a whole random SuperTransformer (what the agent did before).
//
//   build/bin/agent_memory_bench peak --space NAME --source random|extract|random-after-super
//       One process, one model: the space's largest SubTransformer built the given way, then
//       measured (HAT's protocol, 3 warm-ups, 5 runs). Prints JSON: the process's resident memory
//       before building (LibTorch loaded), its peak (VmHWM) and the model's bytes.
//       (random-after-super: the random model built after a SuperTransformer was built and freed)
//   build/bin/agent_memory_bench latency --space NAME [--rounds 6] [--random-first]
//       Both ways in one process, measured alternately (default protocol) `rounds` times each.
//       Prints JSON: both medians and their ratio. All modes take --threads (1).
//   build/bin/agent_memory_bench largest --space NAME
//       Prints the largest SubTransformer as HAT's YAML (for hatctl jobs submit --config).
//
// bench/agent_memory.sh runs every built-in space through these and through a real hat-agent.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/builtin_spaces.h"
#include "common/config_io.h"
#include "common/median.h"
#include "common/sampling.h"
#include "engine/latency_workload.h"
#include "engine/runtime.h"
#include "engine/sub_transformer.h"
#include "engine/super_transformer.h"
#include "measure/measurer.h"

namespace {

// A /proc/self/status field in MB ("VmHWM", "VmRSS").
double ProcStatusMb(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (kv.first != field) continue;
    std::string value(absl::StripAsciiWhitespace(kv.second));
    value = std::string(absl::StripSuffix(value, " kB"));
    double kb = 0;
    return absl::SimpleAtod(value, &kb) ? kb / 1024.0 : -1;
  }
  return -1;
}

int Fail(const absl::Status& s) {
  std::cerr << "agent_memory_bench: " << s << "\n";
  return 1;
}

// The largest SubTransformer of `space`, built the way `source` names.
absl::StatusOr<hat::SubTransformer> Build(const hat::DesignSpace& space,
                                          const std::string& source) {
  const hat::SubTransformerConfig config = hat::LargestConfig(space);
  if (source == "random") return hat::SubTransformer::Random(space, config, 1);
  if (source == "random-after-super") {  // the same model, built after a SuperTransformer was freed
    auto super = hat::SuperTransformer::Create(space, 1);
    if (!super.ok()) return super.status();
    super->reset();
    return hat::SubTransformer::Random(space, config, 1);
  }
  if (source != "extract") {
    return absl::InvalidArgumentError("--source " + source +
                                      ": expected random, extract or random-after-super");
  }
  absl::StatusOr<std::shared_ptr<hat::SuperTransformer>> super =
      hat::SuperTransformer::Create(space, 1);
  if (!super.ok()) return super.status();
  return hat::SubTransformer::Extract(**super, config);  // the SuperTransformer is freed here
}

hat::WorkloadShape Shape(const hat::MeasurementProtocol& p) {
  return {p.source_tokens, p.decoder_steps, p.beam};
}

int Peak(const hat::DesignSpace& space, const std::string& source) {
  const double before_mb = ProcStatusMb("VmRSS");
  absl::StatusOr<hat::SubTransformer> model = Build(space, source);
  if (!model.ok()) return Fail(model.status());
  const double model_mb = model->ResidentBytes() / (1024.0 * 1024.0);
  const int64_t params = model->ParameterCount();
  hat::MeasurementProtocol protocol = hat::MeasurementProtocol::Hat();
  protocol.warmup_runs = 3;
  protocol.min_runs = protocol.max_runs = 5;
  absl::StatusOr<std::unique_ptr<hat::TimedWorkload>> workload =
      hat::MakeLatencyWorkload(*std::move(model), Shape(protocol), "cpu");
  if (!workload.ok()) return Fail(workload.status());
  absl::StatusOr<hat::ConfigMeasurement> m = hat::MeasureWorkload(**workload, protocol);
  if (!m.ok()) return Fail(m.status());
  std::cout << nlohmann::json{{"space", space.name},
                              {"source", source},
                              {"params", params},
                              {"model_mb", model_mb},
                              {"rss_before_mb", before_mb},
                              {"peak_rss_mb", ProcStatusMb("VmHWM")},
                              {"rss_after_mb", ProcStatusMb("VmRSS")},
                              {"latency_ms", m->total_ms}}
                   .dump()
            << "\n";
  return 0;
}

int Latency(const hat::DesignSpace& space, int rounds, bool random_first) {
  const hat::MeasurementProtocol protocol = hat::MeasurementProtocol::Default();
  std::vector<std::unique_ptr<hat::TimedWorkload>> workloads(2);
  // Built in `order`: what was allocated and freed before a model can change its speed by a few
  // percent (a SuperTransformer built and freed first slows what comes after), so
  // --random-first shows whether a difference follows the model or the process's history.
  const std::vector<int> order = random_first ? std::vector<int>{1, 0} : std::vector<int>{0, 1};
  for (int index : order) {
    const std::string source = index == 0 ? "extract" : "random";
    absl::StatusOr<hat::SubTransformer> model = Build(space, source);
    if (!model.ok()) return Fail(model.status());
    absl::StatusOr<std::unique_ptr<hat::TimedWorkload>> w =
        hat::MakeLatencyWorkload(*std::move(model), Shape(protocol), "cpu");
    if (!w.ok()) return Fail(w.status());
    workloads[index] = *std::move(w);
  }
  std::vector<double> ms[2];
  for (int r = 0; r < rounds; ++r) {
    for (int i : {r % 2, 1 - r % 2}) {  // alternate which goes first
      absl::StatusOr<hat::ConfigMeasurement> m = hat::MeasureWorkload(*workloads[i], protocol);
      if (!m.ok()) return Fail(m.status());
      ms[i].push_back(m->total_ms);
    }
  }
  const double extract = hat::Median(ms[0]), random = hat::Median(ms[1]);
  std::cout << nlohmann::json{{"space", space.name},
                              {"rounds", rounds},
                              {"built_first", random_first ? "random" : "extract"},
                              {"extract_ms", ms[0]},
                              {"random_ms", ms[1]},
                              {"extract_median_ms", extract},
                              {"random_median_ms", random},
                              {"ratio", random / extract}}
                   .dump()
            << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"agent_memory_bench: a measurement's memory, and latency by how the model is built"};
  app.require_subcommand(1);
  std::string space_name, source = "random";
  int threads = 1, rounds = 6;
  bool random_first = false;
  for (CLI::App* cmd : {app.add_subcommand("peak", "Peak memory of one model's measurement"),
                        app.add_subcommand("latency", "Latency, extracted vs random, interleaved"),
                        app.add_subcommand("largest", "The largest SubTransformer as HAT YAML")}) {
    cmd->add_option("--space", space_name, "Built-in design space")->required();
    cmd->add_option("--threads", threads, "Intra-op threads")->capture_default_str();
  }
  app.get_subcommand("peak")->add_option("--source", source, "random or extract");
  app.get_subcommand("latency")->add_option("--rounds", rounds, "Measurements of each");
  app.get_subcommand("latency")->add_flag("--random-first", random_first,
                                          "Build the random model first (default: extracted)");
  CLI11_PARSE(app, argc, argv);
  absl::StatusOr<hat::DesignSpace> space = hat::BuiltinSpace(space_name);
  if (!space.ok()) return Fail(space.status());
  if (app.got_subcommand("largest")) {
    std::cout << hat::ConfigToHatYaml(hat::LargestConfig(*space));
    return 0;
  }
  if (absl::Status s = hat::ConfigureThreads(threads); !s.ok()) return Fail(s);
  if (app.got_subcommand("peak")) return Peak(*space, source);
  return Latency(*space, rounds, random_first);
}
