// Translation with a trained SubTransformer: subword-encode the sources, encode them in batches
// of similar length, beam search with incremental decoding (engine/beam_search.h), decode the
// best hypotheses back to text. Output order is input order.
#ifndef HATFLEET_TRAIN_TRANSLATOR_H_
#define HATFLEET_TRAIN_TRANSLATOR_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace hat {

class SubTransformer;
class SubwordModel;

struct TranslateOptions {
  int beam = 5;
  double length_penalty = 1.0;
  // At most max_len_a · source length + max_len_b target tokens (and never beyond the position
  // table).
  double max_len_a = 1.5;
  int max_len_b = 10;
  int batch_sentences = 64;

  absl::Status Validate() const;
};

// `progress(done, total)` after each batch; may be null. INVALID_ARGUMENT for bad options;
// sources longer than the model's positions are cut to fit (the count is in `truncated`).
absl::StatusOr<std::vector<std::string>> Translate(
    const SubTransformer& model, const SubwordModel& subword,
    const std::vector<std::string>& sources, const TranslateOptions& options,
    const std::function<void(int done, int total)>& progress = nullptr, int* truncated = nullptr);

}  // namespace hat

#endif  // HATFLEET_TRAIN_TRANSLATOR_H_
