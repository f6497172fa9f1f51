// Search jobs; see search_job.h.
#include "server/search_job.h"

#include <algorithm>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/cost_model.h"
#include "common/median.h"
#include "common/proto_conversions.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "search/evolution.h"
#include "search/fitness_cache.h"
#include "search/predictor_latency.h"
#include "search/supernet_fitness.h"
#include "search/sweep.h"
#include "server/corpus_root.h"
#include "server/search_options.h"

namespace hat {
namespace {

// The coordinator's fitness table as the search's cache.
class StoredFitness : public FitnessCache {
 public:
  explicit StoredFitness(Coordinator& coordinator) : coordinator_(coordinator) {}
  absl::StatusOr<std::optional<double>> Get(const std::string& fitness,
                                            const std::string& config_key) override {
    return coordinator_.GetFitness(fitness, config_key);
  }
  absl::Status Put(const std::string& fitness, const std::string& config_key,
                   double loss) override {
    return coordinator_.PutFitness(fitness, config_key, loss);
  }

 private:
  Coordinator& coordinator_;
};

// What the job saves after every iteration: the sweep run it is in, that run's search state, and
// the winners of the runs before it.
struct Saved {
  int run = 0;
  std::string state;                  // SearchState JSON of `run` ("" before its first iteration)
  std::vector<ScoredConfig> winners;  // of each finished run
  int64_t evaluations = 0;            // of the finished runs
  int64_t cache_hits = 0;
  std::vector<v1::SearchIteration> history;  // every iteration so far, of every run

  std::string ToJson() const {
    std::vector<std::string> scored;
    for (const ScoredConfig& w : winners) scored.push_back(ScoredConfigToJson(w));
    nlohmann::json iterations = nlohmann::json::array();
    for (const v1::SearchIteration& h : history) {
      iterations.push_back({h.run(), h.limit_ms(), h.iteration(), h.best_loss(),
                            h.best_latency_ms(), h.evaluations(), h.cache_hits()});
    }
    return nlohmann::json{{"run", run},
                          {"state", state},
                          {"winners", scored},
                          {"evaluations", evaluations},
                          {"cache_hits", cache_hits},
                          {"history", iterations}}
        .dump();
  }
  static absl::StatusOr<Saved> FromJson(const std::string& text, const DesignSpace& space) {
    Saved s;
    if (text.empty()) return s;
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    auto damaged = [](absl::string_view why) {
      return absl::DataLossError(absl::StrCat("search job: its saved state is damaged: ", why));
    };
    if (!j.is_object() || !j.contains("run") || !j["run"].is_number_integer() ||
        !j.contains("state") || !j["state"].is_string() || !j.contains("winners") ||
        !j["winners"].is_array()) {
      return damaged("not a saved search");
    }
    s.run = j["run"].get<int>();
    s.state = j["state"].get<std::string>();
    for (const nlohmann::json& w : j["winners"]) {
      if (!w.is_string()) return damaged("a winner is not text");
      absl::StatusOr<ScoredConfig> winner = ScoredConfigFromJson(w.get<std::string>(), space);
      if (!winner.ok()) return damaged(winner.status().message());
      s.winners.push_back(*std::move(winner));
    }
    s.evaluations = j.value("evaluations", int64_t{0});
    s.cache_hits = j.value("cache_hits", int64_t{0});
    // Absent in states saved before the history was kept.
    for (const nlohmann::json& h : j.value("history", nlohmann::json::array())) {
      if (!h.is_array() || h.size() != 7) return damaged("an iteration of the history");
      for (const nlohmann::json& field : h) {
        if (!field.is_number()) return damaged("an iteration of the history");
      }
      v1::SearchIteration& it = s.history.emplace_back();
      it.set_run(h[0].get<int>());
      it.set_limit_ms(h[1].get<double>());
      it.set_iteration(h[2].get<int>());
      it.set_best_loss(h[3].get<double>());
      it.set_best_latency_ms(h[4].get<double>());
      it.set_evaluations(h[5].get<int64_t>());
      it.set_cache_hits(h[6].get<int64_t>());
    }
    return s;
  }
};

std::string LatencyText(const std::vector<double>& ms) {
  std::string out;
  for (double v : ms) absl::StrAppendFormat(&out, "%s%.1f", out.empty() ? "" : "/", v);
  return out;
}

// Measures `configs` (the winners and the references) on every constrained device class: one
// child latency-dataset job per class, `repeats` passes in shuffled orders, with `protocol`
// (null: the default), submitted once even across restarts. Fills in each point's measured latency
// per class (the median of its measurements); a config a class could not measure keeps 0.
absl::Status Remeasure(JobContext& context, const DesignSpace& space,
                       const std::vector<std::string>& classes, int repeats,
                       const v1::MeasurementProtocol* protocol,
                       const std::vector<SubTransformerConfig>& configs,
                       const std::vector<v1::ParetoPoint*>& points, v1::JobResult& result) {
  Coordinator& c = context.coordinator();
  std::vector<std::string> children;
  for (const std::string& device_class : classes) {
    v1::SubmitJobRequest req;
    req.set_idempotency_key(absl::StrCat(context.job_id(), "/remeasure/", device_class));
    v1::LatencyDatasetJobSpec* spec = req.mutable_spec()->mutable_latency_dataset();
    ToProto(space, spec->mutable_design_space());
    spec->set_device_class(device_class);
    spec->set_repeats(repeats);
    if (protocol != nullptr) *spec->mutable_protocol() = *protocol;
    for (const SubTransformerConfig& config : configs) ToProto(config, spec->add_configs());
    req.mutable_spec()->set_description(
        absl::StrCat("re-measuring the winners of search ", context.job_id()));
    HAT_ASSIGN_OR_RETURN(v1::Job child, c.SubmitJob(req));
    children.push_back(child.job_id());
  }
  result.set_remeasure_job_id(children.front());
  for (size_t k = 0; k < classes.size(); ++k) {
    int64_t version = 0;
    while (true) {
      if (!context.Wanted()) return absl::CancelledError("search job: asked to stop");
      // No cancellation callback: WaitJobChange calls it under the coordinator's lock (asking
      // Wanted() there would lock twice); the wait ends within a second and the loop asks.
      HAT_ASSIGN_OR_RETURN(auto change,
                           c.WaitJobChange(children[k], version, c.NowMs() + 1000, nullptr));
      version = change.second;
      const v1::Job& child = change.first;
      HAT_RETURN_IF_ERROR(context.ReportProgress(
          context.job().progress().total(), context.job().progress().total(),
          absl::StrFormat("re-measuring %d configs x %d on %s: %d/%d (job %s)", configs.size(),
                          repeats, classes[k], child.progress().done(), child.progress().total(),
                          child.job_id())));
      if (IsTerminal(child.state())) break;
    }
    HAT_ASSIGN_OR_RETURN(std::vector<v1::MeasurementResult> rows, c.Measurements(classes[k]));
    std::map<uint64_t, std::vector<double>> measured;
    for (const v1::MeasurementResult& r : rows) {
      if (r.job_id() == children[k]) measured[r.config_id()].push_back(r.total_ms());
    }
    for (v1::ParetoPoint* p : points) {
      auto it = measured.find(p->config().config_id());
      if (it == measured.end()) continue;
      const double median = Median(it->second);
      for (v1::ConstraintLatency& l : *p->mutable_latencies()) {
        if (l.device_class() != classes[k]) continue;
        l.set_measured_ms(median);
        if (l.limit_ms() > 0 && median > l.limit_ms()) p->set_breaks_limit(true);
      }
    }
  }
  return absl::OkStatus();
}

// A scored config as a point of the result: fitness, latencies per constrained class, parameters.
absl::StatusOr<v1::ParetoPoint> MakePoint(const ScoredConfig& scored, const DesignSpace& space,
                                          const std::vector<std::pair<std::string, double>>& limits,
                                          size_t axis) {
  v1::ParetoPoint p;
  ToProto(scored.config, p.mutable_config());
  p.set_valid_loss(scored.loss);
  p.set_predicted_latency_ms(scored.latency_ms[axis]);
  HAT_ASSIGN_OR_RETURN(ModelCost cost, EstimateCost(scored.config, space));
  p.set_params(static_cast<double>(cost.params));
  for (size_t i = 0; i < limits.size(); ++i) {
    v1::ConstraintLatency* l = p.add_latencies();
    l->set_device_class(limits[i].first);
    l->set_limit_ms(limits[i].second);
    l->set_predicted_ms(scored.latency_ms[i]);
  }
  return p;
}

// SearchJobSpec.references, each checked against the space, with its fitness (through the
// cache) and its predicted latency on every constrained device class.
absl::StatusOr<std::vector<ScoredConfig>> ScoreReferences(
    const v1::SearchJobSpec& spec, const DesignSpace& space,
    const std::vector<ConstraintSpec>& constraints,
    const std::map<std::string, std::unique_ptr<PredictorLatency>>& models,
    CachedFitness& fitness) {
  std::vector<ScoredConfig> references(spec.references_size());
  std::vector<SubTransformerConfig> configs;
  for (int i = 0; i < spec.references_size(); ++i) {
    const std::string field =
        absl::StrCat("search.references[", i, "] (", spec.references(i).name(), ")");
    absl::StatusOr<SubTransformerConfig> config = FromProto(spec.references(i).config());
    if (!config.ok()) return Annotate(config.status(), field);
    HAT_RETURN_IF_ERROR(Annotate(ValidateConfig(*config, space), field));
    references[i].config = *config;
    configs.push_back(*std::move(config));
  }
  if (configs.empty()) return references;
  HAT_ASSIGN_OR_RETURN(std::vector<double> losses, fitness.Evaluate(configs));
  for (size_t i = 0; i < references.size(); ++i) references[i].loss = losses[i];
  for (const ConstraintSpec& c : constraints) {
    HAT_ASSIGN_OR_RETURN(std::vector<double> ms, models.at(c.device_class)->PredictMs(configs));
    for (size_t i = 0; i < references.size(); ++i) references[i].latency_ms.push_back(ms[i]);
  }
  return references;
}

}  // namespace

absl::StatusOr<ServerJobOutput> SearchJob::Run(JobContext& context) {
  const v1::SearchJobSpec& spec = context.job().spec().search();
  Coordinator& c = context.coordinator();
  HAT_ASSIGN_OR_RETURN(EvolutionOptions options, SearchOptions(spec));
  HAT_RETURN_IF_ERROR(
      context.ReportProgress(0, context.job().progress().total(), "loading the SuperTransformer"));
  HAT_ASSIGN_OR_RETURN(auto artifact, c.GetArtifact(spec.supernet_artifact()));
  SupernetFitnessOptions fitness_options;
  fitness_options.valid_sentences = spec.valid_sentences();
  fitness_options.threads = spec.threads();
  if (!spec.corpus().empty()) {
    HAT_ASSIGN_OR_RETURN(fitness_options.corpus_dir, ResolveCorpusDir(corpora_dir_, spec.corpus()));
  }
  HAT_ASSIGN_OR_RETURN(std::unique_ptr<SupernetFitness> fitness,
                       SupernetFitness::Load(artifact.second, fitness_options));
  const DesignSpace& space = fitness->space();

  std::vector<ConstraintSpec> specs;
  std::map<std::string, std::unique_ptr<PredictorLatency>> models;
  for (int i = 0; i < spec.constraints_size(); ++i) {
    const v1::LatencyConstraintSpec& l = spec.constraints(i);
    specs.push_back({l.device_class(), {l.limits_ms().begin(), l.limits_ms().end()}});
    HAT_ASSIGN_OR_RETURN(v1::StoredPredictor stored,
                         c.GetPredictor(l.device_class(), l.predictor_version()));
    HAT_ASSIGN_OR_RETURN(LatencyPredictor predictor,
                         LatencyPredictor::FromProto(stored.predictor()));
    models[l.device_class()] = std::make_unique<PredictorLatency>(std::move(predictor));
  }
  HAT_ASSIGN_OR_RETURN(std::vector<SweepPoint> sweep, ExpandSweep(specs));
  const size_t axis = FrontAxis(specs);
  HAT_ASSIGN_OR_RETURN(Saved saved, Saved::FromJson(context.saved_state(), space));
  if (!saved.history.empty()) {  // resumed: show the iterations done before the restart
    const v1::JobProgress& before = context.job().progress();
    HAT_RETURN_IF_ERROR(
        context.ReportProgress(before.done(), before.total(), "resuming", saved.history));
  }
  StoredFitness cache(c);
  const int steps = options.Steps();
  const int64_t total = static_cast<int64_t>(sweep.size()) * steps;

  for (size_t r = saved.run; r < sweep.size(); ++r) {
    std::vector<LatencyConstraint> constraints;
    for (const auto& [device_class, limit] : sweep[r]) {
      constraints.push_back({device_class, limit, models.at(device_class).get()});
    }
    SearchState state;
    if (!saved.state.empty()) {
      HAT_ASSIGN_OR_RETURN(state, SearchState::FromJson(saved.state, space));
    }
    HAT_ASSIGN_OR_RETURN(EvolutionSearch search,
                         EvolutionSearch::Create(space, options, constraints, fitness.get(), &cache,
                                                 std::move(state)));
    while (!search.done()) {
      if (!context.Wanted()) return absl::CancelledError("search job: asked to stop");
      HAT_ASSIGN_OR_RETURN(IterationReport report, search.Step());
      saved.run = static_cast<int>(r);
      saved.state = search.state().ToJson();
      v1::SearchIteration& it = saved.history.emplace_back();
      it.set_run(static_cast<int>(r));
      it.set_limit_ms(sweep[r][axis].second);
      it.set_iteration(report.iteration);
      it.set_best_loss(report.best.loss);
      it.set_best_latency_ms(report.best.latency_ms.empty() ? 0 : report.best.latency_ms[axis]);
      it.set_evaluations(saved.evaluations + report.evaluations);
      it.set_cache_hits(saved.cache_hits + report.cache_hits);
      HAT_RETURN_IF_ERROR(context.SaveState(saved.ToJson()));
      HAT_RETURN_IF_ERROR(context.ReportProgress(
          static_cast<int64_t>(r) * steps + report.iteration, total,
          absl::StrFormat("%siteration %d/%d: best loss %.4f at %s ms, %d evaluated, %d cached, "
                          "fitness %.1f s",
                          sweep.size() > 1 ? absl::StrFormat("limit %d/%d, ", r + 1, sweep.size())
                                           : std::string(),
                          report.iteration, report.total_iterations, report.best.loss,
                          LatencyText(report.best.latency_ms),
                          saved.evaluations + report.evaluations,
                          saved.cache_hits + report.cache_hits, report.fitness_seconds),
          saved.history));
    }
    saved.winners.push_back(search.best());
    saved.evaluations += search.state().evaluations;
    saved.cache_hits += search.state().cache_hits;
    saved.run = static_cast<int>(r) + 1;
    saved.state.clear();
    HAT_RETURN_IF_ERROR(context.SaveState(saved.ToJson()));
  }

  // The result: one point per limit, the front marked.
  ServerJobOutput output;
  v1::JobResult& result = output.result;
  std::vector<v1::ParetoPoint> points;
  std::vector<SubTransformerConfig> winners;
  std::vector<FrontPoint> front_input;
  for (size_t r = 0; r < saved.winners.size(); ++r) {
    const ScoredConfig& scored = saved.winners[r];
    winners.push_back(scored.config);
    HAT_ASSIGN_OR_RETURN(v1::ParetoPoint p, MakePoint(scored, space, sweep[r], axis));
    points.push_back(std::move(p));
    front_input.push_back({static_cast<int>(r), scored.loss, scored.latency_ms[axis]});
  }
  for (const FrontPoint& f : ParetoFront(front_input)) points[f.index].set_on_front(true);

  // The references, scored the same way (fitness through the same cache), without a limit.
  CachedFitness cached(fitness.get(), &cache);
  HAT_ASSIGN_OR_RETURN(std::vector<ScoredConfig> references,
                       ScoreReferences(spec, space, specs, models, cached));
  saved.evaluations += cached.evaluations();
  saved.cache_hits += cached.cache_hits();
  std::vector<std::pair<std::string, double>> unlimited;
  for (const ConstraintSpec& s : specs) unlimited.push_back({s.device_class, 0});
  std::vector<v1::ParetoPoint> reference_points;
  std::vector<SubTransformerConfig> reference_configs;
  for (size_t i = 0; i < references.size(); ++i) {
    HAT_ASSIGN_OR_RETURN(v1::ParetoPoint p, MakePoint(references[i], space, unlimited, axis));
    p.set_name(spec.references(static_cast<int>(i)).name());
    reference_points.push_back(std::move(p));
    reference_configs.push_back(references[i].config);
  }
  result.set_evaluations(saved.evaluations);
  result.set_cache_hits(saved.cache_hits);

  if (spec.remeasure_winners()) {
    std::vector<std::string> classes;
    for (const ConstraintSpec& s : specs) classes.push_back(s.device_class);
    // Each distinct config once per pass, winners and references together.
    std::vector<SubTransformerConfig> configs;
    std::vector<v1::ParetoPoint*> all;
    std::set<uint64_t> seen;
    for (size_t i = 0; i < points.size(); ++i) {
      all.push_back(&points[i]);
      if (seen.insert(points[i].config().config_id()).second) configs.push_back(winners[i]);
    }
    for (size_t i = 0; i < reference_points.size(); ++i) {
      all.push_back(&reference_points[i]);
      if (seen.insert(reference_points[i].config().config_id()).second) {
        configs.push_back(reference_configs[i]);
      }
    }
    const int repeats = spec.remeasure_repeats() > 0 ? spec.remeasure_repeats() : 3;
    HAT_RETURN_IF_ERROR(
        Remeasure(context, space, classes, repeats,
                  spec.has_remeasure_protocol() ? &spec.remeasure_protocol() : nullptr, configs,
                  all, result));
    for (v1::ParetoPoint* p : all) {
      for (const v1::ConstraintLatency& l : p->latencies()) {
        if (l.device_class() == specs[axis].device_class)
          p->set_measured_latency_ms(l.measured_ms());
      }
    }
  }
  // The winners as standalone SubTransformers: artifacts, one per point, in order.
  for (size_t i = 0; i < winners.size(); ++i) {
    ArtifactFile file;
    file.path = absl::StrFormat("%s/%s-winner-%d.partial", c.artifacts_dir(), context.job_id(), i);
    HAT_RETURN_IF_ERROR(fitness->SaveSubTransformer(winners[i], file.path));
    HAT_ASSIGN_OR_RETURN(FileDigest digest, DigestFile(file.path));
    file.header.set_kind(v1::ARTIFACT_KIND_SUBTRANSFORMER);
    file.header.set_size_bytes(digest.size);
    file.header.set_sha256(digest.sha256);
    file.header.set_space_name(space.name);
    file.header.set_filename(absl::StrFormat("%s-winner-%d.pt", context.job_id(), i));
    file.header.set_description(absl::StrFormat(
        "winner %d of search %s: valid loss %.4f, %s ms predicted", i, context.job_id(),
        points[i].valid_loss(), LatencyText(saved.winners[i].latency_ms)));
    output.artifacts.push_back(std::move(file));
  }
  for (v1::ParetoPoint& p : points) *result.add_pareto() = std::move(p);
  for (v1::ParetoPoint& p : reference_points) *result.add_references() = std::move(p);
  return output;
}

}  // namespace hat
