// Uniform sampling: valid, reproducible by seed on every platform, uniform over every choice.
#include "common/sampling.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "common/builtin_spaces.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;

// Chi-square critical values at p = 0.001 for 1..11 degrees of freedom.
double ChiSquareCritical001(int dof) {
  static const double kTable[] = {0,     10.83, 13.82, 16.27, 18.47, 20.52,
                                  22.46, 24.32, 26.12, 27.88, 29.59, 31.26};
  return kTable[dof];
}

double ChiSquare(const std::map<int, int>& counts, int k, int n) {
  const double expected = static_cast<double>(n) / k;
  double chi2 = 0;
  for (const auto& [value, count] : counts)
    chi2 += (count - expected) * (count - expected) / expected;
  // Choices never drawn contribute (0 - expected)^2 / expected each.
  chi2 += (k - static_cast<int>(counts.size())) * expected;
  return chi2;
}

TEST(SamplingTest, SampledConfigsAreValidFullDepthGenes) {
  for (const std::string& name : BuiltinSpaceNames()) {
    const DesignSpace space = *BuiltinSpace(name);
    for (const SubTransformerConfig& c : SampleConfigs(space, 200, 17)) {
      ASSERT_THAT(ValidateConfig(c, space), IsOk()) << name;
      EXPECT_EQ(c.encoder.ffn_embed_dim.size(), static_cast<size_t>(space.super.encoder_layers));
      EXPECT_EQ(c.decoder.arbitrary_ende_attn.size(),
                static_cast<size_t>(space.super.decoder_layers));
    }
  }
}

TEST(SamplingTest, SequenceIsDefinedByTheProject) {
  // Computed by an independent Python transcription of prng.cc and sampling.cc (seed 1).
  const std::vector<SubTransformerConfig> c = SampleConfigs(*BuiltinSpace("hat-wmt14-en-de"), 2, 1);
  EXPECT_EQ(CanonicalKey(c[0]),
            "enc:512:6:ffn=2048,2048,1024,3072,3072,2048:sa=4,4,4,4,4,4|dec:512:1:ffn=3072:sa=4:"
            "ea=4:at=1");
  EXPECT_EQ(CanonicalKey(c[1]),
            "enc:640:6:ffn=2048,2048,3072,2048,2048,2048:sa=4,8,8,4,4,4|dec:512:5:ffn=1024,3072,"
            "2048,1024,2048:sa=8,4,4,4,4:ea=4,4,8,4,8:at=-1,2,-1,2,2");
}

TEST(SamplingTest, SameSeedSameConfigsOtherSeedOthers) {
  const DesignSpace space = *BuiltinSpace("tiny");
  EXPECT_EQ(SampleConfigs(space, 50, 123), SampleConfigs(space, 50, 123));
  EXPECT_NE(SampleConfigs(space, 50, 123), SampleConfigs(space, 50, 124));
}

TEST(SamplingTest, EveryChoiceOfEveryLayerIsUniform) {
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de-latency");
  const int n = 6000;
  const std::vector<SubTransformerConfig> configs = SampleConfigs(space, n, 2024);
  int tested = 0;
  for (const GeneInfo& info : AllGenes()) {
    const std::vector<int>& choices = space.Choices(info.gene);
    const int k = static_cast<int>(choices.size());
    if (k < 2) continue;
    const int slots = info.per_layer ? space.Depth(info.decoder) : 1;
    for (int slot = 0; slot < slots; ++slot) {
      std::map<int, int> counts;
      for (const SubTransformerConfig& c : configs) {
        ++counts[info.per_layer ? (*c.List(info.gene))[slot] : *c.Scalar(info.gene)];
      }
      EXPECT_LT(ChiSquare(counts, k, n), ChiSquareCritical001(k - 1))
          << info.name << " slot " << slot;
      ++tested;
    }
  }
  EXPECT_EQ(tested, 2 + 6 * 2 + 1 + 6 * 4);  // every elastic slot was checked
}

TEST(SamplingTest, GenesAreIndependent) {
  // Joint counts of (decoder embed, decoder depth): 12 cells, uniform if the draws are independent.
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  const int n = 6000;
  std::map<int, int> joint;
  for (const SubTransformerConfig& c : SampleConfigs(space, n, 99)) {
    ++joint[c.decoder.embed_dim * 10 + c.decoder.layer_num];
  }
  EXPECT_LT(ChiSquare(joint, 12, n), ChiSquareCritical001(11));
}

}  // namespace
}  // namespace hat
