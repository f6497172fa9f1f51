// Cost features; see cost_features.h and common/cost_model.h for the formulas.
#include "predictor/cost_features.h"

namespace hat {

CostWorkload CostWorkload::ForSpace(const DesignSpace& space, const CostShape& shape) {
  CostWorkload w;
  w.qkv_dim = space.super.qkv_dim;
  w.vocab_size = space.super.vocab_size;
  w.shape = shape;
  return w;
}

const std::array<double, kNumHatFeatures>& HatWmtFeatureNorms() {
  static const std::array<double, kNumHatFeatures> norms = {640, 6, 2048, 6, 640, 6, 2048, 6, 6, 2};
  return norms;
}

const std::vector<std::string>& CostFeatureNames() {
  static const std::vector<std::string>* names = [] {
    auto* v = new std::vector<std::string>();
    for (const char* name : HatFeatureNames()) v->emplace_back(name);
    for (const char* name :
         {"encoder_attention_macs", "encoder_ffn_macs", "decoder_attention_macs",
          "decoder_ffn_macs", "ende_key_value_macs", "output_projection_macs",
          "encoder_heads_total", "decoder_self_attention_heads_total",
          "decoder_ende_attention_heads_total", "decoder_attended_layers_total"}) {
      v->emplace_back(name);
    }
    return v;
  }();
  return *names;
}

std::vector<double> CostFeatures(const std::array<double, kNumHatFeatures>& f,
                                 const CostWorkload& w) {
  const double enc_dim = f[0], enc_layers = f[1], enc_ffn = f[2], enc_heads = f[3];
  const double dec_dim = f[4], dec_layers = f[5], dec_ffn = f[6], dec_heads = f[7];
  const double ende_heads = f[8], attended = f[9];  // attended: encoder layers per decoder layer
  const double q = w.qkv_dim, vocab = w.vocab_size;
  const double src = w.shape.source_tokens, steps = w.shape.decoder_steps, beam = w.shape.beam;
  const double cache_sum = steps * (steps + 1) / 2;  // self-attention cache lengths over steps
  const double attended_tokens = src * attended;

  std::vector<double> out(f.begin(), f.end());
  out.reserve(kNumCostFeatures);
  out.push_back(enc_layers * (4 * src * enc_dim * q + 2 * src * src * q));
  out.push_back(enc_layers * 2 * src * enc_dim * enc_ffn);
  out.push_back(dec_layers * beam *
                (steps * 4 * dec_dim * q + 2 * cache_sum * q +
                 steps * (2 * dec_dim * q + 2 * attended_tokens * q)));
  out.push_back(dec_layers * beam * steps * 2 * dec_dim * dec_ffn);
  out.push_back(dec_layers * 2 * attended_tokens * enc_dim * q);
  out.push_back(beam * steps * dec_dim * vocab);
  out.push_back(enc_layers * enc_heads);
  out.push_back(dec_layers * dec_heads);
  out.push_back(dec_layers * ende_heads);
  out.push_back(dec_layers * attended);
  return out;
}

}  // namespace hat
