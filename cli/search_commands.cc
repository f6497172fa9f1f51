// `hatctl search run`: HAT's hardware-aware evolutionary search on this machine, without a
// server: a SuperTransformer checkpoint, a latency predictor file per constrained device class,
// one or more limits. Everything goes to --out: the fitness cache (reused by later runs on the
// same SuperTransformer), the state after every iteration (an interrupted run resumes from it
// when the same command is run again), and the result with the winners as HAT YAML and JSON.
#include "cli/search_commands.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/cli_output.h"
#include "cli/interrupt.h"
#include "cli/pareto_plot.h"
#include "cli/remote_client.h"
#include "common/config_io.h"
#include "common/file_util.h"
#include "common/proto_conversions.h"
#include "common/status_macros.h"
#include "engine/sub_transformer.h"
#include "measure/measure_proto.h"
#include "measure/protocol.h"
#include "search/evolution.h"
#include "search/fitness_cache.h"
#include "search/predictor_latency.h"
#include "search/supernet_fitness.h"
#include "search/sweep.h"
#include "train/trained_model.h"

namespace hat::cli {
namespace {

struct SearchRunFlags {
  std::string supernet;
  std::vector<std::string> predictors;   // CLASS=FILE
  std::vector<std::string> constraints;  // CLASS:LIMIT_MS[,LIMIT_MS...]
  std::string out;
  EvolutionOptions evolution;
  std::string strategy = "evolution";
  SupernetFitnessOptions fitness;
  bool json = false;
};

// This process's peak resident memory in MB (VmHWM), 0 where /proc does not say.
double PeakResidentMb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atof(line.c_str() + 6) / 1024.0;  // kB
  }
  return 0;
}

// Latency predictors by device class, from CLASS=FILE flags.
absl::StatusOr<std::map<std::string, std::unique_ptr<PredictorLatency>>> LoadPredictors(
    const std::vector<std::string>& flags) {
  std::map<std::string, std::unique_ptr<PredictorLatency>> out;
  for (const std::string& flag : flags) {
    const size_t eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--predictor '", flag, "': expected CLASS=FILE (hatctl predictor fit)"));
    }
    HAT_ASSIGN_OR_RETURN(LatencyPredictor predictor, LatencyPredictor::Load(flag.substr(eq + 1)));
    out[flag.substr(0, eq)] = std::make_unique<PredictorLatency>(std::move(predictor));
  }
  return out;
}

nlohmann::json ScoredJson(const ScoredConfig& s, const SweepPoint& limits) {
  nlohmann::json latency = nlohmann::json::object();
  for (size_t i = 0; i < limits.size() && i < s.latency_ms.size(); ++i) {
    latency[limits[i].first] = s.latency_ms[i];
  }
  return {{"config", ConfigToJsonValue(s.config)},
          {"valid_loss", s.loss},
          {"predicted_latency_ms", latency}};
}

// What a saved state must have been made with to be resumed: everything that changes results.
std::string SettingsKey(const SearchRunFlags& f, const std::string& fitness,
                        const SweepPoint& limits) {
  const EvolutionOptions& e = f.evolution;
  return absl::StrCat(fitness, " strategy ", f.strategy, " iterations ", e.iterations,
                      " population ", e.population, " parents ", e.parents, " mutations ",
                      e.mutations, " crossovers ", e.crossovers, " p ", e.mutation_prob, " seed ",
                      e.seed, " limits ",
                      absl::StrJoin(limits, ",", [](std::string* out, const auto& l) {
                        absl::StrAppend(out, l.first, ":", l.second);
                      }));
}

absl::Status RunSearch(SearchRunFlags f) {
  HAT_ASSIGN_OR_RETURN(f.evolution.strategy, ParseSearchStrategy(f.strategy));
  HAT_RETURN_IF_ERROR(f.evolution.Validate());
  std::vector<ConstraintSpec> specs;
  for (const std::string& c : f.constraints) {
    HAT_ASSIGN_OR_RETURN(ConstraintSpec spec, ParseConstraintSpec(c));
    specs.push_back(std::move(spec));
  }
  HAT_ASSIGN_OR_RETURN(std::vector<SweepPoint> sweep, ExpandSweep(specs));
  HAT_ASSIGN_OR_RETURN(auto predictors, LoadPredictors(f.predictors));
  for (const ConstraintSpec& spec : specs) {
    if (predictors.count(spec.device_class) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("--constraint ", spec.device_class,
                                                     ": no --predictor ", spec.device_class,
                                                     "=FILE for that device class"));
    }
  }
  std::error_code made;
  std::filesystem::create_directories(f.out, made);
  if (made) return absl::UnavailableError(absl::StrCat("--out ", f.out, ": ", made.message()));

  std::cerr << "hatctl: loading " << f.supernet << "\n";
  HAT_ASSIGN_OR_RETURN(std::unique_ptr<SupernetFitness> fitness,
                       SupernetFitness::Load(f.supernet, f.fitness));
  HAT_ASSIGN_OR_RETURN(std::unique_ptr<FitnessCache> cache,
                       OpenFileFitnessCache(f.out + "/fitness_cache.jsonl"));
  InterruptScope interrupt;

  nlohmann::json runs = nlohmann::json::array();
  std::vector<FrontPoint> points;
  int64_t evaluations = 0, cache_hits = 0;
  // What the search cost, kept with each run's saved state so that a resumed or repeated command
  // reports the work of every invocation, not only its own.
  double search_seconds = 0, peak_mb = 0;
  const auto start = std::chrono::steady_clock::now();
  for (size_t r = 0; r < sweep.size(); ++r) {
    const SweepPoint& limits = sweep[r];
    std::vector<LatencyConstraint> constraints;
    for (const auto& [device_class, limit] : limits) {
      constraints.push_back({device_class, limit, predictors.at(device_class).get()});
    }
    // Resume from the state saved after the last completed iteration, when it was made with
    // the same settings.
    const std::string state_file = absl::StrCat(f.out, "/search_state_", r, ".json");
    const std::string settings = SettingsKey(f, fitness->Identity(), limits);
    SearchState state;
    nlohmann::json timing = nlohmann::json::array();  // per iteration, kept with the state
    double run_peak_mb = 0;
    if (std::filesystem::exists(state_file)) {
      HAT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(state_file, 1 << 30));
      const nlohmann::json saved = nlohmann::json::parse(text, nullptr, false);
      if (!saved.is_object() || saved.value("settings", "") != settings) {
        return absl::FailedPreconditionError(
            absl::StrCat(state_file,
                         " is from a search with other settings or another SuperTransformer; "
                         "use another --out, or delete it to start over"));
      }
      HAT_ASSIGN_OR_RETURN(state, SearchState::FromJson(saved["state"].dump(), fitness->space()));
      if (saved.contains("timing") && saved["timing"].is_array()) timing = saved["timing"];
      run_peak_mb = saved.value("peak_resident_mb", 0.0);
      std::cerr << "hatctl: resuming after iteration " << state.iteration << "\n";
    }
    HAT_ASSIGN_OR_RETURN(EvolutionSearch search,
                         EvolutionSearch::Create(fitness->space(), f.evolution, constraints,
                                                 fitness.get(), cache.get(), std::move(state)));
    const auto run_start = std::chrono::steady_clock::now();
    const int first = search.state().iteration;
    while (!search.done()) {
      if (interrupt.interrupted()) {
        return absl::CancelledError(absl::StrCat("interrupted after iteration ",
                                                 search.state().iteration,
                                                 "; run the same command again to resume"));
      }
      HAT_ASSIGN_OR_RETURN(IterationReport report, search.Step());
      timing.push_back({{"iteration", report.iteration},
                        {"best_loss", report.best.loss},
                        {"fitness_s", report.fitness_seconds},
                        {"latency_s", report.latency_seconds},
                        {"bookkeeping_s", report.bookkeeping_seconds}});
      run_peak_mb = std::max(run_peak_mb, PeakResidentMb());
      HAT_RETURN_IF_ERROR(WriteFileAtomically(
          state_file, nlohmann::json{{"settings", settings},
                                     {"state", nlohmann::json::parse(search.state().ToJson())},
                                     {"timing", timing},
                                     {"peak_resident_mb", run_peak_mb}}
                          .dump()));
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
      const double rate = (report.iteration - first) / std::max(seconds, 1e-9);
      PrintProgress(
          sweep.size() > 1 ? absl::StrCat("search ", r + 1, "/", sweep.size())
                           : std::string("search"),
          report.iteration, report.total_iterations, rate,
          (report.total_iterations - report.iteration) / std::max(rate, 1e-9),
          absl::StrFormat(
              "best loss %.4f at %s ms, %d evaluated, %d cached", report.best.loss,
              absl::StrJoin(report.best.latency_ms, "/",
                            [](std::string* o, double v) { absl::StrAppendFormat(o, "%.1f", v); }),
              report.evaluations, report.cache_hits));
    }
    const ScoredConfig& best = search.best();
    const std::string stem = absl::StrCat(f.out, "/winner_", r);
    HAT_RETURN_IF_ERROR(
        WriteFileAtomically(stem + ".yml", ConfigToHatYaml(ActiveOnly(best.config))));
    HAT_RETURN_IF_ERROR(WriteFileAtomically(stem + ".json", ConfigToJson(ActiveOnly(best.config))));
    nlohmann::json limits_json = nlohmann::json::object();
    for (const auto& [device_class, limit] : limits) limits_json[device_class] = limit;
    nlohmann::json history = nlohmann::json::array();
    for (const ScoredConfig& s : search.state().best_per_iteration) history.push_back(s.loss);
    runs.push_back({{"limits_ms", limits_json},
                    {"best", ScoredJson(best, limits)},
                    {"files", {stem + ".yml", stem + ".json"}},
                    {"best_loss_per_iteration", history},
                    {"evaluations", search.state().evaluations},
                    {"cache_hits", search.state().cache_hits},
                    {"iterations", timing}});
    evaluations += search.state().evaluations;
    cache_hits += search.state().cache_hits;
    peak_mb = std::max(peak_mb, run_peak_mb);
    for (const nlohmann::json& t : timing) {
      search_seconds +=
          t.value("fitness_s", 0.0) + t.value("latency_s", 0.0) + t.value("bookkeeping_s", 0.0);
    }
    points.push_back({static_cast<int>(r), best.loss, best.latency_ms[FrontAxis(specs)]});
  }
  nlohmann::json front = nlohmann::json::array();
  for (const FrontPoint& p : ParetoFront(points)) {
    front.push_back(
        {{"run", p.index}, {"valid_loss", p.loss}, {"predicted_latency_ms", p.latency_ms}});
  }
  const nlohmann::json result = {
      {"supernet", f.supernet},
      {"space", fitness->space().name},
      {"fitness", fitness->Identity()},
      {"valid_sentences", fitness->valid_sentences()},
      {"strategy", f.strategy},
      {"seed", f.evolution.seed},
      {"runs", runs},
      {"pareto", front},
      {"evaluations", evaluations},
      {"cache_hits", cache_hits},
      // One SuperTransformer shared by every evaluation: this is what a search costs in memory
      // (the most any invocation that ran iterations reached; this one's when none ran).
      {"peak_resident_mb", std::max(peak_mb, PeakResidentMb())},
      // The iterations' time over every invocation, and this invocation's wall time.
      {"seconds", search_seconds},
      {"this_invocation_seconds",
       std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  HAT_RETURN_IF_ERROR(WriteFileAtomically(f.out + "/result.json", result.dump(1) + "\n"));
  if (f.json) {
    PrintJson(result);
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%-4s %-24s %12s  %-26s %s\n", "run", "limits (ms)", "valid loss",
                               "predicted (ms)", "winner");
  for (size_t r = 0; r < runs.size(); ++r) {
    const nlohmann::json& run = runs[r];
    std::string limits, predicted;
    for (const auto& [device_class, limit] : run["limits_ms"].items()) {
      absl::StrAppendFormat(&limits, "%s%s<=%.4g", limits.empty() ? "" : " ", device_class,
                            limit.get<double>());
    }
    for (const auto& [device_class, ms] : run["best"]["predicted_latency_ms"].items()) {
      absl::StrAppendFormat(&predicted, "%s%s %.2f", predicted.empty() ? "" : " ", device_class,
                            ms.get<double>());
    }
    std::cout << absl::StrFormat("%-4d %-24s %12.4f  %-26s %s\n", r, limits,
                                 run["best"]["valid_loss"].get<double>(), predicted,
                                 run["files"][0].get<std::string>());
  }
  std::cout << absl::StrFormat("%d configs evaluated, %d answered by the cache; result in %s\n",
                               evaluations, cache_hits, f.out + "/result.json");
  return absl::OkStatus();
}

// ---- jobs submit search / search result (hat-server) ----

struct SearchSubmitFlags {
  RemoteOptions remote;
  std::string supernet_artifact;
  std::vector<std::string> constraints;
  EvolutionOptions evolution;
  std::string strategy = "evolution";
  int valid_sentences = 0;
  int threads = 0;
  std::string corpus;
  bool no_remeasure = false;
  std::vector<std::string> references;  // [NAME=]FILE
  int remeasure_repeats = 0;
  std::string remeasure_protocol;  // empty: the server's default
};

// `[NAME=]FILE`: a reference config, named by NAME or else by the file's stem.
absl::StatusOr<v1::NamedConfig> LoadReference(const std::string& text) {
  const size_t eq = text.find('=');
  const std::string file = eq == std::string::npos ? text : text.substr(eq + 1);
  v1::NamedConfig named;
  named.set_name(eq == std::string::npos ? std::filesystem::path(file).stem().string()
                                         : text.substr(0, eq));
  HAT_ASSIGN_OR_RETURN(ParsedConfig parsed, LoadSubTransformerConfigFile(file));
  ToProto(parsed.config, named.mutable_config());
  return named;
}

absl::Status SubmitSearch(const SearchSubmitFlags& f) {
  v1::SubmitJobRequest req;
  v1::SearchJobSpec* spec = req.mutable_spec()->mutable_search();
  spec->set_supernet_artifact(f.supernet_artifact);
  for (const std::string& text : f.constraints) {
    HAT_ASSIGN_OR_RETURN(ConstraintSpec c, ParseConstraintSpec(text));
    v1::LatencyConstraintSpec* out = spec->add_constraints();
    out->set_device_class(c.device_class);
    for (double limit : c.limits_ms) out->add_limits_ms(limit);
  }
  const EvolutionOptions& e = f.evolution;
  spec->set_iterations(e.iterations);
  spec->set_population(e.population);
  spec->set_parents(e.parents);
  spec->set_mutations(e.mutations);
  spec->set_crossovers(e.crossovers);
  spec->set_mutation_prob(e.mutation_prob);
  spec->set_seed(e.seed);
  spec->set_strategy(f.strategy);
  spec->set_valid_sentences(f.valid_sentences);
  spec->set_threads(f.threads);
  spec->set_corpus(f.corpus);
  spec->set_remeasure_winners(!f.no_remeasure);
  spec->set_remeasure_repeats(f.remeasure_repeats);
  if (!f.remeasure_protocol.empty()) {
    HAT_ASSIGN_OR_RETURN(MeasurementProtocol protocol,
                         MeasurementProtocol::FromName(f.remeasure_protocol));
    ToProto(protocol, spec->mutable_remeasure_protocol());
    spec->mutable_remeasure_protocol()->set_threads(0);  // each agent's own thread setting
  }
  for (const std::string& text : f.references) {
    HAT_ASSIGN_OR_RETURN(*spec->add_references(), LoadReference(text));
  }
  return SubmitAndPrint(f.remote, std::move(req));
}

absl::Status SearchResult(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  HAT_ASSIGN_OR_RETURN(v1::Job job, c.GetJob(o.job_id));
  if (!job.spec().has_search()) {
    return absl::InvalidArgumentError(absl::StrCat(o.job_id, " is not a search job"));
  }
  if (job.state() != v1::JOB_STATE_SUCCEEDED) {
    return absl::FailedPreconditionError(
        absl::StrCat(o.job_id, " has no result yet: ", v1::JobState_Name(job.state()), " (",
                     job.progress().phase(), ")", job.error().empty() ? "" : ": " + job.error()));
  }
  if (o.json) {
    std::cout << ToJson(job.result()) << "\n";
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%-20s %-5s %10s %12s  %s\n", "model", "front", "valid loss",
                               "params", "per device: limit, predicted, measured (ms)");
  auto print = [](const std::string& label, const v1::ParetoPoint& p) {
    std::string devices;
    for (const v1::ConstraintLatency& l : p.latencies()) {
      absl::StrAppendFormat(
          &devices, "%s%s %s: %.2f, %s", devices.empty() ? "" : "; ", l.device_class(),
          l.limit_ms() > 0 ? absl::StrFormat("<=%.4g", l.limit_ms()) : std::string("no limit"),
          l.predicted_ms(),
          l.measured_ms() > 0 ? absl::StrFormat("%.2f", l.measured_ms()) : std::string("-"));
    }
    std::cout << absl::StrFormat("%-20s %-5s %10.4f %12.0f  %s%s\n", label,
                                 p.on_front() ? "yes" : "", p.valid_loss(), p.params(), devices,
                                 p.breaks_limit() ? "  BREAKS ITS LIMIT when measured" : "");
  };
  for (int i = 0; i < job.result().pareto_size(); ++i) {
    print(absl::StrCat("winner ", i), job.result().pareto(i));
  }
  for (const v1::ParetoPoint& p : job.result().references()) {
    print(p.name().substr(0, 20), p);
  }
  std::cout << absl::StrFormat("%d configs evaluated, %d answered by the cache%s\n",
                               job.result().evaluations(), job.result().cache_hits(),
                               job.result().remeasure_job_id().empty()
                                   ? ""
                                   : "; re-measured by " + job.result().remeasure_job_id());
  return absl::OkStatus();
}

// The winners of a search job as files: HAT's YAML, hatfleet's JSON and the standalone
// SubTransformer (the job's artifacts, downloaded and checked).
absl::Status SearchExport(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  HAT_ASSIGN_OR_RETURN(v1::Job job, c.GetJob(o.job_id));
  if (!job.spec().has_search() || job.state() != v1::JOB_STATE_SUCCEEDED) {
    return absl::FailedPreconditionError(absl::StrCat(
        o.job_id, " is not a search job that succeeded (", job.progress().phase(), ")"));
  }
  std::error_code made;
  std::filesystem::create_directories(o.out, made);
  if (made) return absl::UnavailableError(absl::StrCat("--out ", o.out, ": ", made.message()));
  if (job.result().artifact_ids_size() != job.result().pareto_size()) {
    return absl::FailedPreconditionError(
        absl::StrCat(o.job_id, ": its result has no standalone SubTransformers to export"));
  }
  // The front as a table and a picture.
  const std::string csv = absl::StrCat(o.out, "/pareto.csv"),
                    svg = absl::StrCat(o.out, "/pareto.svg");
  HAT_RETURN_IF_ERROR(WriteFileAtomically(csv, ParetoCsv(job.result())));
  HAT_RETURN_IF_ERROR(WriteFileAtomically(
      svg, ParetoSvg(job.result(), absl::StrCat("search ", o.job_id, ": winners and references"))));
  nlohmann::json files = nlohmann::json::array();
  for (int i = 0; i < job.result().pareto_size(); ++i) {
    HAT_ASSIGN_OR_RETURN(SubTransformerConfig config,
                         FromProto(job.result().pareto(i).config().config()));
    const std::string stem = absl::StrCat(o.out, "/winner_", i);
    HAT_RETURN_IF_ERROR(WriteFileAtomically(stem + ".yml", ConfigToHatYaml(ActiveOnly(config))));
    HAT_RETURN_IF_ERROR(WriteFileAtomically(stem + ".json", ConfigToJson(ActiveOnly(config))));
    HAT_ASSIGN_OR_RETURN(v1::Artifact weights,
                         DownloadArtifactTo(c, job.result().artifact_ids(i), stem + ".pt"));
    files.push_back({{"winner", i},
                     {"valid_loss", job.result().pareto(i).valid_loss()},
                     {"hat_yaml", stem + ".yml"},
                     {"json", stem + ".json"},
                     {"weights", stem + ".pt"},
                     {"weights_artifact", weights.artifact_id()},
                     {"weights_sha256", weights.sha256()}});
  }
  if (o.json) {
    PrintJson({{"job_id", o.job_id}, {"winners", files}, {"pareto_csv", csv}, {"pareto_svg", svg}});
  } else {
    std::cout << "Pareto front: " << csv << ", " << svg << "\n";
    for (const nlohmann::json& f : files) {
      std::cout << absl::StrFormat("winner %d (valid loss %.4f): %s, %s, %s\n",
                                   f["winner"].get<int>(), f["valid_loss"].get<double>(),
                                   f["hat_yaml"].get<std::string>(), f["json"].get<std::string>(),
                                   f["weights"].get<std::string>());
    }
  }
  return absl::OkStatus();
}

void AddEvolutionFlags(CLI::App* cmd, EvolutionOptions* e, std::string* strategy) {
  cmd->add_option("--iterations", e->iterations)->capture_default_str();
  cmd->add_option("--population", e->population)->capture_default_str();
  cmd->add_option("--parents", e->parents)->capture_default_str();
  cmd->add_option("--mutations", e->mutations)->capture_default_str();
  cmd->add_option("--crossovers", e->crossovers)->capture_default_str();
  cmd->add_option("--mutation-prob", e->mutation_prob)->capture_default_str();
  cmd->add_option("--seed", e->seed)->capture_default_str();
  cmd->add_option("--strategy", *strategy,
                  "evolution (HAT) or random (the baseline, with evolution's budget)")
      ->capture_default_str();
}

}  // namespace

void AddSearchCommands(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<SearchRunFlags>();
  CLI::App* search = app.add_subcommand("search", "Hardware-aware evolutionary search (HAT)");
  search->require_subcommand(1);
  CLI::App* run = search->add_subcommand(
      "run", "Search locally: a SuperTransformer checkpoint and latency predictor files");
  run->add_option("--supernet", f->supernet, "SuperTransformer checkpoint or run directory")
      ->required();
  run->add_option("--predictor", f->predictors,
                  "CLASS=FILE: the latency predictor of a device class (repeatable)")
      ->required();
  run->add_option("--constraint", f->constraints,
                  "CLASS:LIMIT_MS[,LIMIT_MS...]: a latency limit, or several to sweep "
                  "(repeatable; one constraint may be swept)")
      ->required();
  run->add_option("--out", f->out,
                  "Directory for the result, the winners, the fitness cache and the state "
                  "(an interrupted search resumes from it)")
      ->required();
  AddEvolutionFlags(run, &f->evolution, &f->strategy);
  run->add_option("--valid-sentences", f->fitness.valid_sentences,
                  "Fitness: the first N validation pairs (0: all)")
      ->capture_default_str();
  run->add_option("--max-tokens", f->fitness.max_tokens, "Fitness: tokens per batch")
      ->capture_default_str();
  run->add_option("--threads", f->fitness.threads,
                  "Fitness evaluation threads (a config each, one core each)")
      ->capture_default_str();
  run->add_option("--data", f->fitness.corpus_dir,
                  "Corpus (default: the one the SuperTransformer was trained on)");
  run->add_flag("--json", f->json, "Print the result as JSON");
  run->callback([f, exit_code] { *exit_code = ReportError(RunSearch(*f)); });

  auto r = std::make_shared<RemoteOptions>();
  CLI::App* result = search->add_subcommand(
      "result", "A search job's winners: loss, predicted and measured latency (needs hat-server)");
  AddConnectionFlags(result, r.get());
  result->add_option("id", r->job_id, "Search job id")->required();
  result->callback([r, exit_code] { *exit_code = ReportError(SearchResult(*r)); });

  auto x = std::make_shared<RemoteOptions>();
  CLI::App* export_cmd = search->add_subcommand(
      "export",
      "A search job's winners as HAT YAML, JSON and standalone weights (needs hat-server)");
  AddConnectionFlags(export_cmd, x.get());
  export_cmd->add_option("id", x->job_id, "Search job id")->required();
  export_cmd->add_option("--out", x->out, "Directory to write")->required();
  export_cmd->callback([x, exit_code] { *exit_code = ReportError(SearchExport(*x)); });

  auto s = std::make_shared<SearchSubmitFlags>();
  CLI::App* submit = app.get_subcommand("jobs")->get_subcommand("submit")->add_subcommand(
      "search", "HAT's search on the server: a SuperTransformer artifact, limits per device class");
  AddConnectionFlags(submit, &s->remote);
  submit->add_option("--supernet", s->supernet_artifact, "SuperTransformer artifact id")
      ->required();
  submit
      ->add_option("--constraint", s->constraints,
                   "CLASS:LIMIT_MS[,LIMIT_MS...] (repeatable; one constraint may be swept); the "
                   "class's latest predictor is used")
      ->required();
  AddEvolutionFlags(submit, &s->evolution, &s->strategy);
  submit->add_option("--valid-sentences", s->valid_sentences,
                     "Fitness: the first N validation pairs (0: 500)");
  submit->add_option("--threads", s->threads, "Fitness evaluation threads, a config each (0: 2)");
  submit->add_option("--corpus", s->corpus,
                     "Validation corpus under the server's --corpora-dir (default: the "
                     "SuperTransformer's own)");
  submit->add_flag("--no-remeasure", s->no_remeasure,
                   "Do not re-measure the winners on the constrained device classes");
  submit->add_option("--remeasure-repeats", s->remeasure_repeats,
                     "Measurements per config when re-measuring; the median is reported (0: 3)");
  submit->add_option("--remeasure-protocol", s->remeasure_protocol,
                     "default or hat: the protocol of the re-measuring (default: default)");
  submit->add_option("--reference", s->references,
                     "[NAME=]FILE: a hand-designed SubTransformer (HAT YAML or JSON) scored, "
                     "predicted and re-measured with the winners, for comparison (repeatable)");
  submit->add_option("--idempotency-key", s->remote.idempotency_key,
                     "Resubmitting with the same key returns the same job");
  submit->callback([s, exit_code] { *exit_code = ReportError(SubmitSearch(*s)); });
}

}  // namespace hat::cli
