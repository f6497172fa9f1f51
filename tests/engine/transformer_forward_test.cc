// The SubTransformer forward pass: sliced == standalone, incremental == full decoding, arbitrary
// encoder-decoder attention attends to the right layers, positions follow fairseq/HAT.
#include "engine/transformer_forward.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "common/sampling.h"
#include "engine/sub_transformer.h"
#include "engine/super_transformer.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::RandomTokens;
using ::hat::testing::SmallTinySpace;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

// Float32 sums in a different order differ in the last bits; 1e-5 relative to the logits'
// scale is far below any real difference (a wrong slice changes logits by O(1)).
constexpr double kTolerance = 1e-5;

void ExpectClose(const at::Tensor& a, const at::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double scale = std::max(1.0, b.abs().max().item<double>());
  EXPECT_LT((a - b).abs().max().item<double>(), kTolerance * scale) << what;
}

std::shared_ptr<SuperTransformer> Super(const DesignSpace& space, uint64_t seed = 1) {
  auto super = SuperTransformer::Create(space, seed);
  EXPECT_TRUE(super.ok()) << super.status();
  return *super;
}

TEST(SinusoidalPositionsTest, FollowsFairseqLayout) {
  const at::Tensor t = SinusoidalPositions(10, 8, 1);
  // half = 4, freq_i = exp(-i * ln(10000) / 3); row p = [sin(p f_0..3), cos(p f_0..3)].
  const double f1 = std::exp(-std::log(10000.0) / 3);
  EXPECT_NEAR(t[5][1].item<double>(), std::sin(5 * f1), 1e-6);
  EXPECT_NEAR(t[5][5].item<double>(), std::cos(5 * f1), 1e-6);
  EXPECT_NEAR(t[3][0].item<double>(), std::sin(3.0), 1e-6);
  EXPECT_EQ(t[1].abs().sum().item<double>(), 0.0) << "padding row must be zero";
}

TEST(SinusoidalPositionsTest, SubTransformerUsesLeadingColumnsOfTheSuperTable) {
  // HAT slices the SuperTransformer's table: embed 96 of super 128 = 64 sin + 32 cos columns.
  auto super = Super(SmallTinySpace());
  SubTransformerConfig c = SampleConfigs(SmallTinySpace(), 1, 3)[0];
  c.encoder.embed_dim = 96;
  ASSERT_OK_AND_ASSIGN(SubTransformerWeights w, super->Slice(c));
  const at::Tensor full = SinusoidalPositions(64 + 2, 128, 1);
  ExpectClose(w.encoder_positions, full.narrow(1, 0, 96), "positions");
}

TEST(MakePositionsTest, PadsKeepPaddingIdx) {
  const at::Tensor tokens = at::tensor({1, 1, 5, 6, 7}, at::kLong).view({1, 5});
  EXPECT_TRUE(
      at::equal(MakePositions(tokens, 1), at::tensor({1, 1, 2, 3, 4}, at::kLong).view({1, 5})));
}

TEST(TransformerForwardTest, StandaloneEqualsSlicedForSampledConfigs) {
  const DesignSpace space = SmallTinySpace();
  auto super = Super(space);
  c10::InferenceMode inference;
  for (const SubTransformerConfig& config : SampleConfigs(space, 8, 11)) {
    ASSERT_OK_AND_ASSIGN(SubTransformerWeights sliced, super->Slice(config));
    ASSERT_OK_AND_ASSIGN(SubTransformer standalone, SubTransformer::Extract(*super, config));
    const at::Tensor src = RandomTokens(2, 7, space.super.vocab_size, 1);
    const at::Tensor prev = RandomTokens(2, 5, space.super.vocab_size, 2);
    const EncoderOutput enc_a = Encode(sliced, src);
    const EncoderOutput enc_b = Encode(standalone.weights(), src);
    ExpectClose(enc_b.layers.back(), enc_a.layers.back(), CanonicalKey(config) + " encoder");
    ExpectClose(DecodeAll(standalone.weights(), prev, enc_b), DecodeAll(sliced, prev, enc_a),
                CanonicalKey(config) + " decoder");
  }
}

TEST(TransformerForwardTest, SlicedWeightsAreViewsOfTheSuperTransformer) {
  auto super = Super(SmallTinySpace());
  const SubTransformerConfig config = SampleConfigs(SmallTinySpace(), 1, 5)[0];
  ASSERT_OK_AND_ASSIGN(SubTransformerWeights w, super->Slice(config));
  // Writing through the view changes the SuperTransformer: the weights are shared, not copied.
  ASSERT_OK_AND_ASSIGN(SubTransformerWeights again, super->Slice(config));
  {
    at::NoGradGuard no_grad;
    w.decoder_layers[0].ffn.fc1.weight.fill_(0.25);
  }
  EXPECT_EQ(again.decoder_layers[0].ffn.fc1.weight[0][0].item<float>(), 0.25f);
}

TEST(TransformerForwardTest, IncrementalDecodingEqualsFullDecoding) {
  const DesignSpace space = SmallTinySpace();
  auto super = Super(space);
  c10::InferenceMode inference;
  for (const SubTransformerConfig& config : SampleConfigs(space, 6, 21)) {
    ASSERT_OK_AND_ASSIGN(SubTransformer model, SubTransformer::Extract(*super, config));
    const int beam = 3;
    // Two source sentences, the second left-padded, and three hypotheses per sentence.
    at::Tensor src = RandomTokens(2, 6, space.super.vocab_size, 4);
    src[1][0] = kPaddingIdx;
    src[1][1] = kPaddingIdx;
    const at::Tensor prev = RandomTokens(2 * beam, 6, space.super.vocab_size, 5);
    const EncoderOutput enc = Encode(model.weights(), src);
    EncoderOutput expanded = enc;  // the full decoder sees every hypothesis' own copy
    for (at::Tensor& layer : expanded.layers) layer = layer.repeat_interleave(beam, 0);
    expanded.padding_mask = enc.padding_mask.repeat_interleave(beam, 0);
    const at::Tensor full = DecodeAll(model.weights(), prev, expanded);
    // Both the general path and the packed kernels of the standalone model.
    ASSERT_NE(model.decoding_kernels(), nullptr);
    for (const DecodingKernels* kernels :
         {static_cast<const DecodingKernels*>(nullptr), model.decoding_kernels()}) {
      IncrementalDecoder decoder(model.weights(), enc, beam, prev.size(1), kernels);
      for (int64_t t = 0; t < prev.size(1); ++t) {
        ExpectClose(decoder.Step(prev.select(1, t)), full.select(1, t),
                    CanonicalKey(config) + (kernels ? " packed" : " general") + " step " +
                        std::to_string(t));
      }
    }
  }
}

TEST(TransformerForwardTest, ReorderFollowsTheChosenHypotheses) {
  const DesignSpace space = SmallTinySpace();
  auto super = Super(space);
  c10::InferenceMode inference;
  ASSERT_OK_AND_ASSIGN(SubTransformer model,
                       SubTransformer::Extract(*super, SampleConfigs(space, 1, 8)[0]));
  const at::Tensor src = RandomTokens(1, 5, space.super.vocab_size, 6);
  const EncoderOutput enc = Encode(model.weights(), src);
  // Hypotheses 0 and 1 take different first tokens; after Reorder({1, 1}) both continue
  // hypothesis 1, so their next logits equal a decoder that saw hypothesis 1's prefix twice.
  IncrementalDecoder a(model.weights(), enc, 2, 3);
  a.Step(at::tensor({10, 20}, at::kLong));
  a.Reorder(at::tensor({1, 1}, at::kLong));
  const at::Tensor after = a.Step(at::tensor({30, 31}, at::kLong));
  IncrementalDecoder b(model.weights(), enc, 2, 3);
  b.Step(at::tensor({20, 20}, at::kLong));
  ExpectClose(after, b.Step(at::tensor({30, 31}, at::kLong)), "reordered");
}

TEST(EndeMemoryTest, ConcatenatesLastLayersLastFirst) {
  EncoderOutput enc;
  for (int i = 0; i < 4; ++i) enc.layers.push_back(at::full({1, 2, 3}, static_cast<double>(i)));
  enc.padding_mask = at::tensor({1, 0}, at::kLong).to(at::kBool).view({1, 2});
  auto [memory, mask] = EndeMemory(enc, 3);
  ASSERT_EQ(memory.sizes(), (std::vector<int64_t>{1, 6, 3}));
  // Time steps 0-1 from layer 3 (the last), 2-3 from layer 2, 4-5 from layer 1.
  EXPECT_EQ(memory[0][0][0].item<double>(), 3);
  EXPECT_EQ(memory[0][2][0].item<double>(), 2);
  EXPECT_EQ(memory[0][5][0].item<double>(), 1);
  EXPECT_TRUE(
      at::equal(mask, at::tensor({1, 0, 1, 0, 1, 0}, at::kLong).to(at::kBool).view({1, 6})));
  auto [one, no_mask] = EndeMemory(EncoderOutput{enc.layers, at::Tensor()}, 1);
  EXPECT_EQ(one.size(1), 2);
  EXPECT_FALSE(no_mask.defined());
}

TEST(EndeMemoryTest, DecoderOutputDependsOnExactlyTheAttendedLayers) {
  const DesignSpace space = SmallTinySpace();
  auto super = Super(space);
  c10::InferenceMode inference;
  SubTransformerConfig config = SampleConfigs(space, 1, 2)[0];
  config.encoder.layer_num = 4;
  config.decoder.layer_num = 1;
  const at::Tensor src = RandomTokens(1, 5, space.super.vocab_size, 7);
  const at::Tensor prev = RandomTokens(1, 4, space.super.vocab_size, 8);
  for (int arbitrary : {-1, 1, 2}) {
    config.decoder.arbitrary_ende_attn[0] = arbitrary;
    ASSERT_OK_AND_ASSIGN(SubTransformerWeights w, super->Slice(config));
    const EncoderOutput enc = Encode(w, src);
    const at::Tensor base = DecodeAll(w, prev, enc);
    const int attended = EndeAttendedLayers(arbitrary);
    for (int layer = 0; layer < 4; ++layer) {
      EncoderOutput changed = enc;
      changed.layers[layer] = changed.layers[layer] + 1.0;
      const bool differs = !at::allclose(DecodeAll(w, prev, changed), base);
      EXPECT_EQ(differs, layer >= 4 - attended)
          << "arbitrary=" << arbitrary << " encoder layer " << layer;
    }
  }
}

TEST(TransformerForwardTest, OutOfSpaceConfigIsRefusedBeforeSlicing) {
  auto super = Super(SmallTinySpace());
  SubTransformerConfig config = SampleConfigs(SmallTinySpace(), 1, 9)[0];
  config.decoder.ffn_embed_dim[0] = 1000;
  EXPECT_THAT(super->Slice(config), StatusIs(absl::StatusCode::kInvalidArgument,
                                             HasSubstr("decoder_ffn_embed_dim[0]=1000")));
  EXPECT_THAT(SubTransformer::Extract(*super, config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not in")));
  config = SampleConfigs(SmallTinySpace(), 1, 9)[0];
  config.encoder.layer_num = 0;
  EXPECT_THAT(super->Slice(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("encoder_layer_num=0")));
}

TEST(SuperTransformerTest, InvalidSpaceIsRefused) {
  DesignSpace space = SmallTinySpace();
  space.super.qkv_dim = 90;
  EXPECT_THAT(SuperTransformer::Create(space, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not divide qkv_dim")));
}

}  // namespace
}  // namespace hat
