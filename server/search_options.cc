// A search job's evolution settings; see search_options.h.
#include "server/search_options.h"

#include "common/status_macros.h"

namespace hat {

absl::StatusOr<EvolutionOptions> SearchOptions(const v1::SearchJobSpec& spec) {
  EvolutionOptions o;
  absl::StatusOr<SearchStrategy> strategy = ParseSearchStrategy(spec.strategy());
  if (!strategy.ok()) return Annotate(strategy.status(), "search");
  o.strategy = *strategy;
  o.iterations = spec.iterations();
  o.population = spec.population();
  o.parents = spec.parents();
  o.mutations = spec.mutations();
  o.crossovers = spec.crossovers();
  o.mutation_prob = spec.mutation_prob();
  o.seed = spec.seed();
  HAT_RETURN_IF_ERROR(Annotate(o.Validate(), "search"));
  return o;
}

}  // namespace hat
