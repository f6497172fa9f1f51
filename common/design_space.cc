// DesignSpace tables and validation.
#include "common/design_space.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hat {

const std::array<GeneInfo, kNumGenes>& AllGenes() {
  static const std::array<GeneInfo, kNumGenes> kGenes = {{
      {Gene::kEncoderEmbedDim, "encoder_embed_dim", "encoder-embed-choice",
       "encoder-embed-dim-subtransformer", false, false},
      {Gene::kEncoderLayerNum, "encoder_layer_num", "encoder-layer-num-choice",
       "encoder-layer-num-subtransformer", false, false},
      {Gene::kEncoderFfnEmbedDim, "encoder_ffn_embed_dim", "encoder-ffn-embed-dim-choice",
       "encoder-ffn-embed-dim-all-subtransformer", true, false},
      {Gene::kEncoderSelfAttentionHeads, "encoder_self_attention_heads",
       "encoder-self-attention-heads-choice", "encoder-self-attention-heads-all-subtransformer",
       true, false},
      {Gene::kDecoderEmbedDim, "decoder_embed_dim", "decoder-embed-choice",
       "decoder-embed-dim-subtransformer", false, true},
      {Gene::kDecoderLayerNum, "decoder_layer_num", "decoder-layer-num-choice",
       "decoder-layer-num-subtransformer", false, true},
      {Gene::kDecoderFfnEmbedDim, "decoder_ffn_embed_dim", "decoder-ffn-embed-dim-choice",
       "decoder-ffn-embed-dim-all-subtransformer", true, true},
      {Gene::kDecoderSelfAttentionHeads, "decoder_self_attention_heads",
       "decoder-self-attention-heads-choice", "decoder-self-attention-heads-all-subtransformer",
       true, true},
      {Gene::kDecoderEndeAttentionHeads, "decoder_ende_attention_heads",
       "decoder-ende-attention-heads-choice", "decoder-ende-attention-heads-all-subtransformer",
       true, true},
      {Gene::kDecoderArbitraryEndeAttn, "decoder_arbitrary_ende_attn",
       "decoder-arbitrary-ende-attn-choice", "decoder-arbitrary-ende-attn-all-subtransformer", true,
       true},
  }};
  return kGenes;
}

const std::array<SuperDimInfo, 11>& AllSuperDims() {
  using S = SuperTransformerDims;
  static const std::array<SuperDimInfo, 11> kDims = {{
      {"encoder_embed_dim", "encoder-embed-dim", &S::encoder_embed_dim},
      {"decoder_embed_dim", "decoder-embed-dim", &S::decoder_embed_dim},
      {"encoder_ffn_embed_dim", "encoder-ffn-embed-dim", &S::encoder_ffn_embed_dim},
      {"decoder_ffn_embed_dim", "decoder-ffn-embed-dim", &S::decoder_ffn_embed_dim},
      {"encoder_layers", "encoder-layers", &S::encoder_layers},
      {"decoder_layers", "decoder-layers", &S::decoder_layers},
      {"encoder_attention_heads", "encoder-attention-heads", &S::encoder_attention_heads},
      {"decoder_attention_heads", "decoder-attention-heads", &S::decoder_attention_heads},
      {"qkv_dim", "qkv-dim", &S::qkv_dim},
      {"vocab_size", "vocab-size", &S::vocab_size},
      {"max_positions", "max-positions", &S::max_positions},
  }};
  return kDims;
}

bool SuperTransformerDims::operator==(const SuperTransformerDims& other) const {
  for (const SuperDimInfo& dim : AllSuperDims()) {
    if (this->*dim.field != other.*dim.field) return false;
  }
  return true;
}

bool DesignSpace::operator==(const DesignSpace& other) const {
  return name == other.name && super == other.super && choices == other.choices;
}

std::string FormatChoices(const std::vector<int>& values) {
  return absl::StrCat("{", absl::StrJoin(values, ", "), "}");
}

namespace {

// Upper bounds that keep a space (and the tensors later built from it) sane.
constexpr int kMaxDim = 1 << 16;
constexpr int kMaxLayers = 64;
constexpr int kMaxVocab = 10'000'000;

// The SuperTransformer dimension that bounds a gene's values (null when none does directly).
int SuperTransformerDims::*BoundFor(Gene g) {
  using S = SuperTransformerDims;
  switch (g) {
    case Gene::kEncoderEmbedDim:
      return &S::encoder_embed_dim;
    case Gene::kEncoderLayerNum:
      return &S::encoder_layers;
    case Gene::kEncoderFfnEmbedDim:
      return &S::encoder_ffn_embed_dim;
    case Gene::kEncoderSelfAttentionHeads:
      return &S::encoder_attention_heads;
    case Gene::kDecoderEmbedDim:
      return &S::decoder_embed_dim;
    case Gene::kDecoderLayerNum:
      return &S::decoder_layers;
    case Gene::kDecoderFfnEmbedDim:
      return &S::decoder_ffn_embed_dim;
    case Gene::kDecoderSelfAttentionHeads:
    case Gene::kDecoderEndeAttentionHeads:
      return &S::decoder_attention_heads;
    case Gene::kDecoderArbitraryEndeAttn:
      return nullptr;
  }
  return nullptr;
}

const char* SuperKey(int SuperTransformerDims::*field, KeyStyle style) {
  for (const SuperDimInfo& dim : AllSuperDims()) {
    if (dim.field == field) return style == KeyStyle::kHatYaml ? dim.hat_key : dim.name;
  }
  return "?";
}

std::string ChoiceKey(Gene g, KeyStyle style) {
  const GeneInfo& info = GetGeneInfo(g);
  return style == KeyStyle::kHatYaml ? info.space_key : absl::StrCat("choices.", info.name);
}

bool IsHeads(Gene g) {
  return g == Gene::kEncoderSelfAttentionHeads || g == Gene::kDecoderSelfAttentionHeads ||
         g == Gene::kDecoderEndeAttentionHeads;
}

bool IsEmbed(Gene g) { return g == Gene::kEncoderEmbedDim || g == Gene::kDecoderEmbedDim; }

}  // namespace

absl::Status DesignSpace::Validate(KeyStyle style) const {
  if (name.empty()) return absl::InvalidArgumentError("name: must not be empty");
  for (const SuperDimInfo& dim : AllSuperDims()) {
    const int value = super.*dim.field;
    const char* key = style == KeyStyle::kHatYaml ? dim.hat_key : dim.name;
    const int limit = dim.field == &SuperTransformerDims::vocab_size ? kMaxVocab
                      : (dim.field == &SuperTransformerDims::encoder_layers ||
                         dim.field == &SuperTransformerDims::decoder_layers)
                          ? kMaxLayers
                          : kMaxDim;
    if (value <= 0 || value > limit) {
      return absl::InvalidArgumentError(absl::StrCat(style == KeyStyle::kHatYaml ? "" : "super.",
                                                     key, "=", value, ": must be in [1, ", limit,
                                                     "]"));
    }
  }

  for (const GeneInfo& info : AllGenes()) {
    const std::vector<int>& values = Choices(info.gene);
    const std::string key = ChoiceKey(info.gene, style);
    if (values.empty()) return absl::InvalidArgumentError(absl::StrCat(key, ": must not be empty"));
    std::set<int> seen;
    for (size_t i = 0; i < values.size(); ++i) {
      const int v = values[i];
      const std::string at = absl::StrCat(key, "[", i, "]=", v);
      if (!seen.insert(v).second) {
        return absl::InvalidArgumentError(absl::StrCat(at, ": listed twice"));
      }
      if (info.gene == Gene::kDecoderArbitraryEndeAttn) {
        if (v != -1 && v < 1) {
          return absl::InvalidArgumentError(absl::StrCat(
              at, ": must be -1 (last encoder layer) or k >= 1 (last k+1 encoder layers)"));
        }
        continue;
      }
      if (v <= 0) return absl::InvalidArgumentError(absl::StrCat(at, ": must be positive"));
      const int bound = super.*BoundFor(info.gene);
      if (v > bound) {
        return absl::InvalidArgumentError(absl::StrCat(at, ": above the SuperTransformer's ",
                                                       SuperKey(BoundFor(info.gene), style), " ",
                                                       bound));
      }
      if (IsHeads(info.gene) && super.qkv_dim % v != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ": does not divide ", SuperKey(&SuperTransformerDims::qkv_dim, style),
                         " ", super.qkv_dim, " (head dim = qkv dim / heads)"));
      }
      if (IsEmbed(info.gene) && v % 2 != 0) {
        return absl::InvalidArgumentError(
            absl::StrCat(at, ": must be even (sinusoidal positions pair sin and cos)"));
      }
    }
  }

  // Every decoder layer may attend to up to max(k)+1 encoder layers: the shallowest encoder
  // choice must have that many, so that every combination of choices is a valid SubTransformer.
  const std::vector<int>& arbitrary = Choices(Gene::kDecoderArbitraryEndeAttn);
  const int widest =
      EndeAttendedLayers(*std::max_element(arbitrary.begin(), arbitrary.end(), [](int a, int b) {
        return EndeAttendedLayers(a) < EndeAttendedLayers(b);
      }));
  const std::vector<int>& enc_layers = Choices(Gene::kEncoderLayerNum);
  const int shallowest = *std::min_element(enc_layers.begin(), enc_layers.end());
  if (widest > shallowest) {
    return absl::InvalidArgumentError(absl::StrCat(
        ChoiceKey(Gene::kDecoderArbitraryEndeAttn, style), "=", FormatChoices(arbitrary),
        ": attends to up to ", widest, " encoder layers but ",
        ChoiceKey(Gene::kEncoderLayerNum, style), " allows ", shallowest));
  }
  return absl::OkStatus();
}

double DesignSpace::Cardinality() const {
  // Sum over (encoder depth, decoder depth) of the product of per-layer choices over active layers.
  auto count = [](const std::vector<int>& v) { return static_cast<double>(v.size()); };
  double total = 0;
  for (int enc_layers : Choices(Gene::kEncoderLayerNum)) {
    for (int dec_layers : Choices(Gene::kDecoderLayerNum)) {
      double n = count(Choices(Gene::kEncoderEmbedDim)) * count(Choices(Gene::kDecoderEmbedDim));
      for (const GeneInfo& info : AllGenes()) {
        if (!info.per_layer) continue;
        n *= std::pow(count(Choices(info.gene)), info.decoder ? dec_layers : enc_layers);
      }
      total += n;
    }
  }
  return total;
}

}  // namespace hat
