// One data-parallel update's gradient exchange; see data_parallel_update.h.
#include "train/data_parallel_update.h"

#include <torch/torch.h>

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace hat {
namespace {

void AddLinear(const LinearWeights& l, std::vector<at::Tensor>* out) {
  out->push_back(l.weight);
  if (l.bias.defined()) out->push_back(l.bias);
}
void AddNorm(const LayerNormWeights& n, std::vector<at::Tensor>* out) {
  out->push_back(n.weight);
  out->push_back(n.bias);
}
void AddSelfAttention(const SelfAttentionWeights& a, std::vector<at::Tensor>* out) {
  AddLinear(a.qkv, out);
  AddLinear(a.out, out);
}

// Every tensor a SubTransformer computes with.
std::vector<at::Tensor> AllTensors(const SubTransformerWeights& w) {
  std::vector<at::Tensor> out = {w.encoder_embed, w.decoder_embed, w.encoder_positions,
                                 w.decoder_positions};
  for (const EncoderLayerWeights& l : w.encoder_layers) {
    AddSelfAttention(l.self_attn, &out);
    AddNorm(l.self_attn_norm, &out);
    AddLinear(l.ffn.fc1, &out);
    AddLinear(l.ffn.fc2, &out);
    AddNorm(l.final_norm, &out);
  }
  for (const DecoderLayerWeights& l : w.decoder_layers) {
    AddSelfAttention(l.self_attn, &out);
    AddNorm(l.self_attn_norm, &out);
    AddLinear(l.ende_attn.q, &out);
    AddLinear(l.ende_attn.kv, &out);
    AddLinear(l.ende_attn.out, &out);
    AddNorm(l.ende_attn_norm, &out);
    AddLinear(l.ffn.fc1, &out);
    AddLinear(l.ffn.fc2, &out);
    AddNorm(l.final_norm, &out);
  }
  return out;
}

}  // namespace

std::vector<TouchedRegion> TouchedRegions(const std::vector<at::Tensor>& params,
                                          const SubTransformerWeights& weights) {
  std::map<const void*, size_t> by_storage;
  for (size_t i = 0; i < params.size(); ++i) {
    by_storage[params[i].storage().unsafeGetStorageImpl()] = i;
  }
  std::map<size_t, std::vector<int64_t>> extents;
  for (const at::Tensor& view : AllTensors(weights)) {
    if (!view.defined()) continue;
    auto it = by_storage.find(view.storage().unsafeGetStorageImpl());
    if (it == by_storage.end()) continue;  // a buffer (positions), not a parameter
    const at::Tensor& param = params[it->second];
    std::vector<int64_t>& extent = extents[it->second];
    if (extent.empty()) extent.assign(param.dim(), 0);
    const bool leading = view.dim() == param.dim() &&
                         view.storage_offset() == param.storage_offset() &&
                         view.strides() == param.strides();
    for (int64_t d = 0; d < param.dim(); ++d) {
      extent[d] = std::max(extent[d], leading ? view.size(d) : param.size(d));
    }
  }
  std::vector<TouchedRegion> regions;
  for (auto& [param, extent] : extents) regions.push_back({param, std::move(extent)});
  return regions;
}

absl::StatusOr<BatchSums> AllReduceUpdate(DataParallelGroup& group,
                                          const std::vector<at::Tensor>& params,
                                          const std::vector<TouchedRegion>& regions,
                                          const BatchSums& local, int64_t step) {
  // Every gradient must travel: one outside the regions would be applied unsummed and unscaled.
  std::vector<bool> covered(params.size(), false);
  for (const TouchedRegion& r : regions) covered[r.param] = true;
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].grad().defined() && !covered[i]) {
      return absl::InternalError(absl::StrCat("update ", step, ": parameter ", i, " (shape ",
                                              params[i].sizes().vec().size(),
                                              "-d) has a gradient but is no slice the "
                                              "SubTransformer was built from"));
    }
  }
  std::vector<at::Tensor> buffers;
  buffers.reserve(regions.size() + 1);
  for (const TouchedRegion& r : regions) {
    at::Tensor param = params[r.param];
    if (!param.grad().defined()) param.mutable_grad() = torch::zeros_like(param);
    at::Tensor region = param.grad();
    for (size_t d = 0; d < r.extent.size(); ++d) region = region.narrow(d, 0, r.extent[d]);
    buffers.push_back(region);
  }
  // Float32 like the gradients, so that everything travels in one buffer: token counts are exact
  // below 2^24 per batch, the loss sums are for reporting.
  at::Tensor sums = torch::tensor({static_cast<float>(local.loss), static_cast<float>(local.nll),
                                   static_cast<float>(local.target_tokens),
                                   static_cast<float>(local.source_tokens)});
  buffers.push_back(sums);
  HAT_RETURN_IF_ERROR(
      group.AllReduceSum(buffers, absl::StrCat("the gradient all-reduce of update ", step)));
  BatchSums total;
  total.loss = sums[0].item<double>();
  total.nll = sums[1].item<double>();
  total.target_tokens = static_cast<int64_t>(sums[2].item<double>() + 0.5);
  total.source_tokens = static_cast<int64_t>(sums[3].item<double>() + 0.5);
  if (total.target_tokens < 1) {
    return absl::InternalError(absl::StrCat("update ", step, ": the batch has no target tokens"));
  }
  const double scale = 1.0 / static_cast<double>(total.target_tokens);
  for (const TouchedRegion& r : regions) params[r.param].mutable_grad().mul_(scale);
  return total;
}

}  // namespace hat
