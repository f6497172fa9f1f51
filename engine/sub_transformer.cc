// Standalone SubTransformers: extraction, parameter count, save and load.
#include "engine/sub_transformer.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cmath>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/config_io.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "engine/super_transformer.h"
#include "engine/torch_status.h"
#include "engine/transformer_forward.h"

namespace hat {
namespace {

using TensorVisitor = std::function<void(const std::string& name, at::Tensor& tensor)>;

// Every per-layer tensor with its archive name, in a fixed order.
void ForEachLayerTensor(SubTransformerWeights& w, const TensorVisitor& visit) {
  auto linear = [&](const std::string& name, LinearWeights& l) {
    visit(name + ".weight", l.weight);
    visit(name + ".bias", l.bias);
  };
  auto norm = [&](const std::string& name, LayerNormWeights& n) {
    visit(name + ".weight", n.weight);
    visit(name + ".bias", n.bias);
  };
  for (size_t i = 0; i < w.encoder_layers.size(); ++i) {
    EncoderLayerWeights& l = w.encoder_layers[i];
    const std::string p = absl::StrCat("encoder.", i, ".");
    linear(p + "self_attn.qkv", l.self_attn.qkv);
    linear(p + "self_attn.out", l.self_attn.out);
    norm(p + "self_attn_norm", l.self_attn_norm);
    linear(p + "fc1", l.ffn.fc1);
    linear(p + "fc2", l.ffn.fc2);
    norm(p + "final_norm", l.final_norm);
  }
  for (size_t i = 0; i < w.decoder_layers.size(); ++i) {
    DecoderLayerWeights& l = w.decoder_layers[i];
    const std::string p = absl::StrCat("decoder.", i, ".");
    linear(p + "self_attn.qkv", l.self_attn.qkv);
    linear(p + "self_attn.out", l.self_attn.out);
    norm(p + "self_attn_norm", l.self_attn_norm);
    linear(p + "ende_attn.q", l.ende_attn.q);
    linear(p + "ende_attn.kv", l.ende_attn.kv);
    linear(p + "ende_attn.out", l.ende_attn.out);
    norm(p + "ende_attn_norm", l.ende_attn_norm);
    linear(p + "fc1", l.ffn.fc1);
    linear(p + "fc2", l.ffn.fc2);
    norm(p + "final_norm", l.final_norm);
  }
}

// Weights of the right shapes (uninitialised) for a config, with heads and attended layers set.
SubTransformerWeights Skeleton(const SubTransformerConfig& c, int64_t q) {
  SubTransformerWeights w;
  w.qkv_dim = static_cast<int>(q);
  auto linear = [](int64_t out, int64_t in) {
    return LinearWeights{at::empty({out, in}), at::empty({out})};
  };
  auto norm = [](int64_t d) { return LayerNormWeights{at::empty({d}), at::empty({d})}; };
  const int64_t de = c.encoder.embed_dim, dd = c.decoder.embed_dim;
  for (int i = 0; i < c.encoder.layer_num; ++i) {
    const int64_t f = c.encoder.ffn_embed_dim[i];
    w.encoder_layers.push_back(
        {{linear(3 * q, de), linear(de, q), c.encoder.self_attention_heads[i]},
         norm(de),
         {linear(f, de), linear(de, f)},
         norm(de)});
  }
  for (int i = 0; i < c.decoder.layer_num; ++i) {
    const int64_t f = c.decoder.ffn_embed_dim[i];
    DecoderLayerWeights l;
    l.self_attn = {linear(3 * q, dd), linear(dd, q), c.decoder.self_attention_heads[i]};
    l.self_attn_norm = norm(dd);
    l.ende_attn = {linear(q, dd), linear(2 * q, de), linear(dd, q),
                   c.decoder.ende_attention_heads[i],
                   EndeAttendedLayers(c.decoder.arbitrary_ende_attn[i])};
    l.ende_attn_norm = norm(dd);
    l.ffn = {linear(f, dd), linear(dd, f)};
    l.final_norm = norm(dd);
    w.decoder_layers.push_back(std::move(l));
  }
  return w;
}

}  // namespace

void SubTransformer::FinishEmbeddings() {
  const int64_t de = config_.encoder.embed_dim, dd = config_.decoder.embed_dim;
  weights_.padding_idx = kPaddingIdx;
  weights_.encoder_embed = embed_.narrow(1, 0, de);
  // The output projection streams this matrix every decoding step: keep it contiguous.
  weights_.decoder_embed = embed_.size(1) == dd ? embed_ : embed_.narrow(1, 0, dd).contiguous();
  const int64_t positions = max_positions_ + kPaddingIdx + 1;
  weights_.encoder_positions = SinusoidalPositions(positions, encoder_position_dim_, kPaddingIdx)
                                   .narrow(1, 0, de)
                                   .contiguous();
  weights_.decoder_positions = SinusoidalPositions(positions, decoder_position_dim_, kPaddingIdx)
                                   .narrow(1, 0, dd)
                                   .contiguous();
  kernels_ = std::make_shared<const DecodingKernels>(PackForDecoding(weights_));
}

absl::StatusOr<SubTransformer> SubTransformer::Extract(const SuperTransformer& super,
                                                       const SubTransformerConfig& config) {
  HAT_ASSIGN_OR_RETURN(SubTransformerWeights sliced, super.Slice(config));
  return CallTorch("extracting SubTransformer", [&]() -> absl::StatusOr<SubTransformer> {
    at::NoGradGuard no_grad;
    SubTransformer sub;
    sub.config_ = ActiveOnly(config);
    const SuperTransformerDims& s = super.space().super;
    sub.encoder_position_dim_ = s.encoder_embed_dim;
    sub.decoder_position_dim_ = s.decoder_embed_dim;
    sub.max_positions_ = s.max_positions;
    const int64_t width = std::max(config.encoder.embed_dim, config.decoder.embed_dim);
    // Both embeddings are leading slices of one matrix: the wider one holds the other.
    const at::Tensor& wide = config.encoder.embed_dim >= config.decoder.embed_dim
                                 ? sliced.encoder_embed
                                 : sliced.decoder_embed;
    sub.embed_ = wide.narrow(1, 0, width).detach().clone().contiguous();
    sub.weights_ = sliced;
    ForEachLayerTensor(sub.weights_, [](const std::string&, at::Tensor& t) {
      t = t.detach().clone().contiguous();
    });
    sub.FinishEmbeddings();
    return sub;
  });
}

absl::StatusOr<SubTransformer> SubTransformer::Random(const DesignSpace& space,
                                                      const SubTransformerConfig& config,
                                                      uint64_t seed) {
  return CallTorch("building a random SubTransformer", [&]() -> absl::StatusOr<SubTransformer> {
    at::NoGradGuard no_grad;
    at::Generator gen = at::detail::createCPUGenerator(seed);
    SubTransformer sub;
    sub.config_ = ActiveOnly(config);
    const SuperTransformerDims& s = space.super;
    sub.encoder_position_dim_ = s.encoder_embed_dim;
    sub.decoder_position_dim_ = s.decoder_embed_dim;
    sub.max_positions_ = s.max_positions;
    sub.weights_ = Skeleton(sub.config_, s.qkv_dim);
    // The scales SuperTransformer::Build draws with: values distributed as a slice of its.
    const InitScales scale = InitScalesFor(s);
    const int64_t width = std::max(config.encoder.embed_dim, config.decoder.embed_dim);
    sub.embed_ = at::empty({s.vocab_size, width}).normal_(0, scale.embed_std, gen);
    sub.embed_[kPaddingIdx].zero_();
    auto init = [&](LinearWeights& l, double bound) {
      l.weight.uniform_(-bound, bound, gen);
      l.bias.zero_();
    };
    auto init_norm = [](LayerNormWeights& n) {
      n.weight.fill_(1);
      n.bias.zero_();
    };
    for (EncoderLayerWeights& l : sub.weights_.encoder_layers) {
      init(l.self_attn.qkv, scale.encoder_qkv);
      init(l.self_attn.out, scale.encoder_out);
      init(l.ffn.fc1, scale.encoder_fc1);
      init(l.ffn.fc2, scale.encoder_fc2);
      init_norm(l.self_attn_norm);
      init_norm(l.final_norm);
    }
    for (DecoderLayerWeights& l : sub.weights_.decoder_layers) {
      init(l.self_attn.qkv, scale.decoder_qkv);
      init(l.self_attn.out, scale.decoder_out);
      init(l.ende_attn.q, scale.ende_q);
      init(l.ende_attn.kv, scale.ende_kv);
      init(l.ende_attn.out, scale.ende_out);
      init(l.ffn.fc1, scale.decoder_fc1);
      init(l.ffn.fc2, scale.decoder_fc2);
      for (LayerNormWeights* n : {&l.self_attn_norm, &l.ende_attn_norm, &l.final_norm}) {
        init_norm(*n);
      }
    }
    sub.FinishEmbeddings();
    return sub;
  });
}

absl::Status SubTransformer::MoveTo(const std::string& device) {
  return CallTorch("moving SubTransformer to " + device, [&]() -> absl::Status {
    const at::Device target(device);
    auto move = [&](at::Tensor& t) { t = t.to(target); };
    move(embed_);
    move(weights_.encoder_embed);
    move(weights_.decoder_embed);
    move(weights_.encoder_positions);
    move(weights_.decoder_positions);
    ForEachLayerTensor(weights_, [&](const std::string&, at::Tensor& t) { move(t); });
    // The packed kernels are CPU code: keep them only while the model is on the CPU.
    if (!target.is_cpu()) kernels_.reset();
    return absl::OkStatus();
  });
}

int64_t SubTransformer::ParameterCount() const {
  int64_t count = embed_.numel();
  SubTransformerWeights w = weights_;  // shallow: tensors are shared handles
  ForEachLayerTensor(w, [&](const std::string&, at::Tensor& t) { count += t.numel(); });
  return count;
}

int64_t SubTransformer::ResidentBytes() const {
  std::set<const void*> seen;
  int64_t bytes = 0;
  auto add = [&](const at::Tensor& t) {
    if (t.defined() && seen.insert(t.storage().data()).second) bytes += t.storage().nbytes();
  };
  add(embed_);
  add(weights_.encoder_embed);
  add(weights_.decoder_embed);
  add(weights_.encoder_positions);
  add(weights_.decoder_positions);
  SubTransformerWeights w = weights_;  // shallow: tensors are shared handles
  ForEachLayerTensor(w, [&](const std::string&, at::Tensor& t) { add(t); });
  if (kernels_ != nullptr) {
    bytes += kernels_->output_projection.bytes();
    for (const PackedDecoderLayer& l : kernels_->layers) {
      for (const PackedLinear* p :
           {&l.self_qkv, &l.self_out, &l.ende_q, &l.ende_out, &l.fc1, &l.fc2}) {
        bytes += p->bytes();
      }
    }
  }
  return bytes;
}

absl::Status SubTransformer::Save(const std::string& path) const {
  nlohmann::json meta = {{"format", kSubTransformerFormat},
                         {"config", ConfigToJsonValue(config_)},
                         {"qkv_dim", weights_.qkv_dim},
                         {"vocab_size", embed_.size(0)},
                         {"encoder_position_dim", encoder_position_dim_},
                         {"decoder_position_dim", decoder_position_dim_},
                         {"max_positions", max_positions_}};
  HAT_ASSIGN_OR_RETURN(std::string bytes, CallTorch(path, [&]() -> absl::StatusOr<std::string> {
                         torch::serialize::OutputArchive archive;
                         archive.write("meta", c10::IValue(meta.dump()));
                         archive.write("embed", embed_);
                         SubTransformerWeights w = weights_;
                         ForEachLayerTensor(w, [&](const std::string& name, at::Tensor& t) {
                           archive.write(name, t);
                         });
                         std::ostringstream out;
                         archive.save_to(out);
                         return out.str();
                       }));
  return WriteFileAtomically(path, bytes);
}

absl::StatusOr<SubTransformer> SubTransformer::Load(const std::string& path) {
  HAT_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(path, size_t{8} << 30));
  torch::serialize::InputArchive archive;
  std::string meta_text;
  absl::Status opened = CallTorch(path, [&]() -> absl::Status {
    std::istringstream in(bytes);
    archive.load_from(in);
    c10::IValue meta;
    archive.read("meta", meta);
    meta_text = meta.toStringRef();
    return absl::OkStatus();
  });
  if (!opened.ok()) {
    return absl::DataLossError(
        absl::StrCat(path, ": not a readable SubTransformer file (", opened.message(), ")"));
  }
  const nlohmann::json meta = nlohmann::json::parse(meta_text, nullptr, false);
  if (!meta.is_object() || !meta.contains("format") || !meta["format"].is_string()) {
    return absl::DataLossError(absl::StrCat(path, ": metadata is not a hatfleet JSON object"));
  }
  if (meta["format"] != kSubTransformerFormat) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": format '", meta["format"].get<std::string>(),
                     "' is not readable by this build (it reads ", kSubTransformerFormat, ")"));
  }
  SubTransformer sub;
  int64_t vocab = 0;
  try {
    HAT_ASSIGN_OR_RETURN(ParsedConfig parsed, ParseSubTransformerConfig(meta.at("config").dump()));
    sub.config_ = parsed.config;
    sub.weights_.qkv_dim = meta.at("qkv_dim").get<int>();
    vocab = meta.at("vocab_size").get<int64_t>();
    sub.encoder_position_dim_ = meta.at("encoder_position_dim").get<int>();
    sub.decoder_position_dim_ = meta.at("decoder_position_dim").get<int>();
    sub.max_positions_ = meta.at("max_positions").get<int>();
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(path, ": metadata: ", e.what()));
  }
  HAT_RETURN_IF_ERROR(Annotate(ValidateConfigShape(sub.config_), path));
  // Bounds before any allocation: a corrupt file must not ask for terabytes.
  const int64_t q = sub.weights_.qkv_dim;
  for (const GeneInfo& info : AllGenes()) {
    if (info.gene == Gene::kDecoderArbitraryEndeAttn) continue;
    const std::vector<int> values = info.per_layer
                                        ? *sub.config_.List(info.gene)
                                        : std::vector<int>{*sub.config_.Scalar(info.gene)};
    for (int v : values) {
      if (v < 1 || v > (1 << 16)) {
        return absl::DataLossError(
            absl::StrCat(path, ": config ", info.name, "=", v, " is outside [1, 65536]"));
      }
    }
  }
  for (int a : sub.config_.decoder.arbitrary_ende_attn) {
    if (EndeAttendedLayers(a) < 1 || EndeAttendedLayers(a) > sub.config_.encoder.layer_num) {
      return absl::DataLossError(absl::StrCat(path, ": config decoder_arbitrary_ende_attn=", a,
                                              " reaches beyond the encoder"));
    }
  }
  if (vocab < 1 || vocab > 10'000'000 || q < 1 || q > (1 << 16) || sub.max_positions_ < 1 ||
      sub.max_positions_ > (1 << 20) || sub.encoder_position_dim_ < sub.config_.encoder.embed_dim ||
      sub.decoder_position_dim_ < sub.config_.decoder.embed_dim) {
    return absl::DataLossError(absl::StrCat(path, ": metadata dimensions are out of range"));
  }
  for (const auto& [heads_name, heads] :
       {std::pair{"encoder", &sub.config_.encoder.self_attention_heads},
        std::pair{"decoder", &sub.config_.decoder.self_attention_heads},
        std::pair{"decoder ende", &sub.config_.decoder.ende_attention_heads}}) {
    for (int h : *heads) {
      if (h <= 0 || q <= 0 || q % h != 0) {
        return absl::DataLossError(
            absl::StrCat(path, ": ", heads_name, " heads ", h, " do not divide qkv_dim ", q));
      }
    }
  }
  absl::Status read = CallTorch(path, [&]() -> absl::Status {
    at::NoGradGuard no_grad;
    sub.weights_ = Skeleton(sub.config_, q);
    const int64_t width = std::max(sub.config_.encoder.embed_dim, sub.config_.decoder.embed_dim);
    sub.embed_ = at::empty({vocab, width});
    absl::Status bad;
    auto read_one = [&](const std::string& name, at::Tensor& expected) {
      if (!bad.ok()) return;
      at::Tensor t;
      archive.read(name, t);
      if (t.sizes() != expected.sizes() || t.scalar_type() != expected.scalar_type()) {
        bad = absl::DataLossError(absl::StrCat(path, ": tensor ", name, " has shape ",
                                               c10::str(t.sizes()), ", the config needs ",
                                               c10::str(expected.sizes())));
        return;
      }
      expected = t.contiguous();
    };
    read_one("embed", sub.embed_);
    ForEachLayerTensor(sub.weights_, read_one);
    return bad;
  });
  if (!read.ok()) {
    return read.code() == absl::StatusCode::kDataLoss
               ? read
               : absl::DataLossError(absl::StrCat(path, ": ", read.message()));
  }
  HAT_RETURN_IF_ERROR(CallTorch(path, [&]() -> absl::Status {
    sub.FinishEmbeddings();
    return absl::OkStatus();
  }));
  return sub;
}

}  // namespace hat
