// SupernetFitness: HAT's fitness, the validation loss (label-smoothed, nats per target token) of
// a SubTransformer with weights inherited from a trained SuperTransformer, on a fixed subset of
// the validation split (the first `valid_sentences` pairs), without dropout. One SuperTransformer
// is loaded per search and shared by every evaluation; intra-op threads use the cores.
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
  int threads = 2;
  std::string corpus_dir;  // empty: the corpus the checkpoint was trained on
};

class SupernetFitness : public FitnessEvaluator {
 public:
  // Loads the checkpoint and encodes the validation subset with its subword model. Errors name
  // the file (missing, damaged, not a SuperTransformer) or the corpus.
  static absl::StatusOr<std::unique_ptr<SupernetFitness>> Load(
      const std::string& checkpoint, const SupernetFitnessOptions& options);
  ~SupernetFitness() override;

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
  explicit SupernetFitness(std::unique_ptr<Model> model, std::string identity);
  std::unique_ptr<Model> model_;
  std::string identity_;
};

}  // namespace hat

#endif  // HATFLEET_SEARCH_SUPERNET_FITNESS_H_
