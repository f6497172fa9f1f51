// Batched beam-search translation; see translator.h.
#include "train/translator.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "engine/beam_search.h"
#include "engine/sub_transformer.h"
#include "engine/super_transformer.h"
#include "engine/torch_status.h"
#include "engine/transformer_forward.h"
#include "nmt/subword_model.h"

namespace hat {

absl::Status TranslateOptions::Validate() const {
  if (beam < 1 || beam > 64)
    return absl::InvalidArgumentError(absl::StrCat("beam=", beam, ": must be in [1, 64]"));
  if (length_penalty < 0 || length_penalty > 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("length_penalty=", length_penalty, ": must be in [0, 10]"));
  }
  if (max_len_a < 0 || max_len_b < 1) {
    return absl::InvalidArgumentError("max_len_a must be >= 0 and max_len_b >= 1");
  }
  if (batch_sentences < 1) return absl::InvalidArgumentError("batch_sentences must be at least 1");
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Translate(const SubTransformer& model,
                                                   const SubwordModel& subword,
                                                   const std::vector<std::string>& sources,
                                                   const TranslateOptions& options,
                                                   const std::function<void(int, int)>& progress,
                                                   int* truncated) {
  HAT_RETURN_IF_ERROR(options.Validate());
  const int64_t max_positions = model.max_positions();
  std::vector<std::vector<int32_t>> encoded;
  encoded.reserve(sources.size());
  int cut = 0;
  for (const std::string& line : sources) {
    HAT_ASSIGN_OR_RETURN(std::vector<int32_t> ids, subword.Encode(line));
    if (static_cast<int64_t>(ids.size()) + 1 > max_positions) {
      ids.resize(max_positions - 1);
      ++cut;
    }
    ids.push_back(kEosIdx);
    encoded.push_back(std::move(ids));
  }
  if (truncated != nullptr) *truncated = cut;
  // Batches of similar length waste little on padding.
  std::vector<int> order(sources.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return encoded[a].size() < encoded[b].size(); });
  std::vector<std::string> out(sources.size());
  SearchOptions search;
  search.beam = options.beam;
  search.length_penalty = options.length_penalty;
  search.eos = kEosIdx;
  search.pad = kPaddingIdx;
  search.vocab_size = subword.vocab_size();
  for (size_t begin = 0; begin < order.size(); begin += options.batch_sentences) {
    const size_t end = std::min(order.size(), begin + options.batch_sentences);
    const int n = static_cast<int>(end - begin);
    size_t longest = 1;
    for (size_t i = begin; i < end; ++i) longest = std::max(longest, encoded[order[i]].size());
    const int max_steps = static_cast<int>(
        std::min<double>(static_cast<double>(max_positions),
                         std::ceil(options.max_len_a * longest) + options.max_len_b));
    search.max_steps = max_steps;
    HAT_ASSIGN_OR_RETURN(
        std::vector<Hypothesis> best,
        CallTorch("translating", [&]() -> absl::StatusOr<std::vector<Hypothesis>> {
          c10::InferenceMode inference;
          at::Tensor src = at::full({n, static_cast<int64_t>(longest)}, kPaddingIdx, at::kLong);
          auto a = src.accessor<int64_t, 2>();
          for (int r = 0; r < n; ++r) {
            const std::vector<int32_t>& ids = encoded[order[begin + r]];
            for (size_t j = 0; j < ids.size(); ++j) a[r][j] = ids[j];
          }
          // The model may live on a GPU (SubTransformer::MoveTo); its embedding says where.
          src = src.to(model.weights().encoder_embed.device());
          const EncoderOutput enc = Encode(model.weights(), src);
          IncrementalDecoder decoder(model.weights(), enc, options.beam, max_steps,
                                     model.decoding_kernels());
          return BeamSearch(decoder, n, search);
        }));
    for (int r = 0; r < n; ++r) {
      HAT_ASSIGN_OR_RETURN(
          out[order[begin + r]],
          subword.Decode(std::vector<int32_t>(best[r].tokens.begin(), best[r].tokens.end())));
    }
    if (progress) progress(static_cast<int>(end), static_cast<int>(order.size()));
  }
  return out;
}

}  // namespace hat
