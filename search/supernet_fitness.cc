// HAT's fitness with LibTorch; see supernet_fitness.h.
#include "search/supernet_fitness.h"

#include <algorithm>
#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "engine/runtime.h"
#include "engine/sub_transformer.h"
#include "nmt/corpus_layout.h"
#include "nmt/prepared_corpus.h"
#include "train/trained_model.h"
#include "train/validation.h"

namespace hat {

struct SupernetFitness::Model {
  TrainedModel trained;
  ValidationSet valid;
  double label_smoothing = 0.1;
};

SupernetFitness::SupernetFitness(std::unique_ptr<Model> model, std::string identity, int threads)
    : model_(std::move(model)), identity_(std::move(identity)), threads_(threads) {}

SupernetFitness::~SupernetFitness() = default;

absl::StatusOr<std::unique_ptr<SupernetFitness>> SupernetFitness::Load(
    const std::string& checkpoint, const SupernetFitnessOptions& options) {
  if (options.valid_sentences < 0 || options.max_tokens < 1 || options.threads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fitness: valid_sentences=", options.valid_sentences, ", max_tokens=", options.max_tokens,
        ", threads=", options.threads, ": need >= 0, >= 1, >= 1"));
  }
  auto model = std::make_unique<Model>();
  HAT_ASSIGN_OR_RETURN(model->trained, LoadTrainedModel(checkpoint));
  if (model->trained.info.kind != "supernet") {
    return absl::InvalidArgumentError(
        absl::StrCat(model->trained.checkpoint, " is a ", model->trained.info.kind,
                     " checkpoint: a search needs a SuperTransformer (hatctl supernet train)"));
  }
  const std::string dir =
      options.corpus_dir.empty() ? model->trained.info.corpus_dir : options.corpus_dir;
  HAT_ASSIGN_OR_RETURN(CorpusLayout layout, ReadCorpusLayout(dir, model->trained.info.source_lang,
                                                             model->trained.info.target_lang));
  HAT_ASSIGN_OR_RETURN(EncodedSplit valid, EncodeSplit(layout, "valid", *model->trained.subword));
  HAT_ASSIGN_OR_RETURN(model->valid,
                       MakeValidationSet(valid, options.valid_sentences, options.max_tokens,
                                         model->trained.info.space.super.max_positions));
  model->label_smoothing = options.label_smoothing;
  HAT_ASSIGN_OR_RETURN(FileDigest digest, DigestFile(model->trained.checkpoint));
  // "one-thread" names how losses are computed (one core per config, chunked log-sum-exp): a
  // cache made another way differs in the last bits and is not mixed with this one.
  std::string identity = absl::StrCat("supernet ", digest.sha256, " valid ", model->valid.sentences,
                                      " max_tokens ", options.max_tokens, " label_smoothing ",
                                      options.label_smoothing, " evaluation one-thread");
  return std::unique_ptr<SupernetFitness>(
      new SupernetFitness(std::move(model), std::move(identity), options.threads));
}

const DesignSpace& SupernetFitness::space() const { return model_->trained.info.space; }

int64_t SupernetFitness::valid_sentences() const { return model_->valid.sentences; }

absl::Status SupernetFitness::SaveSubTransformer(const SubTransformerConfig& config,
                                                 const std::string& path) const {
  HAT_ASSIGN_OR_RETURN(SubTransformer sub, SubTransformer::Extract(*model_->trained.super, config));
  return sub.Save(path);
}

absl::StatusOr<std::vector<double>> SupernetFitness::Evaluate(
    const std::vector<SubTransformerConfig>& configs) {
  std::vector<absl::StatusOr<ValidationResult>> results(configs.size(),
                                                        absl::UnknownError("not evaluated"));
  std::atomic<size_t> next{0};
  auto work = [&] {
    // Each evaluation thread computes on its own core; a failure here is reported for every
    // config this thread would have taken.
    const absl::Status threads = ConfigureThreads(1);
    for (size_t i = next++; i < configs.size(); i = next++) {
      results[i] = threads.ok() ? ValidationLoss(*model_->trained.super, configs[i], model_->valid,
                                                 model_->label_smoothing)
                                : threads;
    }
  };
  std::vector<std::thread> workers;
  const size_t count = std::min<size_t>(threads_, configs.size());
  for (size_t t = 0; t < count; ++t) workers.emplace_back(work);
  for (std::thread& worker : workers) worker.join();

  std::vector<double> losses;
  losses.reserve(configs.size());
  for (const absl::StatusOr<ValidationResult>& r : results) {
    if (!r.ok()) return r.status();
    losses.push_back(r->loss);
  }
  return losses;
}

}  // namespace hat
