// SupernetFitness: HAT's fitness, the validation loss (label-smoothed, nats per target token) of
// a SubTransformer with weights inherited from a trained SuperTransformer, on a fixed subset of
// the validation split (the first `valid_sentences` pairs), without dropout. One SuperTransformer
// is loaded per search and shared by `threads` evaluation threads, each evaluating one config at
// a time on one core: small per-layer matrices use a core better this way than split across
// intra-op threads, and a config's loss does not depend on how many threads there are.
#ifndef HATFLEET_SEARCH_SUPERNET_FITNESS_H_
#define HATFLEET_SEARCH_SUPERNET_FITNESS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "search/search_interfaces.h"

namespace hat {

struct SupernetFitnessOptions {
  int valid_sentences = 500;  // the fixed subset (0: the whole split)
  int max_tokens = 4096;      // per validation batch
  double label_smoothing = 0.1;
  int threads = 2;         // evaluation threads, one config each at a time
  std::string corpus_dir;  // empty: the corpus the checkpoint was trained on
};

class SupernetFitness : public FitnessEvaluator {
 public:
  // Loads the checkpoint and encodes the validation subset with its subword model. Errors name
  // the file (missing, damaged, not a SuperTransformer) or the corpus.
  static absl::StatusOr<std::unique_ptr<SupernetFitness>> Load(
      const std::string& checkpoint, const SupernetFitnessOptions& options);
  ~SupernetFitness() override;

  // The losses of `configs`, in order, evaluated `threads` at a time. The first failing config
  // (in order) decides the error.
  absl::StatusOr<std::vector<double>> Evaluate(
      const std::vector<SubTransformerConfig>& configs) override;
  // The checkpoint file's SHA-256 and the subset's settings.
  std::string Identity() const override { return identity_; }
  const DesignSpace& space() const;
  int64_t valid_sentences() const;
  // The SubTransformer `config` as a standalone file (its weights extracted from the
  // SuperTransformer; engine/sub_transformer.h's format).
  absl::Status SaveSubTransformer(const SubTransformerConfig& config,
                                  const std::string& path) const;

 private:
  struct Model;  // LibTorch's, kept out of this header
  SupernetFitness(std::unique_ptr<Model> model, std::string identity, int threads);
  std::unique_ptr<Model> model_;
  std::string identity_;
  int threads_;
};

}  // namespace hat

#endif  // HATFLEET_SEARCH_SUPERNET_FITNESS_H_
