// SubTransformerConfig validation and identity.
#include "common/subtransformer_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/builtin_spaces.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

// HAT's HAT_wmt14ende_xeon@137.9ms_bleu@25.8 SubTransformer.
SubTransformerConfig Xeon137() {
  SubTransformerConfig c;
  c.encoder = {512, 6, {3072, 3072, 3072, 3072, 3072, 3072}, {4, 8, 8, 8, 8, 8}};
  c.decoder = {512, 1, {3072}, {8}, {8}, {1}};
  return c;
}

DesignSpace Wmt() { return *BuiltinSpace("hat-wmt14-en-de"); }

TEST(SubTransformerConfigTest, PublishedConfigIsValid) {
  EXPECT_THAT(ValidateConfig(Xeon137(), Wmt()), IsOk());
}

TEST(SubTransformerConfigTest, ValueOutsideSpaceNamesKeyIndexAndChoices) {
  SubTransformerConfig c = Xeon137();
  c.encoder.ffn_embed_dim[2] = 5000;
  EXPECT_THAT(ValidateConfig(c, Wmt()),
              StatusIs(kInvalid, HasSubstr("encoder_ffn_embed_dim[2]=5000: not in {3072, 2048, "
                                           "1024} of space 'hat-wmt14-en-de'")));
  EXPECT_THAT(ValidateConfig(c, Wmt(), KeyStyle::kHatYaml),
              StatusIs(kInvalid, HasSubstr("encoder-ffn-embed-dim-all-subtransformer[2]=5000")));
}

TEST(SubTransformerConfigTest, ScalarOutsideSpaceIsNamed) {
  SubTransformerConfig c = Xeon137();
  c.decoder.embed_dim = 768;
  EXPECT_THAT(ValidateConfig(c, Wmt()),
              StatusIs(kInvalid, HasSubstr("decoder_embed_dim=768: not in {640, 512}")));
}

TEST(SubTransformerConfigTest, ListShorterThanActiveLayersIsRefused) {
  SubTransformerConfig c = Xeon137();
  c.decoder.layer_num = 2;
  EXPECT_THAT(ValidateConfig(c, Wmt()),
              StatusIs(kInvalid, HasSubstr("decoder_ffn_embed_dim: has 1 entries but "
                                           "decoder_layer_num=2 layers are active")));
}

TEST(SubTransformerConfigTest, ListLongerThanSuperTransformerIsRefused) {
  SubTransformerConfig c = Xeon137();
  c.encoder.self_attention_heads.push_back(8);
  EXPECT_THAT(ValidateConfig(c, Wmt()),
              StatusIs(kInvalid, HasSubstr("encoder_self_attention_heads: has 7 entries but the "
                                           "SuperTransformer has 6 layers")));
}

TEST(SubTransformerConfigTest, ZeroLayersIsAShapeError) {
  SubTransformerConfig c = Xeon137();
  c.decoder.layer_num = 0;
  EXPECT_THAT(ValidateConfigShape(c),
              StatusIs(kInvalid, HasSubstr("decoder_layer_num=0: must be at least 1")));
}

TEST(SubTransformerConfigTest, CanonicalKeyIgnoresInactiveLayers) {
  SubTransformerConfig a = Xeon137();
  SubTransformerConfig b = Xeon137();
  b.decoder.ffn_embed_dim = {3072, 1024, 2048};  // layers 2 and 3 are inactive
  b.decoder.self_attention_heads = {8, 4, 4};
  b.decoder.ende_attention_heads = {8, 4, 8};
  b.decoder.arbitrary_ende_attn = {1, -1, 2};
  EXPECT_NE(a, b);
  EXPECT_EQ(CanonicalKey(a), CanonicalKey(b));
  EXPECT_EQ(ConfigId(a), ConfigId(b));
  EXPECT_EQ(CanonicalKey(a),
            "enc:512:6:ffn=3072,3072,3072,3072,3072,3072:sa=4,8,8,8,8,8|dec:512:1:ffn=3072:sa=8:"
            "ea=8:at=1");
  EXPECT_EQ(ActiveOnly(b), a);
}

TEST(SubTransformerConfigTest, CanonicalKeyDistinguishesActiveChanges) {
  SubTransformerConfig b = Xeon137();
  b.encoder.self_attention_heads[0] = 8;
  EXPECT_NE(CanonicalKey(Xeon137()), CanonicalKey(b));
  EXPECT_NE(ConfigId(Xeon137()), ConfigId(b));
}

TEST(SubTransformerConfigTest, ConfigIdIsStable) {
  // FNV-1a of the canonical key; stored ids depend on it never changing.
  EXPECT_EQ(ConfigId(Xeon137()), 0x01e3133c9aaa2baeULL);
}

TEST(SubTransformerConfigTest, PadToSuperDepthRepeatsLastValue) {
  const SubTransformerConfig padded = PadToSuperDepth(Xeon137(), Wmt());
  EXPECT_EQ(padded.decoder.ffn_embed_dim, std::vector<int>(6, 3072));
  EXPECT_EQ(padded.decoder.arbitrary_ende_attn, std::vector<int>(6, 1));
  EXPECT_EQ(CanonicalKey(padded), CanonicalKey(Xeon137()));
  EXPECT_THAT(ValidateConfig(padded, Wmt()), IsOk());
}

}  // namespace
}  // namespace hat
