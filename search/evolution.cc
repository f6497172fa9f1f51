// HAT's evolutionary search and the random baseline; see evolution.h.
#include "search/evolution.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/config_io.h"
#include "common/evolution_ops.h"
#include "common/prng.h"
#include "common/sampling.h"
#include "common/status_macros.h"

namespace hat {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// The generator of one iteration: a function of (seed, iteration) alone.
Prng IterationPrng(uint64_t seed, int iteration) {
  uint64_t mix = seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<uint64_t>(iteration) + 1));
  return Prng(SplitMix64Next(mix));
}

nlohmann::json ScoredToJson(const ScoredConfig& s) {
  return {{"config", ConfigToJsonValue(s.config)}, {"loss", s.loss}, {"latency_ms", s.latency_ms}};
}

absl::StatusOr<SubTransformerConfig> ConfigFromJson(const nlohmann::json& j,
                                                    const DesignSpace& space) {
  HAT_ASSIGN_OR_RETURN(ParsedConfig parsed, ParseSubTransformerConfig(j.dump()));
  HAT_RETURN_IF_ERROR(ValidateConfig(parsed.config, space));
  return PadToSuperDepth(parsed.config, space);
}

// DATA_LOSS saying what is wrong (the caller adds where).
absl::StatusOr<ScoredConfig> ScoredFromJson(const nlohmann::json& s, const DesignSpace& space) {
  if (!s.is_object() || !s.contains("config") || !s.contains("loss") || !s["loss"].is_number() ||
      !s.contains("latency_ms") || !s["latency_ms"].is_array()) {
    return absl::DataLossError("malformed entry");
  }
  ScoredConfig scored;
  absl::StatusOr<SubTransformerConfig> config = ConfigFromJson(s["config"], space);
  if (!config.ok()) return absl::DataLossError(config.status().message());
  scored.config = *std::move(config);
  scored.loss = s["loss"].get<double>();
  for (const nlohmann::json& l : s["latency_ms"]) {
    if (!l.is_number()) return absl::DataLossError("latency is not a number");
    scored.latency_ms.push_back(l.get<double>());
  }
  return scored;
}

}  // namespace

absl::Status EvolutionOptions::Validate() const {
  auto bad = [](const std::string& what) { return absl::InvalidArgumentError(what); };
  if (iterations < 1 || iterations > 10000) {
    return bad(absl::StrCat("iterations=", iterations, ": must be in [1, 10000]"));
  }
  if (parents < 1 || mutations < 0 || crossovers < 0) {
    return bad(absl::StrCat("parents=", parents, ", mutations=", mutations, ", crossovers=",
                            crossovers, ": need parents >= 1, mutations and crossovers >= 0"));
  }
  if (population != parents + mutations + crossovers || population > 100000) {
    return bad(absl::StrCat("population=", population, ": must equal parents + mutations + ",
                            "crossovers (", parents + mutations + crossovers,
                            ") and be <= 100000"));
  }
  if (crossovers > 0 && parents < 2) {
    return bad(absl::StrCat("crossovers=", crossovers,
                            " need at least 2 parents (parents=", parents, ")"));
  }
  if (!(mutation_prob >= 0 && mutation_prob <= 1)) {
    return bad(absl::StrCat("mutation_prob=", mutation_prob, ": must be in [0, 1]"));
  }
  if (max_redraws < 1) return bad(absl::StrCat("max_redraws=", max_redraws, ": must be >= 1"));
  if (random_evaluations < 0 || random_evaluations > 10000000) {
    return bad(absl::StrCat("random_evaluations=", random_evaluations,
                            ": must be in [0, 10000000] (0: evolution's budget)"));
  }
  return absl::OkStatus();
}

int64_t EvolutionOptions::EvolutionBudget() const {
  return population + static_cast<int64_t>(iterations - 1) * (mutations + crossovers);
}

absl::StatusOr<SearchStrategy> ParseSearchStrategy(const std::string& name) {
  if (name == "evolution") return SearchStrategy::kEvolution;
  if (name == "random") return SearchStrategy::kRandom;
  return absl::InvalidArgumentError(
      absl::StrCat("strategy='", name, "': expected evolution or random"));
}

std::string SearchState::ToJson() const {
  nlohmann::json population_json = nlohmann::json::array();
  for (const SubTransformerConfig& c : population) population_json.push_back(ConfigToJsonValue(c));
  nlohmann::json best = nlohmann::json::array();
  for (const ScoredConfig& s : best_per_iteration) best.push_back(ScoredToJson(s));
  return nlohmann::json{{"iteration", iteration},     {"population", population_json},
                        {"best_per_iteration", best}, {"evaluations", evaluations},
                        {"cache_hits", cache_hits},   {"done", done}}
      .dump();
}

absl::StatusOr<SearchState> SearchState::FromJson(const std::string& text,
                                                  const DesignSpace& space) {
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  auto damaged = [](const std::string& what) {
    return absl::DataLossError(absl::StrCat("search state: ", what));
  };
  if (!j.is_object() || !j.contains("population") || !j["population"].is_array() ||
      !j.contains("best_per_iteration") || !j["best_per_iteration"].is_array() ||
      !j.contains("iteration") || !j["iteration"].is_number_integer()) {
    return damaged("not a search state");
  }
  SearchState state;
  state.iteration = j["iteration"].get<int>();
  state.evaluations = j.value("evaluations", int64_t{0});
  state.cache_hits = j.value("cache_hits", int64_t{0});
  state.done = j.value("done", false);
  for (const nlohmann::json& c : j["population"]) {
    absl::StatusOr<SubTransformerConfig> config = ConfigFromJson(c, space);
    if (!config.ok()) return damaged(absl::StrCat("population: ", config.status().message()));
    state.population.push_back(*std::move(config));
  }
  for (const nlohmann::json& s : j["best_per_iteration"]) {
    absl::StatusOr<ScoredConfig> scored = ScoredFromJson(s, space);
    if (!scored.ok()) {
      return damaged(absl::StrCat("best_per_iteration: ", scored.status().message()));
    }
    state.best_per_iteration.push_back(*std::move(scored));
  }
  return state;
}

std::string ScoredConfigToJson(const ScoredConfig& scored) { return ScoredToJson(scored).dump(); }

absl::StatusOr<ScoredConfig> ScoredConfigFromJson(const std::string& text,
                                                  const DesignSpace& space) {
  return ScoredFromJson(nlohmann::json::parse(text, nullptr, false), space);
}

EvolutionSearch::EvolutionSearch(DesignSpace space, EvolutionOptions options,
                                 std::vector<LatencyConstraint> constraints,
                                 FitnessEvaluator* evaluator, FitnessCache* cache,
                                 SearchState state)
    : space_(std::move(space)),
      options_(options),
      constraints_(std::move(constraints)),
      fitness_(evaluator, cache),
      state_(std::move(state)),
      fastest_ms_(constraints_.size(), std::numeric_limits<double>::infinity()) {}

absl::StatusOr<EvolutionSearch> EvolutionSearch::Create(DesignSpace space, EvolutionOptions options,
                                                        std::vector<LatencyConstraint> constraints,
                                                        FitnessEvaluator* evaluator,
                                                        FitnessCache* cache, SearchState state) {
  HAT_RETURN_IF_ERROR(space.Validate());
  HAT_RETURN_IF_ERROR(options.Validate());
  if (options.random_evaluations == 0) {
    options.random_evaluations = static_cast<int>(options.EvolutionBudget());
  }
  if (evaluator == nullptr || cache == nullptr) {
    return absl::InvalidArgumentError("search: no fitness evaluator or cache");
  }
  for (size_t i = 0; i < constraints.size(); ++i) {
    const LatencyConstraint& c = constraints[i];
    if (c.model == nullptr || !(c.limit_ms > 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("constraints[", i, "] (", c.device_class, "): limit_ms=", c.limit_ms,
                       " must be positive and the device class needs a latency model"));
    }
  }
  EvolutionSearch search(std::move(space), options, std::move(constraints), evaluator, cache,
                         std::move(state));
  // The smallest SubTransformer is the fastest candidate a latency model should know: a limit
  // below its prediction is refused before any fitness is spent.
  std::vector<double> latency;
  HAT_ASSIGN_OR_RETURN(bool admitted, search.Admit(SmallestConfig(search.space_), &latency));
  if (!admitted) return search.ImpossibleLimit();
  return search;
}

int EvolutionOptions::Steps() const {
  if (strategy != SearchStrategy::kRandom) return iterations;
  const int64_t evaluations = random_evaluations > 0 ? random_evaluations : EvolutionBudget();
  const int64_t batch = std::max(1, population);
  return static_cast<int>(std::max<int64_t>(1, (evaluations + batch - 1) / batch));
}

int EvolutionSearch::total_steps() const { return options_.Steps(); }

absl::StatusOr<bool> EvolutionSearch::Admit(const SubTransformerConfig& config,
                                            std::vector<double>* latency) {
  const auto start = std::chrono::steady_clock::now();
  latency->clear();
  bool admitted = true;
  for (size_t i = 0; i < constraints_.size(); ++i) {
    HAT_ASSIGN_OR_RETURN(std::vector<double> predicted, constraints_[i].model->PredictMs({config}));
    if (predicted.size() != 1) {
      return absl::InternalError(absl::StrCat("latency model of ", constraints_[i].device_class,
                                              ": ", predicted.size(), " predictions for 1 config"));
    }
    latency->push_back(predicted[0]);
    fastest_ms_[i] = std::min(fastest_ms_[i], predicted[0]);
    admitted = admitted && predicted[0] <= constraints_[i].limit_ms;
  }
  latency_seconds_ += Seconds(start);
  return admitted;
}

absl::Status EvolutionSearch::ImpossibleLimit() const {
  std::string detail;
  for (size_t i = 0; i < constraints_.size(); ++i) {
    absl::StrAppendFormat(&detail,
                          "%s%s: limit %.4g ms, the fastest predicted latency in the "
                          "space is %.4g ms",
                          detail.empty() ? "" : "; ", constraints_[i].device_class,
                          constraints_[i].limit_ms, fastest_ms_[i]);
  }
  return absl::FailedPreconditionError(absl::StrCat("no SubTransformer of space '", space_.name,
                                                    "' meets the latency limits (", detail, ")"));
}

absl::StatusOr<SubTransformerConfig> EvolutionSearch::DrawAdmitted(
    const std::function<absl::StatusOr<SubTransformerConfig>()>& draw) {
  std::vector<double> latency;
  for (int attempt = 0; attempt < options_.max_redraws; ++attempt) {
    HAT_ASSIGN_OR_RETURN(SubTransformerConfig candidate, draw());
    HAT_ASSIGN_OR_RETURN(bool admitted, Admit(candidate, &latency));
    if (admitted) return candidate;
  }
  // HAT would draw forever here.
  return Annotate(ImpossibleLimit(),
                  absl::StrCat(options_.max_redraws, " candidates in a row broke a limit"));
}

absl::StatusOr<std::vector<ScoredConfig>> EvolutionSearch::Score(
    const std::vector<SubTransformerConfig>& configs) {
  const int64_t evaluations = fitness_.evaluations(), hits = fitness_.cache_hits();
  HAT_ASSIGN_OR_RETURN(std::vector<double> losses, fitness_.Evaluate(configs));
  state_.evaluations += fitness_.evaluations() - evaluations;
  state_.cache_hits += fitness_.cache_hits() - hits;
  std::vector<ScoredConfig> scored(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    scored[i].config = configs[i];
    scored[i].loss = losses[i];
    HAT_RETURN_IF_ERROR(Admit(configs[i], &scored[i].latency_ms).status());
  }
  // Lowest loss first; ties by canonical key, so the order never depends on the sort's whims.
  std::stable_sort(scored.begin(), scored.end(), [](const ScoredConfig& a, const ScoredConfig& b) {
    if (a.loss != b.loss) return a.loss < b.loss;
    return CanonicalKey(a.config) < CanonicalKey(b.config);
  });
  return scored;
}

absl::StatusOr<IterationReport> EvolutionSearch::Step() {
  if (state_.done) return absl::FailedPreconditionError("search: already done");
  const auto start = std::chrono::steady_clock::now();
  latency_seconds_ = 0;
  Prng prng = IterationPrng(options_.seed, state_.iteration);
  auto sample = [&]() -> absl::StatusOr<SubTransformerConfig> {
    return SampleConfig(space_, prng);
  };
  const bool random = options_.strategy == SearchStrategy::kRandom;
  if (state_.population.empty()) {
    // The first population (random search: every candidate), sampled under the constraints.
    const int size = random ? options_.random_evaluations : options_.population;
    for (int i = 0; i < size; ++i) {
      HAT_ASSIGN_OR_RETURN(SubTransformerConfig c, DrawAdmitted(sample));
      state_.population.push_back(std::move(c));
    }
  }
  // Random search scores its candidates a batch of `population` per step; evolution the whole
  // population.
  std::vector<SubTransformerConfig> batch = std::move(state_.population);
  std::vector<SubTransformerConfig> rest;
  if (random && static_cast<int>(batch.size()) > options_.population) {
    rest.assign(std::make_move_iterator(batch.begin() + options_.population),
                std::make_move_iterator(batch.end()));
    batch.resize(static_cast<size_t>(options_.population));
  }
  const auto fitness_start = std::chrono::steady_clock::now();
  const double latency_before_score = latency_seconds_;
  HAT_ASSIGN_OR_RETURN(std::vector<ScoredConfig> scored, Score(batch));
  const double fitness_seconds = Seconds(fitness_start) - (latency_seconds_ - latency_before_score);
  if (random && !state_.best_per_iteration.empty()) {
    // The best so far stays first unless this batch beats it (ties by canonical key, as Score).
    const ScoredConfig& before = state_.best_per_iteration.back();
    const ScoredConfig& now = scored.front();
    if (before.loss < now.loss ||
        (before.loss == now.loss && CanonicalKey(before.config) < CanonicalKey(now.config))) {
      scored.insert(scored.begin(), before);
    }
  }
  const int keep = random ? 1 : std::min<int>(options_.parents, static_cast<int>(scored.size()));
  std::vector<SubTransformerConfig> parents;
  for (int i = 0; i < keep; ++i) parents.push_back(scored[i].config);

  std::vector<SubTransformerConfig> next = std::move(rest);
  const bool last = random ? next.empty() : state_.iteration + 1 >= options_.iterations;
  if (!random && !last) {
    // The next generation: the parents, their mutants, their children, all within the limits.
    next = parents;
    for (int i = 0; i < options_.mutations; ++i) {
      HAT_ASSIGN_OR_RETURN(SubTransformerConfig c,
                           DrawAdmitted([&]() -> absl::StatusOr<SubTransformerConfig> {
                             const SubTransformerConfig& parent = parents[prng.Uniform(keep)];
                             return Mutate(parent, space_, options_.mutation_prob, prng);
                           }));
      next.push_back(std::move(c));
    }
    for (int i = 0; i < options_.crossovers; ++i) {
      HAT_ASSIGN_OR_RETURN(SubTransformerConfig c,
                           DrawAdmitted([&]() -> absl::StatusOr<SubTransformerConfig> {
                             // Two distinct parents, as HAT's random.sample(parents, 2).
                             const uint64_t a = prng.Uniform(keep);
                             uint64_t b = prng.Uniform(keep - 1);
                             if (b >= a) ++b;
                             return Crossover(parents[a], parents[b], space_, prng);
                           }));
      next.push_back(std::move(c));
    }
  }
  state_.best_per_iteration.push_back(scored.front());
  state_.population = std::move(next);
  state_.iteration += 1;
  state_.done = last;

  IterationReport report;
  report.iteration = state_.iteration;
  report.total_iterations = total_steps();
  report.best = scored.front();
  report.evaluations = state_.evaluations;
  report.cache_hits = state_.cache_hits;
  report.fitness_seconds = fitness_seconds;
  report.latency_seconds = latency_seconds_;
  report.bookkeeping_seconds =
      std::max(0.0, Seconds(start) - report.fitness_seconds - report.latency_seconds);
  return report;
}

}  // namespace hat
