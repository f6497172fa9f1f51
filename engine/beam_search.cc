// Beam search; see beam_search.h for the algorithm.
#include "engine/beam_search.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "engine/torch_status.h"

namespace hat {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();
// Log-probability given to a forced final eos the model assigned zero probability.
constexpr double kForcedEosFloor = -1e9;

struct Live {
  std::vector<int64_t> tokens;
  double log_prob = 0;
};

}  // namespace

absl::Status SearchOptions::Validate() const {
  if (beam < 1 || beam > 256) {
    return absl::InvalidArgumentError(absl::StrCat("beam=", beam, ": must be in [1, 256]"));
  }
  if (max_steps < 1 || max_steps > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_steps=", max_steps, ": must be in [1, 4096]"));
  }
  if (vocab_size != 0 && vocab_size <= std::max(eos, pad)) {
    return absl::InvalidArgumentError(
        absl::StrCat("vocab_size=", vocab_size, ": must leave eos and pad in the vocabulary"));
  }
  if (!(length_penalty >= 0 && length_penalty <= 10)) {
    return absl::InvalidArgumentError(
        absl::StrCat("length_penalty=", length_penalty, ": must be in [0, 10]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Hypothesis>> BeamSearch(StepDecoder& decoder, int sentences,
                                                   const SearchOptions& opt) {
  if (absl::Status s = opt.Validate(); !s.ok()) return s;
  if (sentences < 1) {
    return absl::InvalidArgumentError(absl::StrCat("sentences=", sentences, ": must be >= 1"));
  }
  return CallTorch("beam search", [&]() -> absl::StatusOr<std::vector<Hypothesis>> {
    const int k = opt.beam;
    // live[n][j]: hypothesis j of sentence n. Row n*k + j of the decoder holds it. Initially
    // only hypothesis 0 is alive (the others are -inf), so the first step expands one prefix.
    std::vector<std::vector<Live>> live(sentences, std::vector<Live>(k));
    for (auto& beams : live) {
      for (int j = 1; j < k; ++j) beams[j].log_prob = kNegInf;
    }
    std::vector<std::vector<Hypothesis>> finished(sentences);
    std::vector<bool> done(sentences, false);
    at::Tensor tokens = at::full({static_cast<int64_t>(sentences) * k}, opt.eos, at::kLong);

    for (int step = 0; step < opt.max_steps; ++step) {
      // Scored where the decoder runs (a GPU's logits stay there); only the 2·beam candidates
      // per sentence come to the CPU for the bookkeeping below.
      at::Tensor logits = decoder.Step(tokens);
      if (opt.vocab_size > logits.size(1)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "vocab_size=", opt.vocab_size, ": the decoder has only ", logits.size(1), " outputs"));
      }
      if (opt.vocab_size > 0) logits = logits.narrow(1, 0, opt.vocab_size);
      at::Tensor lprobs = at::log_softmax(logits.to(at::kDouble), -1);
      const int64_t vocab = lprobs.size(1);
      lprobs.select(1, opt.pad).fill_(kNegInf);
      const bool last = step == opt.max_steps - 1;
      if (last) {  // only eos may end the final step, even where the model gives it no mass
        at::Tensor eos_col = lprobs.select(1, opt.eos).clamp_min(kForcedEosFloor);
        lprobs.fill_(kNegInf);
        lprobs.select(1, opt.eos).copy_(eos_col);
      }
      at::Tensor prior = at::empty({sentences, k, 1}, at::kDouble);
      auto prior_a = prior.accessor<double, 3>();
      for (int n = 0; n < sentences; ++n) {
        for (int j = 0; j < k; ++j) prior_a[n][j][0] = live[n][j].log_prob;
      }
      at::Tensor total = (lprobs.view({sentences, k, vocab}) + prior.to(lprobs.device()))
                             .view({sentences, k * vocab});
      const int64_t width = std::min<int64_t>(2 * k, k * vocab);
      auto [device_values, device_indices] = total.topk(width, 1);
      const at::Tensor values = device_values.cpu(), indices = device_indices.cpu();
      auto values_a = values.accessor<double, 2>();
      auto indices_a = indices.accessor<int64_t, 2>();

      std::vector<int64_t> order(static_cast<size_t>(sentences) * k);
      std::vector<int64_t> next_tokens(order.size(), opt.eos);
      for (int n = 0; n < sentences; ++n) {
        std::vector<Live> next;
        std::vector<int64_t> origin;
        for (int64_t c = 0; c < width && !done[n] && static_cast<int>(next.size()) < k; ++c) {
          const double value = values_a[n][c];
          if (value == kNegInf) break;
          const int64_t from = indices_a[n][c] / vocab;
          const int64_t token = indices_a[n][c] % vocab;
          std::vector<int64_t> seq = live[n][from].tokens;
          seq.push_back(token);
          if (token == opt.eos) {
            // As fairseq: only an eos among the top `beam` candidates ends a hypothesis. A
            // lower-ranked one would fill the finished list with weak short hypotheses and end
            // the sentence before longer, better ones are found (translations came out short).
            if (c < k && static_cast<int>(finished[n].size()) < k) {
              const double norm = std::pow(static_cast<double>(seq.size()), opt.length_penalty);
              finished[n].push_back({seq, value / norm, value});
            }
            continue;
          }
          next.push_back({std::move(seq), value});
          origin.push_back(from);
        }
        if (static_cast<int>(finished[n].size()) >= k || last) done[n] = true;
        // Done sentences (and short beams) keep dead rows so the batch shape stays fixed.
        while (static_cast<int>(next.size()) < k) {
          next.push_back({{}, kNegInf});
          origin.push_back(0);
        }
        for (int j = 0; j < k; ++j) {
          order[n * k + j] = n * k + origin[j];
          if (!next[j].tokens.empty()) next_tokens[n * k + j] = next[j].tokens.back();
        }
        live[n] = std::move(next);
      }
      if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
      decoder.Reorder(at::tensor(order, at::kLong));
      tokens = at::tensor(next_tokens, at::kLong);
    }

    std::vector<Hypothesis> best(sentences);
    for (int n = 0; n < sentences; ++n) {
      if (finished[n].empty())
        return absl::InternalError(
            absl::StrCat("beam search: sentence ", n, " finished no hypothesis"));
      best[n] = *std::max_element(
          finished[n].begin(), finished[n].end(),
          [](const Hypothesis& a, const Hypothesis& b) { return a.score < b.score; });
    }
    return best;
  });
}

}  // namespace hat
