// Validation loss of a SubTransformer with weights inherited from a SuperTransformer: HAT's
// fitness. The validation subset is fixed (the first N pairs of the split, batched once), the
// evaluation runs without dropout or gradients, so the same config always gets the same loss.
#ifndef HATFLEET_TRAIN_VALIDATION_H_
#define HATFLEET_TRAIN_VALIDATION_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/subtransformer_config.h"
#include "nmt/prepared_corpus.h"
#include "train/collate.h"

namespace hat {

class SuperTransformer;

struct ValidationSet {
  std::vector<TrainingBatch> batches;
  int64_t sentences = 0;
  int64_t target_tokens = 0;
};

// The first `max_sentences` pairs of `split` (0: all), batched by `max_tokens`; pairs longer than
// `max_length` tokens (0: no limit) are left out. INVALID_ARGUMENT when nothing is left.
absl::StatusOr<ValidationSet> MakeValidationSet(const EncodedSplit& split, int max_sentences,
                                                int max_tokens, int max_length);

struct ValidationResult {
  double loss = 0;  // label-smoothed, nats per target token
  double nll = 0;   // nats per target token
  int64_t target_tokens = 0;
  int64_t sentences = 0;
  double seconds = 0;
};

// INVALID_ARGUMENT when `config` is outside the SuperTransformer's space.
absl::StatusOr<ValidationResult> ValidationLoss(const SuperTransformer& model,
                                                const SubTransformerConfig& config,
                                                const ValidationSet& set, double label_smoothing);

}  // namespace hat

#endif  // HATFLEET_TRAIN_VALIDATION_H_
