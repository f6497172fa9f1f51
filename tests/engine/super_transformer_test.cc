// SuperTransformer initialisation follows fairseq and HAT's MultiheadAttentionSuper, so that a
// SubTransformer trained from scratch here starts where the published recipes start.
#include "engine/super_transformer.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/engine/engine_test_util.h"

namespace hat {
namespace {

using ::hat::testing::SmallTinySpace;

at::Tensor Parameter(const SuperTransformer& model, const std::string& name) {
  const at::Tensor* p = model.named_parameters().find(name);
  EXPECT_NE(p, nullptr) << name;
  return p == nullptr ? at::Tensor() : *p;
}

// A uniform draw of thousands of values reaches within 1% of its bound: the largest magnitude
// tells the bound apart from the next candidate (they differ by 15% or more below).
void ExpectUniformBound(const at::Tensor& t, double bound, const std::string& what) {
  const double max_abs = t.abs().max().item<double>();
  EXPECT_LE(max_abs, bound) << what;
  EXPECT_GT(max_abs, 0.99 * bound) << what;
}

double XavierBound(int64_t out, int64_t in) { return std::sqrt(6.0 / (out + in)); }

TEST(SuperTransformerInitTest, EqualWidthsDrawQkvAsOneMatrixInBothAttentions) {
  const DesignSpace space = SmallTinySpace();
  ASSERT_EQ(space.super.encoder_embed_dim, space.super.decoder_embed_dim);
  auto model = SuperTransformer::Create(space, 5);
  ASSERT_TRUE(model.ok()) << model.status();
  const int64_t d = space.super.decoder_embed_dim;
  const int64_t q = space.super.qkv_dim;
  const double fused = XavierBound(3 * q, d);
  ExpectUniformBound(Parameter(**model, "decoder_0_self_attn_in_proj_weight"), fused, "self q,k,v");
  // fairseq: one [3q, d] matrix for the encoder-decoder q, k, v too, not [q, d] and [2q, d].
  ExpectUniformBound(Parameter(**model, "decoder_0_ende_q_weight"), fused, "ende q");
  ExpectUniformBound(Parameter(**model, "decoder_0_ende_kv_weight"), fused, "ende k,v");
  ExpectUniformBound(Parameter(**model, "decoder_0_ende_out_weight"), XavierBound(d, q),
                     "ende out");
  EXPECT_EQ(Parameter(**model, "decoder_0_ende_q_bias").abs().sum().item<double>(), 0.0);
}

TEST(SuperTransformerInitTest, UnequalWidthsDrawEndeQKAndVApart) {
  DesignSpace space = SmallTinySpace();
  space.super.encoder_embed_dim = space.super.decoder_embed_dim / 2;
  space.MutableChoices(Gene::kEncoderEmbedDim) = {space.super.encoder_embed_dim};
  auto model = SuperTransformer::Create(space, 5);
  ASSERT_TRUE(model.ok()) << model.status();
  const int64_t q = space.super.qkv_dim;
  ExpectUniformBound(Parameter(**model, "decoder_0_ende_q_weight"),
                     XavierBound(q, space.super.decoder_embed_dim), "ende q");
  ExpectUniformBound(Parameter(**model, "decoder_0_ende_kv_weight"),
                     XavierBound(q, space.super.encoder_embed_dim), "ende k,v");
}

}  // namespace
}  // namespace hat
