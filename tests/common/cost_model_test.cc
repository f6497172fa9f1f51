// The analytic cost model against a hand-worked example.
#include "common/cost_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/builtin_spaces.h"
#include "common/sampling.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

// A space small enough to count by hand: embed 8/4, FFN 16/8, 2+2 layers, qkv 4, vocab 10.
DesignSpace Mini() {
  DesignSpace s;
  s.name = "mini";
  s.super = {8, 8, 16, 16, 2, 2, 2, 2, 4, 10, 64};
  s.MutableChoices(Gene::kEncoderEmbedDim) = {8, 4};
  s.MutableChoices(Gene::kDecoderEmbedDim) = {8, 4};
  s.MutableChoices(Gene::kEncoderLayerNum) = {2};
  s.MutableChoices(Gene::kDecoderLayerNum) = {2, 1};
  s.MutableChoices(Gene::kEncoderFfnEmbedDim) = {16, 8};
  s.MutableChoices(Gene::kDecoderFfnEmbedDim) = {16, 8};
  s.MutableChoices(Gene::kEncoderSelfAttentionHeads) = {2, 1};
  s.MutableChoices(Gene::kDecoderSelfAttentionHeads) = {2, 1};
  s.MutableChoices(Gene::kDecoderEndeAttentionHeads) = {2, 1};
  s.MutableChoices(Gene::kDecoderArbitraryEndeAttn) = {-1, 1};
  return s;
}

SubTransformerConfig MiniConfig() {
  SubTransformerConfig c;
  c.encoder = {8, 2, {16, 8}, {2, 2}};
  c.decoder = {4, 1, {8}, {2}, {1}, {1}};  // attends to the last 2 encoder layers
  return c;
}

TEST(CostModelTest, HandWorkedParams) {
  ASSERT_TRUE(Mini().Validate().ok());
  ASSERT_OK_AND_ASSIGN(ModelCost cost, EstimateCost(MiniConfig(), Mini(), {3, 2, 2}));
  // Embedding: vocab 10 x max(8, 4).
  EXPECT_EQ(cost.embedding_params, 80);
  // Encoder layer (d 8, q 4): q/k/v 3(8*4+4)=108, out 4*8+8=40, 2 layer norms 32;
  //   layer 0 (f 16): fc1 8*16+16=144, fc2 16*8+8=136 -> 460
  //   layer 1 (f 8):  fc1 8*8+8=72,    fc2 8*8+8=72   -> 324
  EXPECT_EQ(cost.encoder_params, 460 + 324);
  // Decoder layer (d 4, encoder d 8, q 4, f 8): self q/k/v 3(4*4+4)=60 + out 4*4+4=20;
  //   enc-dec q 4*4+4=20, k/v 2(8*4+4)=72, out 20; 3 layer norms 24; fc1 4*8+8=40, fc2 8*4+4=36.
  EXPECT_EQ(cost.decoder_params, 80 + 112 + 24 + 76);
  EXPECT_EQ(cost.params, 80 + 784 + 292);
}

TEST(CostModelTest, HandWorkedMacs) {
  ASSERT_OK_AND_ASSIGN(ModelCost cost, EstimateCost(MiniConfig(), Mini(), {3, 2, 2}));
  // Encoder, L = 3: projections 4*3*8*4 = 384 and attention 2*9*4 = 72 per layer;
  //   FFN 2*3*8*16 = 768 (layer 0) and 2*3*8*8 = 384 (layer 1).
  EXPECT_EQ(cost.encoder_macs, (384 + 72 + 768) + (384 + 72 + 384));
  // Decoder, T = 2 steps, beam 2, d 4, attended Lk = 3 tokens x 2 layers = 6:
  //   self-attention 2 * (2*4*4*4 + 2*(1+2)*4) = 304
  //   enc-dec attention 2*2 * (2*4*4 + 2*6*4) = 320, its K/V once 2*6*8*4 = 384
  //   FFN 2*2 * 2*4*8 = 256, output projection 2*2 * 4*10 = 160
  EXPECT_EQ(cost.output_projection_macs, 160);
  EXPECT_EQ(cost.decoder_macs, 304 + 320 + 384 + 256 + 160);
}

TEST(CostModelTest, WiderOrDeeperCostsMore) {
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  SubTransformerConfig small = SampleConfigs(space, 1, 1)[0];
  small.decoder.layer_num = 1;
  SubTransformerConfig deeper = small;
  deeper.decoder.layer_num = 4;
  SubTransformerConfig wider = small;
  wider.encoder.ffn_embed_dim.assign(6, 3072);
  small.encoder.ffn_embed_dim.assign(6, 1024);
  ASSERT_OK_AND_ASSIGN(ModelCost s, EstimateCost(small, space));
  ASSERT_OK_AND_ASSIGN(ModelCost d, EstimateCost(deeper, space));
  ASSERT_OK_AND_ASSIGN(ModelCost w, EstimateCost(wider, space));
  EXPECT_GT(d.decoder_macs, s.decoder_macs);
  EXPECT_GT(d.params, s.params);
  EXPECT_GT(w.encoder_macs, s.encoder_macs);
  EXPECT_EQ(w.decoder_macs, s.decoder_macs);
}

TEST(CostModelTest, OutputProjectionDominatesWmtDecoding) {
  // The brief measured the vocabulary projection at ~72% of HAT's decoder time; by MACs it is the
  // largest single term for a one-layer decoder.
  SubTransformerConfig c;
  c.encoder = {512, 6, {3072, 3072, 3072, 3072, 3072, 3072}, {4, 8, 8, 8, 8, 8}};
  c.decoder = {512, 1, {3072}, {8}, {8}, {1}};
  ASSERT_OK_AND_ASSIGN(ModelCost cost, EstimateCost(c, *BuiltinSpace("hat-wmt14-en-de")));
  EXPECT_EQ(cost.output_projection_macs, 5LL * 30 * 512 * 32768);
  EXPECT_GT(cost.output_projection_macs * 2, cost.decoder_macs);
}

TEST(CostModelTest, RefusesBadShapeOrConfig) {
  EXPECT_THAT(EstimateCost(MiniConfig(), Mini(), {0, 2, 2}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("source_tokens=0")));
  SubTransformerConfig bad = MiniConfig();
  bad.decoder.ffn_embed_dim = {32};
  EXPECT_THAT(EstimateCost(bad, Mini()), StatusIs(absl::StatusCode::kInvalidArgument,
                                                  HasSubstr("decoder_ffn_embed_dim[0]=32")));
}

}  // namespace
}  // namespace hat
