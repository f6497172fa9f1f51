// HAT's 10 features, computed by hand for a few configs, and the per-layer vector.
#include "common/features.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/builtin_spaces.h"

namespace hat {
namespace {

using ::testing::DoubleEq;
using ::testing::ElementsAre;

TEST(HatFeaturesTest, NamesAreHatCsvColumns) {
  const auto& n = HatFeatureNames();
  EXPECT_STREQ(n[0], "encoder_embed_dim");
  EXPECT_STREQ(n[3], "encoder_self_attention_heads_avg");
  EXPECT_STREQ(n[8], "decoder_ende_attention_heads_avg");
  EXPECT_STREQ(n[9], "decoder_arbitrary_ende_attn_avg");
}

TEST(HatFeaturesTest, Xeon137Config) {
  // HAT_wmt14ende_xeon@137.9ms_bleu@25.8: encoder heads [4,8,8,8,8,8] -> 44/6; arbitrary 1 -> 2.
  SubTransformerConfig c;
  c.encoder = {512, 6, {3072, 3072, 3072, 3072, 3072, 3072}, {4, 8, 8, 8, 8, 8}};
  c.decoder = {512, 1, {3072}, {8}, {8}, {1}};
  EXPECT_THAT(HatFeatures(c), ElementsAre(512, 6, 3072, DoubleEq(44.0 / 6), 512, 1, 3072, 8, 8, 2));
}

TEST(HatFeaturesTest, MeansUseActiveLayersOnly) {
  // Decoder of 2 active layers out of 6 lists: only the first two entries count.
  SubTransformerConfig c;
  c.encoder = {640, 6, {1024, 2048, 3072, 1024, 2048, 3072}, {8, 4, 8, 4, 8, 4}};
  c.decoder = {640,
               2,
               {1024, 2048, 3072, 3072, 3072, 3072},
               {4, 8, 2, 2, 2, 2},
               {4, 4, 8, 8, 8, 8},
               {-1, 2, 1, 1, 1, 1}};
  // encoder ffn mean (1024+2048+3072)*2/6 = 2048; heads mean 6; decoder ffn (1024+2048)/2 = 1536;
  // self heads (4+8)/2 = 6; ende heads 4; arbitrary (-1 -> 1, 2 -> 3) mean 2.
  EXPECT_THAT(HatFeatures(c), ElementsAre(640, 6, 2048, 6, 640, 2, 1536, 6, 4, 2));
}

TEST(HatFeaturesTest, ShallowEncoderOfTinySpace) {
  SubTransformerConfig c;
  c.encoder = {96, 3, {512, 128, 256, 512}, {4, 2, 2, 4}};
  c.decoder = {64, 3, {128, 128, 512, 64}, {2, 2, 4, 1}, {4, 4, 4, 1}, {1, 1, -1, 2}};
  // encoder ffn (512+128+256)/3 = 298.67, heads 8/3; decoder ffn 256, self heads 8/3, ende 4,
  // arbitrary (2+2+1)/3 = 5/3.
  EXPECT_THAT(HatFeatures(c), ElementsAre(96, 3, DoubleEq(896.0 / 3), DoubleEq(8.0 / 3), 64, 3, 256,
                                          DoubleEq(8.0 / 3), 4, DoubleEq(5.0 / 3)));
}

TEST(PerLayerFeaturesTest, ActiveLayersCarryTheirValuesInactiveAreZero) {
  const DesignSpace space = *BuiltinSpace("tiny");
  SubTransformerConfig c;
  c.encoder = {96, 3, {512, 128, 256, 512}, {4, 2, 2, 4}};
  c.decoder = {64, 1, {128, 512}, {2, 4}, {4, 2}, {2, -1}};
  const std::vector<std::string> names = PerLayerFeatureNames(space);
  const std::vector<double> f = PerLayerFeatures(c, space);
  ASSERT_EQ(names.size(), 2u + 3 * 4 + 2 + 5 * 4);
  ASSERT_EQ(f.size(), names.size());
  auto at = [&](const std::string& name) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == name) return f[i];
    }
    ADD_FAILURE() << "no feature " << name;
    return -1.0;
  };
  EXPECT_EQ(at("encoder_embed_dim"), 96);
  EXPECT_EQ(at("encoder.1.ffn_embed_dim"), 128);
  EXPECT_EQ(at("encoder.2.active"), 1);
  EXPECT_EQ(at("encoder.3.active"), 0);
  EXPECT_EQ(at("encoder.3.ffn_embed_dim"), 0);
  EXPECT_EQ(at("decoder_layer_num"), 1);
  EXPECT_EQ(at("decoder.0.ende_layers"), 3);
  EXPECT_EQ(at("decoder.0.self_attention_heads"), 2);
  EXPECT_EQ(at("decoder.1.active"), 0);
  EXPECT_EQ(at("decoder.1.ende_attention_heads"), 0);
}

}  // namespace
}  // namespace hat
