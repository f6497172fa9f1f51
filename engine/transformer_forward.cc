// HAT's SubTransformer forward pass (fairseq transformer_super, post-norm). Notes on HAT's
// semantics that are easy to get wrong:
//   - tokens are scaled by sqrt(sampled embed dim) before positions are added;
//   - q is scaled by head_dim^-0.5 after its projection, head_dim = qkv_dim / heads;
//   - layer norms have eps 1e-5; the FFN activation is ReLU; there is no final layer norm;
//   - the output projection is the decoder's embedding matrix, without bias.
#include "engine/transformer_forward.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

namespace hat {
namespace {

constexpr double kLayerNormEps = 1e-5;

at::Tensor Linear(const at::Tensor& x, const LinearWeights& w) {
  return at::linear(x, w.weight, w.bias.defined() ? w.bias : at::Tensor());
}

at::Tensor LayerNorm(const at::Tensor& x, const LayerNormWeights& w) {
  return at::layer_norm(x, {x.size(-1)}, w.weight, w.bias, kLayerNormEps);
}

at::Tensor Dropout(const at::Tensor& x, double p, bool training) {
  return training && p > 0 ? at::dropout(x, p, /*train=*/true) : x;
}

// [B, T, qkv] -> [B, H, T, head_dim]
at::Tensor SplitHeads(const at::Tensor& x, int heads) {
  return x.view({x.size(0), x.size(1), heads, x.size(2) / heads}).transpose(1, 2);
}

// [B, H, T, head_dim] -> [B, T, qkv]
at::Tensor MergeHeads(const at::Tensor& x) {
  return x.transpose(1, 2).reshape({x.size(0), x.size(2), x.size(1) * x.size(3)});
}

// Scaled dot-product attention of q [B, H, Tq, hd] over k, v [B, H, Tk, hd] (q already scaled).
// key_padding_mask [B, Tk] masks keys; causal masks keys after each query position.
at::Tensor Attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                  const at::Tensor& key_padding_mask, bool causal, double dropout, bool training) {
  at::Tensor scores = at::matmul(q, k.transpose(-2, -1));
  const double neg_inf = -std::numeric_limits<double>::infinity();
  if (key_padding_mask.defined()) {
    scores = scores.masked_fill(
        key_padding_mask.view({key_padding_mask.size(0), 1, 1, key_padding_mask.size(1)}), neg_inf);
  }
  if (causal) {
    const int64_t tq = scores.size(-2), tk = scores.size(-1);
    at::Tensor future = at::ones({tq, tk}, scores.options().dtype(at::kBool)).triu(1);
    scores = scores.masked_fill(future, neg_inf);
  }
  at::Tensor probs = at::softmax(scores, -1, at::kFloat).to(q.scalar_type());
  probs = Dropout(probs, dropout, training);
  return at::matmul(probs, v);
}

at::Tensor Embed(const at::Tensor& tokens, const at::Tensor& embed, const at::Tensor& positions,
                 int64_t padding_idx, const ForwardOptions& opt) {
  const double scale = std::sqrt(static_cast<double>(embed.size(1)));
  at::Tensor x = at::embedding(embed, tokens, padding_idx) * scale;
  x = x + at::embedding(positions, MakePositions(tokens, padding_idx), padding_idx);
  return Dropout(x, opt.dropout, opt.training);
}

at::Tensor Ffn(const at::Tensor& x, const FfnWeights& w, const ForwardOptions& opt) {
  at::Tensor h = at::relu(Linear(x, w.fc1));
  h = Dropout(h, opt.activation_dropout, opt.training);
  return Dropout(Linear(h, w.fc2), opt.dropout, opt.training);
}

// Self-attention over x [B, T, d] (all positions), returning [B, T, d] before the residual.
at::Tensor SelfAttention(const at::Tensor& x, const SelfAttentionWeights& w, int qkv_dim,
                         const at::Tensor& key_padding_mask, bool causal,
                         const ForwardOptions& opt) {
  const double scaling = std::pow(static_cast<double>(qkv_dim / w.heads), -0.5);
  std::vector<at::Tensor> qkv = Linear(x, w.qkv).chunk(3, -1);
  at::Tensor out = Attend(SplitHeads(qkv[0] * scaling, w.heads), SplitHeads(qkv[1], w.heads),
                          SplitHeads(qkv[2], w.heads), key_padding_mask, causal,
                          opt.attention_dropout, opt.training);
  return Linear(MergeHeads(out), w.out);
}

// Projects the encoder memory to keys and values [B, H, Tk, hd].
std::pair<at::Tensor, at::Tensor> EndeKeysValues(const at::Tensor& memory,
                                                 const EndeAttentionWeights& w) {
  std::vector<at::Tensor> kv = Linear(memory, w.kv).chunk(2, -1);
  return {SplitHeads(kv[0], w.heads).contiguous(), SplitHeads(kv[1], w.heads).contiguous()};
}

at::Tensor EndeQuery(const at::Tensor& x, const EndeAttentionWeights& w, int qkv_dim) {
  const double scaling = std::pow(static_cast<double>(qkv_dim / w.heads), -0.5);
  return SplitHeads(Linear(x, w.q) * scaling, w.heads);
}

}  // namespace

at::Tensor SinusoidalPositions(int64_t num_positions, int64_t dim, int64_t padding_idx) {
  const int64_t half = dim / 2;
  const double step = std::log(10000.0) / static_cast<double>(half - 1);
  at::Tensor freq = at::exp(at::arange(half, at::kFloat) * -step);
  at::Tensor angles = at::arange(num_positions, at::kFloat).unsqueeze(1) * freq.unsqueeze(0);
  at::Tensor table = at::cat({at::sin(angles), at::cos(angles)}, 1);
  if (dim % 2 == 1) table = at::cat({table, at::zeros({num_positions, 1})}, 1);
  if (padding_idx >= 0 && padding_idx < num_positions) table[padding_idx].zero_();
  return table;
}

at::Tensor MakePositions(const at::Tensor& tokens, int64_t padding_idx) {
  at::Tensor mask = tokens.ne(padding_idx).to(at::kLong);
  return at::cumsum(mask, 1) * mask + padding_idx;
}

EncoderOutput Encode(const SubTransformerWeights& w, const at::Tensor& src_tokens,
                     const ForwardOptions& opt) {
  EncoderOutput out;
  at::Tensor mask = src_tokens.eq(w.padding_idx);
  if (mask.any().item<bool>()) out.padding_mask = mask;
  at::Tensor x = Embed(src_tokens, w.encoder_embed, w.encoder_positions, w.padding_idx, opt);
  for (const EncoderLayerWeights& layer : w.encoder_layers) {
    at::Tensor a = SelfAttention(x, layer.self_attn, w.qkv_dim, out.padding_mask, false, opt);
    x = LayerNorm(x + Dropout(a, opt.encoder_attn_dropout, opt.training), layer.self_attn_norm);
    x = LayerNorm(x + Ffn(x, layer.ffn, opt), layer.final_norm);
    out.layers.push_back(x);
  }
  return out;
}

std::pair<at::Tensor, at::Tensor> EndeMemory(const EncoderOutput& encoder, int attended_layers) {
  TORCH_CHECK(attended_layers >= 1 && attended_layers <= static_cast<int>(encoder.layers.size()),
              "decoder attends to ", attended_layers, " encoder layers but the encoder has ",
              encoder.layers.size());
  std::vector<at::Tensor> parts, masks;
  for (int i = 0; i < attended_layers; ++i) {
    parts.push_back(encoder.layers[encoder.layers.size() - 1 - i]);
    if (encoder.padding_mask.defined()) masks.push_back(encoder.padding_mask);
  }
  at::Tensor memory = attended_layers == 1 ? parts[0] : at::cat(parts, 1);
  at::Tensor mask;
  if (!masks.empty()) mask = attended_layers == 1 ? masks[0] : at::cat(masks, 1);
  return {memory, mask};
}

at::Tensor DecodeHidden(const SubTransformerWeights& w, const at::Tensor& prev_tokens,
                        const EncoderOutput& encoder, const ForwardOptions& opt) {
  at::Tensor x = Embed(prev_tokens, w.decoder_embed, w.decoder_positions, w.padding_idx, opt);
  for (const DecoderLayerWeights& layer : w.decoder_layers) {
    at::Tensor a = SelfAttention(x, layer.self_attn, w.qkv_dim, at::Tensor(), true, opt);
    x = LayerNorm(x + Dropout(a, opt.dropout, opt.training), layer.self_attn_norm);

    auto [memory, memory_mask] = EndeMemory(encoder, layer.ende_attn.attended_layers);
    auto [keys, values] = EndeKeysValues(memory, layer.ende_attn);
    at::Tensor c = Attend(EndeQuery(x, layer.ende_attn, w.qkv_dim), keys, values, memory_mask,
                          false, opt.attention_dropout, opt.training);
    c = Linear(MergeHeads(c), layer.ende_attn.out);
    x = LayerNorm(x + Dropout(c, opt.dropout, opt.training), layer.ende_attn_norm);

    x = LayerNorm(x + Ffn(x, layer.ffn, opt), layer.final_norm);
  }
  return x;
}

at::Tensor DecodeAll(const SubTransformerWeights& w, const at::Tensor& prev_tokens,
                     const EncoderOutput& encoder, const ForwardOptions& opt) {
  return at::linear(DecodeHidden(w, prev_tokens, encoder, opt), w.decoder_embed);
}

DecodingKernels PackForDecoding(const SubTransformerWeights& w) {
  DecodingKernels k;
  auto pack = [](const LinearWeights& l) { return PackedLinear(l.weight, l.bias); };
  for (const DecoderLayerWeights& l : w.decoder_layers) {
    k.layers.push_back({pack(l.self_attn.qkv), pack(l.self_attn.out), pack(l.ende_attn.q),
                        pack(l.ende_attn.out), pack(l.ffn.fc1), pack(l.ffn.fc2)});
  }
  k.output_projection = PackedLinear(w.decoder_embed, at::Tensor());
  return k;
}

IncrementalDecoder::IncrementalDecoder(const SubTransformerWeights& w, const EncoderOutput& encoder,
                                       int beam, int max_steps, const DecodingKernels* kernels)
    : w_(w), kernels_(kernels), beam_(beam), max_steps_(max_steps) {
  TORCH_CHECK(beam >= 1 && max_steps >= 1, "beam and max_steps must be at least 1");
  TORCH_CHECK(!encoder.layers.empty(), "empty encoder output");
  sentences_ = encoder.layers.back().size(0);
  // Beyond a few rows general GEMM is as good and the packed kernel would re-stream weights.
  use_kernels_ = kernels != nullptr && sentences_ * beam <= 2 * PackedLinear::kMaxRows &&
                 kernels->layers.size() == w.decoder_layers.size();
  for (const DecoderLayerWeights& layer : w.decoder_layers) {
    LayerCache c;
    const int64_t head_dim = w.qkv_dim / layer.self_attn.heads;
    c.self_keys = at::empty({sentences_ * beam, layer.self_attn.heads, max_steps, head_dim},
                            encoder.layers.back().options());
    c.self_values = at::empty_like(c.self_keys);
    auto [memory, mask] = EndeMemory(encoder, layer.ende_attn.attended_layers);
    std::tie(c.ende_keys, c.ende_values) = EndeKeysValues(memory, layer.ende_attn);
    c.ende_mask = mask;
    cache_.push_back(std::move(c));
  }
}

at::Tensor IncrementalDecoder::Step(const at::Tensor& tokens) {
  TORCH_CHECK(steps_ < max_steps_, "decoder already ran its ", max_steps_, " steps");
  TORCH_CHECK(tokens.numel() == sentences_ * beam_, "expected ", sentences_ * beam_,
              " tokens (sentences x beam), got ", tokens.numel());
  const int64_t t = steps_;
  const int64_t rows = sentences_ * beam_;
  // The token fed at step t sits at position padding_idx + 1 + t (no padding in a hypothesis).
  const double scale = std::sqrt(static_cast<double>(w_.decoder_embed.size(1)));
  // Tokens may come from the CPU (beam search keeps its bookkeeping there).
  const at::Tensor fed = tokens.to(w_.decoder_embed.device()).view({rows, 1});
  at::Tensor x = at::embedding(w_.decoder_embed, fed, w_.padding_idx) * scale +
                 w_.decoder_positions[w_.padding_idx + 1 + t];
  for (size_t i = 0; i < w_.decoder_layers.size(); ++i) {
    const DecoderLayerWeights& layer = w_.decoder_layers[i];
    const PackedDecoderLayer* packed = use_kernels_ ? &kernels_->layers[i] : nullptr;
    LayerCache& c = cache_[i];
    const int heads = layer.self_attn.heads;
    const double scaling = std::pow(static_cast<double>(w_.qkv_dim / heads), -0.5);
    std::vector<at::Tensor> qkv =
        Project(x, layer.self_attn.qkv, packed ? &packed->self_qkv : nullptr).chunk(3, -1);
    c.self_keys.select(2, t).copy_(SplitHeads(qkv[1], heads).squeeze(2));
    c.self_values.select(2, t).copy_(SplitHeads(qkv[2], heads).squeeze(2));
    at::Tensor a = Attend(SplitHeads(qkv[0] * scaling, heads), c.self_keys.narrow(2, 0, t + 1),
                          c.self_values.narrow(2, 0, t + 1), at::Tensor(), false, 0, false);
    x = LayerNorm(
        x + Project(MergeHeads(a), layer.self_attn.out, packed ? &packed->self_out : nullptr),
        layer.self_attn_norm);

    // Hypotheses of a sentence act as its query positions over the shared memory:
    // [N·beam, 1, qkv] -> [N, H, beam, hd].
    const int ende_heads = layer.ende_attn.heads;
    const double ende_scaling = std::pow(static_cast<double>(w_.qkv_dim / ende_heads), -0.5);
    at::Tensor q =
        (Project(x, layer.ende_attn.q, packed ? &packed->ende_q : nullptr) * ende_scaling)
            .view({sentences_, beam_, ende_heads, w_.qkv_dim / ende_heads})
            .transpose(1, 2);
    at::Tensor e = Attend(q, c.ende_keys, c.ende_values, c.ende_mask, false, 0, false);
    e = e.transpose(1, 2).reshape({rows, 1, w_.qkv_dim});
    x = LayerNorm(x + Project(e, layer.ende_attn.out, packed ? &packed->ende_out : nullptr),
                  layer.ende_attn_norm);
    at::Tensor h = at::relu(Project(x, layer.ffn.fc1, packed ? &packed->fc1 : nullptr));
    x = LayerNorm(x + Project(h, layer.ffn.fc2, packed ? &packed->fc2 : nullptr), layer.final_norm);
  }
  ++steps_;
  return Project(x.squeeze(1), LinearWeights{w_.decoder_embed, at::Tensor()},
                 use_kernels_ ? &kernels_->output_projection : nullptr);
}

at::Tensor IncrementalDecoder::Project(const at::Tensor& x, const LinearWeights& w,
                                       const PackedLinear* packed) const {
  return packed != nullptr ? (*packed)(x) : Linear(x, w);
}

void IncrementalDecoder::Reorder(const at::Tensor& order) {
  if (cache_.empty()) return;
  const at::Tensor rows = order.to(cache_[0].self_keys.device());
  for (LayerCache& c : cache_) {
    c.self_keys = c.self_keys.index_select(0, rows);
    c.self_values = c.self_values.index_select(0, rows);
  }
}

}  // namespace hat
