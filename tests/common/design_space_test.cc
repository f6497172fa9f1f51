// DesignSpace: built-in spaces are valid and faithful to HAT; validation names key and value.
#include "common/design_space.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "common/builtin_spaces.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

DesignSpace Wmt() { return *BuiltinSpace("hat-wmt14-en-de"); }

TEST(BuiltinSpacesTest, EveryBuiltinSpaceIsValid) {
  const std::vector<std::string> names = BuiltinSpaceNames();
  EXPECT_EQ(names.size(), 10u);
  for (const std::string& name : names) {
    absl::StatusOr<DesignSpace> space = BuiltinSpace(name);
    ASSERT_THAT(space, IsOk()) << name;
    EXPECT_EQ(space->name, name);
    EXPECT_THAT(space->Validate(), IsOk()) << name;
  }
}

TEST(BuiltinSpacesTest, UnknownNameListsTheKnownOnes) {
  EXPECT_THAT(BuiltinSpace("hat-wmt14"),
              StatusIs(absl::StatusCode::kNotFound,
                       ::testing::AllOf(HasSubstr("hat-wmt14"), HasSubstr("hat-wmt14-en-de"))));
}

TEST(BuiltinSpacesTest, Wmt14EnDeIsHatSpace0) {
  const DesignSpace s = Wmt();
  EXPECT_EQ(s.super.encoder_embed_dim, 640);
  EXPECT_EQ(s.super.encoder_ffn_embed_dim, 3072);
  EXPECT_EQ(s.super.qkv_dim, 512);
  EXPECT_EQ(s.super.decoder_layers, 6);
  EXPECT_EQ(s.Choices(Gene::kEncoderEmbedDim), (std::vector<int>{640, 512}));
  EXPECT_EQ(s.Choices(Gene::kDecoderFfnEmbedDim), (std::vector<int>{3072, 2048, 1024}));
  EXPECT_EQ(s.Choices(Gene::kEncoderLayerNum), (std::vector<int>{6}));
  EXPECT_EQ(s.Choices(Gene::kDecoderLayerNum), (std::vector<int>{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(s.Choices(Gene::kDecoderEndeAttentionHeads), (std::vector<int>{8, 4}));
  EXPECT_EQ(s.Choices(Gene::kDecoderArbitraryEndeAttn), (std::vector<int>{-1, 1, 2}));
}

TEST(BuiltinSpacesTest, LatencyVariantIsWiderThanSearchSpace) {
  const DesignSpace search = Wmt();
  const DesignSpace latency = *BuiltinSpace("hat-wmt14-en-de-latency");
  EXPECT_EQ(latency.Choices(Gene::kEncoderFfnEmbedDim), (std::vector<int>{3072, 2048, 1024, 512}));
  EXPECT_EQ(latency.Choices(Gene::kDecoderSelfAttentionHeads), (std::vector<int>{8, 4, 2}));
  for (const GeneInfo& info : AllGenes()) {
    for (int v : search.Choices(info.gene)) {
      EXPECT_THAT(latency.Choices(info.gene), ::testing::Contains(v)) << info.name;
    }
  }
}

TEST(DesignSpaceTest, CardinalityCountsActiveLayersOnly) {
  // hat-wmt14-en-de: 2 x 2 embed dims; 6 encoder layers of 3 FFN x 2 heads; a decoder of d layers
  // with 3 FFN x 2 self heads x 2 ende heads x 3 arbitrary choices = 36 per layer, d = 1..6.
  double decoder = 0;
  for (int d = 1; d <= 6; ++d) decoder += std::pow(36.0, d);
  const double expected = 4 * std::pow(6.0, 6) * decoder;
  EXPECT_DOUBLE_EQ(Wmt().Cardinality(), expected);
}

TEST(DesignSpaceTest, RejectsChoiceAboveSuperTransformer) {
  DesignSpace s = Wmt();
  s.MutableChoices(Gene::kEncoderFfnEmbedDim) = {3072, 4096};
  EXPECT_THAT(s.Validate(), StatusIs(kInvalid, HasSubstr("choices.encoder_ffn_embed_dim[1]=4096: "
                                                         "above the SuperTransformer's "
                                                         "encoder_ffn_embed_dim 3072")));
  EXPECT_THAT(s.Validate(KeyStyle::kHatYaml),
              StatusIs(kInvalid, HasSubstr("encoder-ffn-embed-dim-choice[1]=4096: above the "
                                           "SuperTransformer's encoder-ffn-embed-dim 3072")));
}

TEST(DesignSpaceTest, RejectsHeadsThatDoNotDivideQkv) {
  DesignSpace s = Wmt();
  s.MutableChoices(Gene::kDecoderSelfAttentionHeads) = {8, 3};
  EXPECT_THAT(s.Validate(), StatusIs(kInvalid, HasSubstr("decoder_self_attention_heads[1]=3: does "
                                                         "not divide qkv_dim 512")));
}

TEST(DesignSpaceTest, RejectsEmptyAndDuplicateChoices) {
  DesignSpace s = Wmt();
  s.MutableChoices(Gene::kDecoderEmbedDim) = {};
  EXPECT_THAT(s.Validate(), StatusIs(kInvalid, HasSubstr("choices.decoder_embed_dim: must not be "
                                                         "empty")));
  s = Wmt();
  s.MutableChoices(Gene::kDecoderEmbedDim) = {512, 512};
  EXPECT_THAT(s.Validate(),
              StatusIs(kInvalid, HasSubstr("decoder_embed_dim[1]=512: listed twice")));
}

TEST(DesignSpaceTest, RejectsArbitraryAttentionDeeperThanEncoder) {
  DesignSpace s = *BuiltinSpace("tiny");
  s.MutableChoices(Gene::kEncoderLayerNum) = {4, 2};
  EXPECT_THAT(s.Validate(), StatusIs(kInvalid, HasSubstr("attends to up to 3 encoder layers but "
                                                         "choices.encoder_layer_num allows 2")));
  s = Wmt();
  s.MutableChoices(Gene::kDecoderArbitraryEndeAttn) = {-1, 0};
  EXPECT_THAT(s.Validate(), StatusIs(kInvalid, HasSubstr("decoder_arbitrary_ende_attn[1]=0: must "
                                                         "be -1")));
}

TEST(DesignSpaceTest, RejectsNonPositiveOrHugeSuperDims) {
  DesignSpace s = Wmt();
  s.super.qkv_dim = 0;
  EXPECT_THAT(s.Validate(), StatusIs(kInvalid, HasSubstr("super.qkv_dim=0")));
  s = Wmt();
  s.super.decoder_layers = 1000;
  EXPECT_THAT(s.Validate(KeyStyle::kHatYaml), StatusIs(kInvalid, HasSubstr("decoder-layers=1000")));
}

TEST(DesignSpaceTest, RejectsLayerChoiceDeeperThanSuperTransformer) {
  DesignSpace s = Wmt();
  s.MutableChoices(Gene::kDecoderLayerNum) = {7};
  EXPECT_THAT(s.Validate(), StatusIs(kInvalid, HasSubstr("decoder_layer_num[0]=7: above")));
}

TEST(DesignSpaceTest, RejectsOddEmbedDim) {
  DesignSpace s = Wmt();
  s.MutableChoices(Gene::kEncoderEmbedDim) = {640, 511};
  EXPECT_THAT(s.Validate(),
              StatusIs(kInvalid, HasSubstr("encoder_embed_dim[1]=511: must be even")));
}

TEST(DesignSpaceTest, EndeAttendedLayersFollowsHatEncoding) {
  EXPECT_EQ(EndeAttendedLayers(-1), 1);
  EXPECT_EQ(EndeAttendedLayers(1), 2);
  EXPECT_EQ(EndeAttendedLayers(2), 3);
}

}  // namespace
}  // namespace hat
