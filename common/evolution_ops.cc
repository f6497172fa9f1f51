// HAT's mutation and crossover over the padded gene.
#include "common/evolution_ops.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace hat {

absl::StatusOr<SubTransformerConfig> Mutate(const SubTransformerConfig& parent,
                                            const DesignSpace& space, double mutation_prob,
                                            Prng& prng) {
  if (!(mutation_prob >= 0.0 && mutation_prob <= 1.0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("mutation_prob=", mutation_prob, ": must be in [0, 1]"));
  }
  HAT_RETURN_IF_ERROR(Annotate(ValidateConfig(parent, space), "mutation parent"));
  SubTransformerConfig child = PadToSuperDepth(parent, space);
  // Draw order matches HAT: genes in order, one coin per element, a new value only on heads.
  for (const GeneInfo& info : AllGenes()) {
    const std::vector<int>& choices = space.Choices(info.gene);
    if (!info.per_layer) {
      if (prng.UniformDouble() < mutation_prob)
        *child.MutableScalar(info.gene) = prng.Choose(choices);
      continue;
    }
    for (int& value : *child.MutableList(info.gene)) {
      if (prng.UniformDouble() < mutation_prob) value = prng.Choose(choices);
    }
  }
  return child;
}

absl::StatusOr<SubTransformerConfig> Crossover(const SubTransformerConfig& a,
                                               const SubTransformerConfig& b,
                                               const DesignSpace& space, Prng& prng) {
  HAT_RETURN_IF_ERROR(Annotate(ValidateConfig(a, space), "crossover parent a"));
  HAT_RETURN_IF_ERROR(Annotate(ValidateConfig(b, space), "crossover parent b"));
  const SubTransformerConfig pa = PadToSuperDepth(a, space);
  const SubTransformerConfig pb = PadToSuperDepth(b, space);
  SubTransformerConfig child = pa;
  for (const GeneInfo& info : AllGenes()) {
    if (!info.per_layer) {
      if (prng.Uniform(2) == 1) *child.MutableScalar(info.gene) = *pb.Scalar(info.gene);
      continue;
    }
    std::vector<int>& list = *child.MutableList(info.gene);
    const std::vector<int>& other = *pb.List(info.gene);
    for (size_t i = 0; i < list.size(); ++i) {
      if (prng.Uniform(2) == 1) list[i] = other[i];
    }
  }
  return child;
}

}  // namespace hat
