// SuperTransformer construction and slicing (HAT's leading-slice weight sharing).
#include "engine/super_transformer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "engine/torch_status.h"
#include "engine/transformer_forward.h"

namespace hat {
namespace {

// Leading slice [:rows, :cols] of a 2-D parameter.
at::Tensor Lead(const at::Tensor& t, int64_t rows, int64_t cols) {
  return t.narrow(0, 0, rows).narrow(1, 0, cols);
}
at::Tensor Lead(const at::Tensor& t, int64_t n) { return t.narrow(0, 0, n); }

}  // namespace

SuperTransformer::SuperTransformer(const DesignSpace& space) : space_(space) {}

absl::StatusOr<std::shared_ptr<SuperTransformer>> SuperTransformer::Create(const DesignSpace& space,
                                                                           uint64_t seed) {
  HAT_RETURN_IF_ERROR(Annotate(space.Validate(), "SuperTransformer"));
  return CallTorch("building SuperTransformer '" + space.name + "'",
                   [&]() -> absl::StatusOr<std::shared_ptr<SuperTransformer>> {
                     std::shared_ptr<SuperTransformer> model(new SuperTransformer(space));
                     model->Build(seed);
                     return model;
                   });
}

InitScales InitScalesFor(const SuperTransformerDims& s) {
  // Xavier-uniform bound of a [out, in] matrix.
  auto xavier = [](int64_t out, int64_t in) {
    return std::sqrt(6.0 / static_cast<double>(in + out));
  };
  const int64_t q = s.qkv_dim, de = s.encoder_embed_dim, dd = s.decoder_embed_dim;
  InitScales i;
  i.embed_std = std::pow(static_cast<double>(std::max(de, dd)), -0.5);
  i.encoder_qkv = xavier(3 * q, de);
  i.encoder_out = xavier(de, q);
  i.encoder_fc1 = xavier(s.encoder_ffn_embed_dim, de);
  i.encoder_fc2 = xavier(de, s.encoder_ffn_embed_dim);
  i.decoder_qkv = xavier(3 * q, dd);
  i.decoder_out = xavier(dd, q);
  i.decoder_fc1 = xavier(s.decoder_ffn_embed_dim, dd);
  i.decoder_fc2 = xavier(dd, s.decoder_ffn_embed_dim);
  // Encoder-decoder attention keeps q apart from k, v here (their inputs differ), but fairseq
  // and HAT's MultiheadAttentionSuper draw them as one [3·qkv, embed] matrix when the encoder
  // and decoder widths are equal, and as three matrices (q from the decoder width, k and v each
  // from the encoder width) when they are not; the bounds follow suit.
  i.ende_q = de == dd ? xavier(3 * q, dd) : xavier(q, dd);
  i.ende_kv = de == dd ? xavier(3 * q, de) : xavier(q, de);
  i.ende_out = xavier(dd, q);
  return i;
}

void SuperTransformer::Build(uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  const SuperTransformerDims& s = space_.super;
  const int64_t q = s.qkv_dim;
  const InitScales scale = InitScalesFor(s);
  auto uniform = [&](const std::string& name, int64_t out, int64_t in, double bound) {
    return register_parameter(name, at::empty({out, in}).uniform_(-bound, bound, gen));
  };
  auto zeros = [&](const std::string& name, int64_t n) {
    return register_parameter(name, at::zeros({n}));
  };
  auto norm = [&](const std::string& prefix, int64_t d) {
    return LayerNormParams{register_parameter(prefix + "_weight", at::ones({d})),
                           zeros(prefix + "_bias", d)};
  };
  auto self_attn = [&](const std::string& prefix, int64_t d, double qkv_bound, double out_bound) {
    return SelfAttentionParams{uniform(prefix + "_in_proj_weight", 3 * q, d, qkv_bound),
                               zeros(prefix + "_in_proj_bias", 3 * q),
                               uniform(prefix + "_out_proj_weight", d, q, out_bound),
                               zeros(prefix + "_out_proj_bias", d)};
  };
  auto ffn = [&](const std::string& prefix, int64_t d, int64_t f, double fc1_bound,
                 double fc2_bound) {
    return FfnParams{
        uniform(prefix + "_fc1_weight", f, d, fc1_bound), zeros(prefix + "_fc1_bias", f),
        uniform(prefix + "_fc2_weight", d, f, fc2_bound), zeros(prefix + "_fc2_bias", d)};
  };

  const int64_t embed_dim = std::max(s.encoder_embed_dim, s.decoder_embed_dim);
  embed_ = register_parameter(
      "embed_tokens", at::empty({s.vocab_size, embed_dim}).normal_(0, scale.embed_std, gen));
  {
    at::NoGradGuard no_grad;
    embed_[kPaddingIdx].zero_();
  }
  const int64_t positions = s.max_positions + kPaddingIdx + 1;
  encoder_positions_ = register_buffer(
      "encoder_positions", SinusoidalPositions(positions, s.encoder_embed_dim, kPaddingIdx));
  decoder_positions_ = register_buffer(
      "decoder_positions", SinusoidalPositions(positions, s.decoder_embed_dim, kPaddingIdx));

  for (int i = 0; i < s.encoder_layers; ++i) {
    const std::string p = absl::StrCat("encoder_", i);
    const int64_t d = s.encoder_embed_dim;
    encoder_.push_back({self_attn(p + "_self_attn", d, scale.encoder_qkv, scale.encoder_out),
                        norm(p + "_self_attn_norm", d), norm(p + "_final_norm", d),
                        ffn(p, d, s.encoder_ffn_embed_dim, scale.encoder_fc1, scale.encoder_fc2)});
  }
  const int64_t de = s.encoder_embed_dim;
  const int64_t dd = s.decoder_embed_dim;
  for (int i = 0; i < s.decoder_layers; ++i) {
    const std::string p = absl::StrCat("decoder_", i);
    const int64_t d = dd;
    DecoderLayerParams layer;
    layer.self_attn = self_attn(p + "_self_attn", d, scale.decoder_qkv, scale.decoder_out);
    layer.ende_q_weight = uniform(p + "_ende_q_weight", q, d, scale.ende_q);
    layer.ende_q_bias = zeros(p + "_ende_q_bias", q);
    layer.ende_kv_weight = uniform(p + "_ende_kv_weight", 2 * q, de, scale.ende_kv);
    layer.ende_kv_bias = zeros(p + "_ende_kv_bias", 2 * q);
    layer.ende_out_weight = uniform(p + "_ende_out_weight", d, q, scale.ende_out);
    layer.ende_out_bias = zeros(p + "_ende_out_bias", d);
    layer.self_attn_norm = norm(p + "_self_attn_norm", d);
    layer.ende_attn_norm = norm(p + "_ende_attn_norm", d);
    layer.final_norm = norm(p + "_final_norm", d);
    layer.ffn = ffn(p, d, s.decoder_ffn_embed_dim, scale.decoder_fc1, scale.decoder_fc2);
    decoder_.push_back(std::move(layer));
  }
}

absl::StatusOr<SubTransformerWeights> SuperTransformer::Slice(
    const SubTransformerConfig& config) const {
  HAT_RETURN_IF_ERROR(ValidateConfig(config, space_));
  return CallTorch("slicing SubTransformer", [&]() -> absl::StatusOr<SubTransformerWeights> {
    const int64_t q = space_.super.qkv_dim;
    const int64_t de = config.encoder.embed_dim;
    const int64_t dd = config.decoder.embed_dim;
    SubTransformerWeights w;
    w.qkv_dim = static_cast<int>(q);
    w.padding_idx = kPaddingIdx;
    w.encoder_embed = embed_.narrow(1, 0, de);
    w.decoder_embed = embed_.narrow(1, 0, dd);
    w.encoder_positions = encoder_positions_.narrow(1, 0, de);
    w.decoder_positions = decoder_positions_.narrow(1, 0, dd);
    auto norm = [](const LayerNormParams& p, int64_t d) {
      return LayerNormWeights{Lead(p.weight, d), Lead(p.bias, d)};
    };
    auto self_attn = [&](const SelfAttentionParams& p, int64_t d, int heads) {
      return SelfAttentionWeights{{Lead(p.in_proj_weight, 3 * q, d), p.in_proj_bias},
                                  {Lead(p.out_proj_weight, d, q), Lead(p.out_proj_bias, d)},
                                  heads};
    };
    auto ffn = [](const FfnParams& p, int64_t d, int64_t f) {
      return FfnWeights{{Lead(p.fc1_weight, f, d), Lead(p.fc1_bias, f)},
                        {Lead(p.fc2_weight, d, f), Lead(p.fc2_bias, d)}};
    };
    for (int i = 0; i < config.encoder.layer_num; ++i) {
      const EncoderLayerParams& p = encoder_[i];
      w.encoder_layers.push_back(
          {self_attn(p.self_attn, de, config.encoder.self_attention_heads[i]),
           norm(p.self_attn_norm, de), ffn(p.ffn, de, config.encoder.ffn_embed_dim[i]),
           norm(p.final_norm, de)});
    }
    for (int i = 0; i < config.decoder.layer_num; ++i) {
      const DecoderLayerParams& p = decoder_[i];
      DecoderLayerWeights layer;
      layer.self_attn = self_attn(p.self_attn, dd, config.decoder.self_attention_heads[i]);
      layer.self_attn_norm = norm(p.self_attn_norm, dd);
      layer.ende_attn.q = {Lead(p.ende_q_weight, q, dd), p.ende_q_bias};
      layer.ende_attn.kv = {Lead(p.ende_kv_weight, 2 * q, de), p.ende_kv_bias};
      layer.ende_attn.out = {Lead(p.ende_out_weight, dd, q), Lead(p.ende_out_bias, dd)};
      layer.ende_attn.heads = config.decoder.ende_attention_heads[i];
      layer.ende_attn.attended_layers = EndeAttendedLayers(config.decoder.arbitrary_ende_attn[i]);
      layer.ende_attn_norm = norm(p.ende_attn_norm, dd);
      layer.ffn = ffn(p.ffn, dd, config.decoder.ffn_embed_dim[i]);
      layer.final_norm = norm(p.final_norm, dd);
      w.decoder_layers.push_back(std::move(layer));
    }
    return w;
  });
}

}  // namespace hat
