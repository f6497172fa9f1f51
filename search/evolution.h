// EvolutionSearch: HAT's hardware-aware evolutionary search (HAT section 5, evolution.py), and
// random search with the same budget as its baseline.
//
// Evolution: a population of `population` configs sampled under the latency constraints; each
// iteration evaluates the population's fitness (validation loss with inherited weights), keeps
// the `parents` best, and adds `mutations` mutants (a parent drawn uniformly, each gene element
// redrawn with `mutation_prob`) and `crossovers` children (two distinct parents, each element
// from either) that satisfy every constraint. After `iterations` iterations the best parent is
// the answer. HAT's defaults: 125 = 25 + 50 + 50, p = 0.3, 30 iterations.
//
// Constraints: a candidate whose predicted latency exceeds any limit is redrawn, as in HAT, but
// at most `max_redraws` times in a row: a limit the space cannot meet fails the search with
// FAILED_PRECONDITION naming, per device, the limit and the fastest predicted latency seen (the
// space's smallest SubTransformer included, which is checked before any fitness is spent)
// instead of looping forever.
//
// Determinism and resume: iteration i draws from Prng(seed, i) alone, and the state between
// iterations (SearchState: the population still to evaluate, the history) is all the search
// needs, so a search resumed from the state saved after any iteration ends exactly as the
// uninterrupted one.
//
// Random search: `random_evaluations` (default: what evolution with the same settings evaluates)
// configs sampled under the constraints, all drawn by the first step and evaluated `population`
// at a time, a step each (progress and resume per batch); the best is the answer, the same
// whatever the batching.
#ifndef HATFLEET_SEARCH_EVOLUTION_H_
#define HATFLEET_SEARCH_EVOLUTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"
#include "search/fitness_cache.h"
#include "search/search_interfaces.h"

namespace hat {

enum class SearchStrategy { kEvolution, kRandom };

struct EvolutionOptions {
  SearchStrategy strategy = SearchStrategy::kEvolution;
  int iterations = 30;
  int population = 125;
  int parents = 25;
  int mutations = 50;
  int crossovers = 50;
  double mutation_prob = 0.3;
  uint64_t seed = 1;
  int max_redraws = 10000;     // consecutive candidates over a limit before the search gives up
  int random_evaluations = 0;  // random search: configs to evaluate (0: evolution's budget)

  // INVALID_ARGUMENT naming the setting (population must equal parents + mutations + crossovers,
  // at least 2 parents for crossover, ...).
  absl::Status Validate() const;
  // What evolution with these settings evaluates at most: the first population, then the new
  // members of each later iteration.
  int64_t EvolutionBudget() const;
  // Steps a search with these settings takes: `iterations` for evolution; for random search its
  // evaluations in batches of `population` (HAT's settings: 30 either way).
  int Steps() const;
};

absl::StatusOr<SearchStrategy> ParseSearchStrategy(const std::string& name);  // evolution|random

// A config with what the search knows of it.
struct ScoredConfig {
  SubTransformerConfig config;
  double loss = 0;
  std::vector<double> latency_ms;  // predicted, one per constraint
};

// A scored config as JSON text and back (the config checked against `space`); DATA_LOSS saying
// what is wrong when the text is damaged.
std::string ScoredConfigToJson(const ScoredConfig& scored);
absl::StatusOr<ScoredConfig> ScoredConfigFromJson(const std::string& text,
                                                  const DesignSpace& space);

// Between iterations: everything the search needs to go on.
struct SearchState {
  int iteration = 0;                             // iterations completed
  std::vector<SubTransformerConfig> population;  // to be evaluated by the next iteration
  std::vector<ScoredConfig> best_per_iteration;  // the best parent of each completed iteration
  int64_t evaluations = 0;                       // computed by the evaluator
  int64_t cache_hits = 0;
  bool done = false;

  std::string ToJson() const;
  static absl::StatusOr<SearchState> FromJson(const std::string& text, const DesignSpace& space);
};

// What one iteration did, for progress reports.
struct IterationReport {
  int iteration = 0;  // 1-based: iterations completed
  int total_iterations = 0;
  ScoredConfig best;
  int64_t evaluations = 0;
  int64_t cache_hits = 0;
  double fitness_seconds = 0;      // evaluating the population
  double latency_seconds = 0;      // predicting latencies (sampling, mutation, crossover)
  double bookkeeping_seconds = 0;  // everything else
};

class EvolutionSearch {
 public:
  // Checks the options and constraints; the first population is drawn by the first Step().
  // `evaluator`, `cache` and the constraints' models must outlive the search.
  static absl::StatusOr<EvolutionSearch> Create(DesignSpace space, EvolutionOptions options,
                                                std::vector<LatencyConstraint> constraints,
                                                FitnessEvaluator* evaluator, FitnessCache* cache,
                                                SearchState state = SearchState());

  // Runs the next iteration (random search: all of it at once).
  absl::StatusOr<IterationReport> Step();
  bool done() const { return state_.done; }
  const SearchState& state() const { return state_; }
  // The answer so far: the best config of the last completed iteration.
  const ScoredConfig& best() const { return state_.best_per_iteration.back(); }
  int total_steps() const;

 private:
  EvolutionSearch(DesignSpace space, EvolutionOptions options,
                  std::vector<LatencyConstraint> constraints, FitnessEvaluator* evaluator,
                  FitnessCache* cache, SearchState state);
  // Latencies of `config` per constraint; whether it is within every limit.
  absl::StatusOr<bool> Admit(const SubTransformerConfig& config, std::vector<double>* latency);
  // Draws candidates with `draw` until one is admitted (or max_redraws in a row fail).
  absl::StatusOr<SubTransformerConfig> DrawAdmitted(
      const std::function<absl::StatusOr<SubTransformerConfig>()>& draw);
  absl::StatusOr<std::vector<ScoredConfig>> Score(const std::vector<SubTransformerConfig>& configs);
  absl::Status ImpossibleLimit() const;

  DesignSpace space_;
  EvolutionOptions options_;
  std::vector<LatencyConstraint> constraints_;
  CachedFitness fitness_;
  SearchState state_;
  // The fastest predicted latency seen per constraint (for the error of an impossible limit).
  std::vector<double> fastest_ms_;
  double latency_seconds_ = 0;
};

}  // namespace hat

#endif  // HATFLEET_SEARCH_EVOLUTION_H_
