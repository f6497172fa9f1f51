// SubTransformerConfig: gene access, validation and identity.
#include "common/subtransformer_config.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/fingerprint.h"

namespace hat {

int* SubTransformerConfig::MutableScalar(Gene g) {
  return const_cast<int*>(static_cast<const SubTransformerConfig*>(this)->Scalar(g));
}

const int* SubTransformerConfig::Scalar(Gene g) const {
  switch (g) {
    case Gene::kEncoderEmbedDim:
      return &encoder.embed_dim;
    case Gene::kEncoderLayerNum:
      return &encoder.layer_num;
    case Gene::kDecoderEmbedDim:
      return &decoder.embed_dim;
    case Gene::kDecoderLayerNum:
      return &decoder.layer_num;
    default:
      return nullptr;
  }
}

std::vector<int>* SubTransformerConfig::MutableList(Gene g) {
  return const_cast<std::vector<int>*>(static_cast<const SubTransformerConfig*>(this)->List(g));
}

const std::vector<int>* SubTransformerConfig::List(Gene g) const {
  switch (g) {
    case Gene::kEncoderFfnEmbedDim:
      return &encoder.ffn_embed_dim;
    case Gene::kEncoderSelfAttentionHeads:
      return &encoder.self_attention_heads;
    case Gene::kDecoderFfnEmbedDim:
      return &decoder.ffn_embed_dim;
    case Gene::kDecoderSelfAttentionHeads:
      return &decoder.self_attention_heads;
    case Gene::kDecoderEndeAttentionHeads:
      return &decoder.ende_attention_heads;
    case Gene::kDecoderArbitraryEndeAttn:
      return &decoder.arbitrary_ende_attn;
    default:
      return nullptr;
  }
}

bool SubTransformerConfig::operator==(const SubTransformerConfig& other) const {
  for (const GeneInfo& info : AllGenes()) {
    if (info.per_layer ? *List(info.gene) != *other.List(info.gene)
                       : *Scalar(info.gene) != *other.Scalar(info.gene)) {
      return false;
    }
  }
  return true;
}

const char* ConfigKey(Gene g, KeyStyle style) {
  const GeneInfo& info = GetGeneInfo(g);
  return style == KeyStyle::kHatYaml ? info.config_key : info.name;
}

absl::Status ValidateConfigShape(const SubTransformerConfig& config, KeyStyle style) {
  for (const GeneInfo& info : AllGenes()) {
    if (info.gene != Gene::kEncoderLayerNum && info.gene != Gene::kDecoderLayerNum) continue;
    const int layers = *config.Scalar(info.gene);
    if (layers < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(ConfigKey(info.gene, style), "=", layers, ": must be at least 1"));
    }
  }
  for (const GeneInfo& info : AllGenes()) {
    if (!info.per_layer) continue;
    const size_t have = config.List(info.gene)->size();
    const int need = config.LayerNum(info.decoder);
    if (have < static_cast<size_t>(need)) {
      return absl::InvalidArgumentError(absl::StrCat(
          ConfigKey(info.gene, style), ": has ", have, " entries but ",
          ConfigKey(info.decoder ? Gene::kDecoderLayerNum : Gene::kEncoderLayerNum, style), "=",
          need, " layers are active"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateConfig(const SubTransformerConfig& config, const DesignSpace& space,
                            KeyStyle style) {
  // Values first: a layer count outside the space is a clearer message than a length mismatch.
  for (const GeneInfo& info : AllGenes()) {
    const std::vector<int>& allowed = space.Choices(info.gene);
    auto check = [&](int value, const std::string& at) -> absl::Status {
      if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) {
        return absl::OkStatus();
      }
      return absl::InvalidArgumentError(absl::StrCat(
          at, "=", value, ": not in ", FormatChoices(allowed), " of space '", space.name, "'"));
    };
    const char* key = ConfigKey(info.gene, style);
    if (!info.per_layer) {
      absl::Status s = check(*config.Scalar(info.gene), key);
      if (!s.ok()) return s;
      continue;
    }
    const std::vector<int>& values = *config.List(info.gene);
    const int depth = space.Depth(info.decoder);
    if (values.size() > static_cast<size_t>(depth)) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": has ", values.size(),
                                                     " entries but the SuperTransformer has ",
                                                     depth, " layers"));
    }
    for (size_t i = 0; i < values.size(); ++i) {
      absl::Status s = check(values[i], absl::StrCat(key, "[", i, "]"));
      if (!s.ok()) return s;
    }
  }
  return ValidateConfigShape(config, style);
}

namespace {

std::string JoinActive(const std::vector<int>& values, int active) {
  return absl::StrJoin(values.begin(), values.begin() + std::min<size_t>(active, values.size()),
                       ",");
}

}  // namespace

std::string CanonicalKey(const SubTransformerConfig& c) {
  const int e = c.encoder.layer_num;
  const int d = c.decoder.layer_num;
  return absl::StrCat(
      "enc:", c.encoder.embed_dim, ":", e, ":ffn=", JoinActive(c.encoder.ffn_embed_dim, e),
      ":sa=", JoinActive(c.encoder.self_attention_heads, e), "|dec:", c.decoder.embed_dim, ":", d,
      ":ffn=", JoinActive(c.decoder.ffn_embed_dim, d),
      ":sa=", JoinActive(c.decoder.self_attention_heads, d),
      ":ea=", JoinActive(c.decoder.ende_attention_heads, d),
      ":at=", JoinActive(c.decoder.arbitrary_ende_attn, d));
}

uint64_t ConfigId(const SubTransformerConfig& config) {
  return Fingerprint().Add(CanonicalKey(config)).value();
}

SubTransformerConfig ActiveOnly(const SubTransformerConfig& config) {
  SubTransformerConfig out = config;
  for (const GeneInfo& info : AllGenes()) {
    if (!info.per_layer) continue;
    std::vector<int>& list = *out.MutableList(info.gene);
    list.resize(std::min<size_t>(list.size(), config.LayerNum(info.decoder)));
  }
  return out;
}

SubTransformerConfig PadToSuperDepth(const SubTransformerConfig& config, const DesignSpace& space) {
  SubTransformerConfig out = config;
  for (const GeneInfo& info : AllGenes()) {
    if (!info.per_layer) continue;
    std::vector<int>& list = *out.MutableList(info.gene);
    const size_t depth = space.Depth(info.decoder);
    if (!list.empty() && list.size() < depth) list.resize(depth, list.back());
  }
  return out;
}

}  // namespace hat
