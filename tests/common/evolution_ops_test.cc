// HAT's mutation and crossover: results stay valid; the operators do what HAT's do.
#include "common/evolution_ops.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/builtin_spaces.h"
#include "common/sampling.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

// Number of gene elements (scalars + per-layer slots at full depth) that differ.
int GeneDistance(const SubTransformerConfig& a, const SubTransformerConfig& b) {
  int diff = 0;
  for (const GeneInfo& info : AllGenes()) {
    if (!info.per_layer) {
      diff += *a.Scalar(info.gene) != *b.Scalar(info.gene);
      continue;
    }
    const std::vector<int>& x = *a.List(info.gene);
    const std::vector<int>& y = *b.List(info.gene);
    for (size_t i = 0; i < x.size(); ++i) diff += x[i] != y[i];
  }
  return diff;
}

TEST(EvolutionOpsTest, MutantsAndChildrenStayInTheSpace) {
  for (const char* name : {"hat-wmt14-en-de", "hat-iwslt14-de-en", "tiny"}) {
    const DesignSpace space = *BuiltinSpace(name);
    Prng prng(5);
    std::vector<SubTransformerConfig> population = SampleConfigs(space, 20, 4);
    for (int round = 0; round < 200; ++round) {
      const SubTransformerConfig& a = population[prng.Uniform(population.size())];
      const SubTransformerConfig& b = population[prng.Uniform(population.size())];
      ASSERT_OK_AND_ASSIGN(SubTransformerConfig mutant, Mutate(a, space, 0.3, prng));
      ASSERT_OK_AND_ASSIGN(SubTransformerConfig child, Crossover(a, b, space, prng));
      ASSERT_THAT(ValidateConfig(mutant, space), IsOk());
      ASSERT_THAT(ValidateConfig(child, space), IsOk());
      population.push_back(mutant);
      population.push_back(child);
    }
  }
}

TEST(EvolutionOpsTest, MutationProbabilityZeroKeepsTheGeneOneRedrawsAll) {
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  Prng prng(8);
  const SubTransformerConfig parent = SampleConfigs(space, 1, 3)[0];
  ASSERT_OK_AND_ASSIGN(SubTransformerConfig same, Mutate(parent, space, 0.0, prng));
  EXPECT_EQ(same, parent);
  // p = 1 redraws every element; about half of them land on a different value.
  ASSERT_OK_AND_ASSIGN(SubTransformerConfig redrawn, Mutate(parent, space, 1.0, prng));
  EXPECT_GT(GeneDistance(parent, redrawn), 10);
}

TEST(EvolutionOpsTest, MutationRateMatchesProbability) {
  // With p = 0.3, an element changes with probability 0.3 * (1 - 1/k). Over many mutations of
  // hat-wmt14-en-de (44 elements), the mean distance must be close to the expectation.
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  double expected = 0;
  for (const GeneInfo& info : AllGenes()) {
    const double k = space.Choices(info.gene).size();
    const int slots = info.per_layer ? space.Depth(info.decoder) : 1;
    expected += slots * 0.3 * (1.0 - 1.0 / k);
  }
  Prng prng(21);
  const SubTransformerConfig parent = SampleConfigs(space, 1, 6)[0];
  double total = 0;
  const int n = 2000;
  for (int i = 0; i < n; ++i) total += GeneDistance(parent, *Mutate(parent, space, 0.3, prng));
  EXPECT_NEAR(total / n, expected, 0.05 * expected);
}

TEST(EvolutionOpsTest, CrossoverTakesEveryElementFromAParent) {
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  const std::vector<SubTransformerConfig> p = SampleConfigs(space, 2, 77);
  Prng prng(1);
  int from_a = 0, from_b = 0;
  for (int round = 0; round < 100; ++round) {
    ASSERT_OK_AND_ASSIGN(SubTransformerConfig child, Crossover(p[0], p[1], space, prng));
    for (const GeneInfo& info : AllGenes()) {
      if (!info.per_layer) {
        const int v = *child.Scalar(info.gene);
        ASSERT_TRUE(v == *p[0].Scalar(info.gene) || v == *p[1].Scalar(info.gene)) << info.name;
        continue;
      }
      for (size_t i = 0; i < child.List(info.gene)->size(); ++i) {
        const int v = (*child.List(info.gene))[i];
        const int va = (*p[0].List(info.gene))[i];
        const int vb = (*p[1].List(info.gene))[i];
        ASSERT_TRUE(v == va || v == vb) << info.name << "[" << i << "]";
        if (va != vb) (v == va ? from_a : from_b)++;
      }
    }
  }
  // Each differing element comes from either parent with probability 1/2.
  const double share = static_cast<double>(from_a) / (from_a + from_b);
  EXPECT_NEAR(share, 0.5, 0.05);
}

TEST(EvolutionOpsTest, CrossoverOfShortListsPadsToSuperDepth) {
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  SubTransformerConfig a;
  a.encoder = {512, 6, {3072, 3072, 3072, 3072, 3072, 3072}, {4, 8, 8, 8, 8, 8}};
  a.decoder = {512, 1, {3072}, {8}, {8}, {1}};
  Prng prng(2);
  ASSERT_OK_AND_ASSIGN(SubTransformerConfig child, Crossover(a, a, space, prng));
  EXPECT_EQ(child.decoder.ffn_embed_dim.size(), 6u);
  EXPECT_EQ(CanonicalKey(child), CanonicalKey(a));
}

TEST(EvolutionOpsTest, RefusesInvalidInput) {
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  Prng prng(1);
  SubTransformerConfig bad = SampleConfigs(space, 1, 1)[0];
  bad.decoder.embed_dim = 100;
  EXPECT_THAT(Mutate(bad, space, 0.3, prng),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("mutation parent: decoder_embed_dim=100")));
  EXPECT_THAT(Crossover(SampleConfigs(space, 1, 1)[0], bad, space, prng),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("crossover parent b")));
  EXPECT_THAT(Mutate(SampleConfigs(space, 1, 1)[0], space, 1.5, prng),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mutation_prob=1.5")));
}

}  // namespace
}  // namespace hat
