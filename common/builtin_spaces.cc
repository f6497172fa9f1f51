// The built-in spaces. Values come from HAT's configs (MIT license, commit 70e5a279, see
// data/hat-configs/README.md) except where a comment says otherwise.
#include "common/builtin_spaces.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hat {
namespace {

struct SpaceRecipe {
  const char* name;
  SuperTransformerDims super;
  std::vector<int> embed, ffn, heads, encoder_layers, decoder_layers;
};

DesignSpace Build(const SpaceRecipe& r) {
  DesignSpace s;
  s.name = r.name;
  s.super = r.super;
  s.MutableChoices(Gene::kEncoderEmbedDim) = r.embed;
  s.MutableChoices(Gene::kDecoderEmbedDim) = r.embed;
  s.MutableChoices(Gene::kEncoderFfnEmbedDim) = r.ffn;
  s.MutableChoices(Gene::kDecoderFfnEmbedDim) = r.ffn;
  s.MutableChoices(Gene::kEncoderLayerNum) = r.encoder_layers;
  s.MutableChoices(Gene::kDecoderLayerNum) = r.decoder_layers;
  s.MutableChoices(Gene::kEncoderSelfAttentionHeads) = r.heads;
  s.MutableChoices(Gene::kDecoderSelfAttentionHeads) = r.heads;
  s.MutableChoices(Gene::kDecoderEndeAttentionHeads) = r.heads;
  s.MutableChoices(Gene::kDecoderArbitraryEndeAttn) = {-1, 1, 2};
  return s;
}

// Fields: embed, dec embed, enc ffn, dec ffn, enc layers, dec layers, enc heads, dec heads, qkv,
// vocab, max positions.
//
// Vocabulary: HAT's configs do not state it. 32,768 is the joint BPE dictionary of HAT's
// WMT'14 en-de data (the size its latency numbers were measured with); the other WMT spaces use
// the same nominal size. IWSLT'14 de-en: 6,632, fairseq's English (target) dictionary, which
// sets the cost of the output projection. A space file may set `vocab-size` for exact values.
constexpr SuperTransformerDims kWmtSuper{640, 640, 3072, 3072, 6, 6, 8, 8, 512, 32768, 1024};
// HAT's space1.yml sets qkv-dim 512 (the paper's text mentions a smaller IWSLT model); we follow
// the config file HAT ships.
constexpr SuperTransformerDims kIwsltSuper{640, 640, 2048, 2048, 6, 6, 4, 4, 512, 6632, 1024};
// HAT samples IWSLT latency data from a WMT-sized SuperTransformer (latency_dataset/*.yml).
constexpr SuperTransformerDims kIwsltLatencySuper{640, 640, 3072, 3072, 6,   6,
                                                  8,   8,   512,  6632, 1024};
// tiny: Transformer-tiny on Multi30k (4+4 layers, d 128, FFN 256, 4 heads, joint BPE 10k) sits
// inside it, so the SuperTransformer trains to useful quality in under an hour on 2 cores.
constexpr SuperTransformerDims kTinySuper{128, 128, 512, 512, 4, 4, 4, 4, 128, 10000, 256};

const std::vector<int> kDecoderDepths6 = {6, 5, 4, 3, 2, 1};

std::vector<SpaceRecipe> Recipes() {
  return {
      {"hat-wmt14-en-de", kWmtSuper, {640, 512}, {3072, 2048, 1024}, {8, 4}, {6}, kDecoderDepths6},
      {"hat-wmt14-en-fr", kWmtSuper, {640, 512}, {3072, 2048, 1024}, {8, 4}, {6}, kDecoderDepths6},
      {"hat-wmt19-en-de", kWmtSuper, {640, 512}, {3072, 2048, 1024}, {8, 4}, {6}, kDecoderDepths6},
      {"hat-iwslt14-de-en",
       kIwsltSuper,
       {640, 512},
       {2048, 1024, 512},
       {4, 2},
       {6},
       kDecoderDepths6},
      {"tiny", kTinySuper, {128, 96, 64}, {512, 256, 128}, {4, 2}, {4, 3}, {4, 3, 2, 1}},
      {"hat-wmt14-en-de-latency",
       kWmtSuper,
       {640, 512},
       {3072, 2048, 1024, 512},
       {8, 4, 2},
       {6},
       kDecoderDepths6},
      {"hat-wmt14-en-fr-latency",
       kWmtSuper,
       {640, 512},
       {3072, 2048, 1024, 512},
       {8, 4, 2},
       {6},
       kDecoderDepths6},
      {"hat-wmt19-en-de-latency",
       kWmtSuper,
       {640, 512},
       {3072, 2048, 1024, 512},
       {8, 4, 2},
       {6},
       kDecoderDepths6},
      {"hat-iwslt14-de-en-latency",
       kIwsltLatencySuper,
       {640, 512},
       {3072, 2048, 1024, 512},
       {8, 4, 2},
       {6},
       kDecoderDepths6},
      {"tiny-latency",
       kTinySuper,
       {128, 96, 64},
       {512, 256, 128, 64},
       {4, 2, 1},
       {4, 3},
       {4, 3, 2, 1}},
  };
}

}  // namespace

std::vector<std::string> BuiltinSpaceNames() {
  std::vector<std::string> names;
  for (const SpaceRecipe& r : Recipes()) names.push_back(r.name);
  return names;
}

absl::StatusOr<DesignSpace> BuiltinSpace(absl::string_view name) {
  for (const SpaceRecipe& r : Recipes()) {
    if (name == r.name) return Build(r);
  }
  return absl::NotFoundError(absl::StrCat("no built-in design space '", name, "' (known: ",
                                          absl::StrJoin(BuiltinSpaceNames(), ", "), ")"));
}

}  // namespace hat
