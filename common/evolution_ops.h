// HAT's genetic operators on SubTransformers (HAT section 5, evolution.py).
//
// The gene is every elastic choice, per-layer lists padded to the SuperTransformer's depth.
//   Mutate:    each gene element is redrawn uniformly from its choices with probability p.
//   Crossover: each gene element is taken from either parent with probability 1/2.
// Both return full-depth configs that are valid in the space whenever their inputs are (the
// space's own validation guarantees that every combination of choices is a valid network).
#ifndef HATFLEET_COMMON_EVOLUTION_OPS_H_
#define HATFLEET_COMMON_EVOLUTION_OPS_H_

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/prng.h"
#include "common/subtransformer_config.h"

namespace hat {

// INVALID_ARGUMENT when `parent` is not in `space` or `mutation_prob` is outside [0, 1].
absl::StatusOr<SubTransformerConfig> Mutate(const SubTransformerConfig& parent,
                                            const DesignSpace& space, double mutation_prob,
                                            Prng& prng);

// INVALID_ARGUMENT when either parent is not in `space`.
absl::StatusOr<SubTransformerConfig> Crossover(const SubTransformerConfig& a,
                                               const SubTransformerConfig& b,
                                               const DesignSpace& space, Prng& prng);

}  // namespace hat

#endif  // HATFLEET_COMMON_EVOLUTION_OPS_H_
