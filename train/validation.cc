// Validation loss with inherited weights; see validation.h.
#include "train/validation.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>

#include "common/status_macros.h"
#include "engine/super_transformer.h"
#include "engine/torch_status.h"
#include "engine/transformer_forward.h"
#include "nmt/batching.h"
#include "train/label_smoothed_loss.h"

namespace hat {

absl::StatusOr<ValidationSet> MakeValidationSet(const EncodedSplit& split, int max_sentences,
                                                int max_tokens, int max_length) {
  EncodedSplit subset;
  const size_t n = max_sentences > 0 ? std::min<size_t>(max_sentences, split.size()) : split.size();
  subset.source.assign(split.source.begin(), split.source.begin() + n);
  subset.target.assign(split.target.begin(), split.target.begin() + n);
  BatchingOptions options;
  options.max_tokens = max_tokens;
  options.max_length = max_length;
  HAT_ASSIGN_OR_RETURN(BatchPlan plan, MakeBatches(subset, options, /*seed=*/0));
  if (plan.batches.empty()) return absl::InvalidArgumentError("the validation subset is empty");
  return CallTorch("collating the validation set", [&]() -> absl::StatusOr<ValidationSet> {
    ValidationSet set;
    for (const std::vector<int>& indices : plan.batches) {
      set.batches.push_back(Collate(subset, indices));
      set.sentences += set.batches.back().sentences;
      set.target_tokens += set.batches.back().target_tokens;
    }
    return set;
  });
}

absl::StatusOr<ValidationResult> ValidationLoss(const SuperTransformer& model,
                                                const SubTransformerConfig& config,
                                                const ValidationSet& set, double label_smoothing) {
  const auto start = std::chrono::steady_clock::now();
  HAT_ASSIGN_OR_RETURN(const SubTransformerWeights w, model.Slice(config));
  return CallTorch("validation loss", [&]() -> absl::StatusOr<ValidationResult> {
    c10::InferenceMode inference;
    double loss = 0, nll = 0;
    for (const TrainingBatch& batch : set.batches) {
      const EncoderOutput encoded = Encode(w, batch.source);
      const at::Tensor hidden = DecodeHidden(w, batch.prev_output, encoded);
      const LossSums sums = LabelSmoothedLossFromHidden(hidden, w.decoder_embed, batch.target,
                                                        label_smoothing, kPaddingIdx);
      loss += sums.loss.item<double>();
      nll += sums.nll.item<double>();
    }
    ValidationResult r;
    r.target_tokens = set.target_tokens;
    r.sentences = set.sentences;
    r.loss = loss / static_cast<double>(set.target_tokens);
    r.nll = nll / static_cast<double>(set.target_tokens);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
  });
}

}  // namespace hat
