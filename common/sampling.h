// Uniform sampling of SubTransformers from a design space, as HAT samples them: every gene drawn
// independently and uniformly from its choices, per-layer genes for every layer of the
// SuperTransformer (inactive layers included, so the result is a full gene).
//
// The sequence is defined by the project (common/prng.h, genes in AllGenes() order, layers in
// order), so a seed names the same configs on every platform.
#ifndef HATFLEET_COMMON_SAMPLING_H_
#define HATFLEET_COMMON_SAMPLING_H_

#include <cstdint>
#include <vector>

#include "common/design_space.h"
#include "common/prng.h"
#include "common/subtransformer_config.h"

namespace hat {

// One SubTransformer. REQUIRES: space.Validate().ok().
SubTransformerConfig SampleConfig(const DesignSpace& space, Prng& prng);

// The space's smallest SubTransformer: every gene at its smallest choice (arbitrary attention -1,
// the last encoder layer only), at full depth. The measurement protocol times it beside other
// configs as a drift reference.
SubTransformerConfig SmallestConfig(const DesignSpace& space);

// Every gene at its largest choice: the most expensive SubTransformer, HAT's reference for
// validating a SuperTransformer.
SubTransformerConfig LargestConfig(const DesignSpace& space);

// `count` SubTransformers from Prng(seed). REQUIRES: space.Validate().ok().
std::vector<SubTransformerConfig> SampleConfigs(const DesignSpace& space, int count, uint64_t seed);

}  // namespace hat

#endif  // HATFLEET_COMMON_SAMPLING_H_
