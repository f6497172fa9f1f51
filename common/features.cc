// HAT's features (HAT's latency_predictor / get_config_features) and per-layer features.
#include "common/features.h"

#include "absl/strings/str_cat.h"

namespace hat {
namespace {

double MeanActive(const std::vector<int>& values, int active) {
  double sum = 0;
  for (int i = 0; i < active; ++i) sum += values[i];
  return sum / active;
}

}  // namespace

const std::array<const char*, kNumHatFeatures>& HatFeatureNames() {
  static const std::array<const char*, kNumHatFeatures> kNames = {
      "encoder_embed_dim",
      "encoder_layer_num",
      "encoder_ffn_embed_dim_avg",
      "encoder_self_attention_heads_avg",
      "decoder_embed_dim",
      "decoder_layer_num",
      "decoder_ffn_embed_dim_avg",
      "decoder_self_attention_heads_avg",
      "decoder_ende_attention_heads_avg",
      "decoder_arbitrary_ende_attn_avg",
  };
  return kNames;
}

std::array<double, kNumHatFeatures> HatFeatures(const SubTransformerConfig& c) {
  const int e = c.encoder.layer_num;
  const int d = c.decoder.layer_num;
  double attended = 0;
  for (int i = 0; i < d; ++i) attended += EndeAttendedLayers(c.decoder.arbitrary_ende_attn[i]);
  return {
      static_cast<double>(c.encoder.embed_dim),      static_cast<double>(e),
      MeanActive(c.encoder.ffn_embed_dim, e),        MeanActive(c.encoder.self_attention_heads, e),
      static_cast<double>(c.decoder.embed_dim),      static_cast<double>(d),
      MeanActive(c.decoder.ffn_embed_dim, d),        MeanActive(c.decoder.self_attention_heads, d),
      MeanActive(c.decoder.ende_attention_heads, d), attended / d,
  };
}

std::vector<std::string> PerLayerFeatureNames(const DesignSpace& space) {
  std::vector<std::string> names = {"encoder_embed_dim", "encoder_layer_num"};
  for (int i = 0; i < space.super.encoder_layers; ++i) {
    for (const char* field : {"active", "ffn_embed_dim", "self_attention_heads"}) {
      names.push_back(absl::StrCat("encoder.", i, ".", field));
    }
  }
  names.push_back("decoder_embed_dim");
  names.push_back("decoder_layer_num");
  for (int i = 0; i < space.super.decoder_layers; ++i) {
    for (const char* field : {"active", "ffn_embed_dim", "self_attention_heads",
                              "ende_attention_heads", "ende_layers"}) {
      names.push_back(absl::StrCat("decoder.", i, ".", field));
    }
  }
  return names;
}

std::vector<double> PerLayerFeatures(const SubTransformerConfig& c, const DesignSpace& space) {
  std::vector<double> f = {static_cast<double>(c.encoder.embed_dim),
                           static_cast<double>(c.encoder.layer_num)};
  for (int i = 0; i < space.super.encoder_layers; ++i) {
    if (i < c.encoder.layer_num) {
      f.insert(f.end(), {1.0, static_cast<double>(c.encoder.ffn_embed_dim[i]),
                         static_cast<double>(c.encoder.self_attention_heads[i])});
    } else {
      f.insert(f.end(), {0.0, 0.0, 0.0});
    }
  }
  f.push_back(c.decoder.embed_dim);
  f.push_back(c.decoder.layer_num);
  for (int i = 0; i < space.super.decoder_layers; ++i) {
    if (i < c.decoder.layer_num) {
      f.insert(f.end(),
               {1.0, static_cast<double>(c.decoder.ffn_embed_dim[i]),
                static_cast<double>(c.decoder.self_attention_heads[i]),
                static_cast<double>(c.decoder.ende_attention_heads[i]),
                static_cast<double>(EndeAttendedLayers(c.decoder.arbitrary_ende_attn[i]))});
    } else {
      f.insert(f.end(), {0.0, 0.0, 0.0, 0.0, 0.0});
    }
  }
  return f;
}

}  // namespace hat
