// Uniform sampling; see sampling.h for the defined order of draws.
#include "common/sampling.h"

#include <algorithm>

namespace hat {

SubTransformerConfig SampleConfig(const DesignSpace& space, Prng& prng) {
  SubTransformerConfig config;
  for (const GeneInfo& info : AllGenes()) {
    const std::vector<int>& choices = space.Choices(info.gene);
    if (!info.per_layer) {
      *config.MutableScalar(info.gene) = prng.Choose(choices);
      continue;
    }
    std::vector<int>& list = *config.MutableList(info.gene);
    list.resize(space.Depth(info.decoder));
    for (int& value : list) value = prng.Choose(choices);
  }
  return config;
}

namespace {

// Every gene at its smallest or largest choice. Arbitrary attention: -1 (one encoder layer) is
// the smallest value and the cheapest; the largest attends to the most layers.
SubTransformerConfig ExtremeConfig(const DesignSpace& space, bool largest) {
  SubTransformerConfig config;
  for (const GeneInfo& info : AllGenes()) {
    const std::vector<int>& c = space.Choices(info.gene);
    const int value =
        largest ? *std::max_element(c.begin(), c.end()) : *std::min_element(c.begin(), c.end());
    if (info.per_layer) {
      config.MutableList(info.gene)->assign(space.Depth(info.decoder), value);
    } else {
      *config.MutableScalar(info.gene) = value;
    }
  }
  return config;
}

}  // namespace

SubTransformerConfig SmallestConfig(const DesignSpace& space) {
  return ExtremeConfig(space, false);
}

SubTransformerConfig LargestConfig(const DesignSpace& space) { return ExtremeConfig(space, true); }

std::vector<SubTransformerConfig> SampleConfigs(const DesignSpace& space, int count,
                                                uint64_t seed) {
  Prng prng(seed);
  std::vector<SubTransformerConfig> configs;
  configs.reserve(count > 0 ? count : 0);
  for (int i = 0; i < count; ++i) configs.push_back(SampleConfig(space, prng));
  return configs;
}

}  // namespace hat
