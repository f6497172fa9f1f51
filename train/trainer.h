// Training a SuperTransformer as HAT does (one SubTransformer sampled uniformly from the design
// space per step, updating the shared weights through it), or one fixed SubTransformer from
// scratch (HAT's final step; with the largest config of a space, the plain Transformer baseline).
//
// Determinism: the batches, their order per epoch, the SubTransformer of each step and the
// dropout masks are functions of (seed, step) alone, so a run resumed from its newest checkpoint
// continues exactly as the uninterrupted run would have. Checkpoints go to out_dir every
// save_every steps and at the end; the newest keep_checkpoints are kept.
#ifndef HATFLEET_TRAIN_TRAINER_H_
#define HATFLEET_TRAIN_TRAINER_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"
#include "nmt/batching.h"
#include "nmt/prepared_corpus.h"
#include "train/distributed_options.h"
#include "train/lr_schedule.h"

namespace hat {

struct TrainOptions {
  DesignSpace space;
  // Set: train this SubTransformer from scratch (on its own SuperTransformer, see
  // SpaceOfConfig). Unset: train the SuperTransformer of `space`.
  std::optional<SubTransformerConfig> config;
  int64_t steps = 1000;  // total updates of the run (a resumed run counts from its checkpoint)
  BatchingOptions batching;
  LrSchedule schedule;
  double adam_beta1 = 0.9, adam_beta2 = 0.98, adam_eps = 1e-8, weight_decay = 0;
  double label_smoothing = 0.1;
  double dropout = 0.3;  // scaled per step by ScaledDropout, against space.super
  double attention_dropout = 0;
  double activation_dropout = 0;
  double clip_norm = 0;  // 0: no clipping
  int threads = 2;
  uint64_t seed = 1;
  std::string out_dir;
  int64_t save_every = 1000;
  int keep_checkpoints = 10;
  int average_last = 0;  // > 1: at the end, average the newest N into checkpoint_avg.pt
  // world_size > 1: data-parallel training (train/data_parallel_update.h): each rank computes
  // the gradient of its shard of every batch (its sentences rank, rank + world_size, ...), the
  // ranks sum them and make the same update. Rank 0 writes the checkpoints, validates and
  // reports; every rank resumes from rank 0's newest checkpoint, whatever the number of ranks
  // that wrote it. Dropout masks differ between ranks (seeded by rank).
  int64_t valid_every = 0;  // 0: validate only at the end
  int valid_sentences = 0;  // the fixed validation subset (0: the whole split)
  DistributedOptions distributed;

  // INVALID_ARGUMENT naming the option.
  absl::Status Validate() const;
  std::string ToJson() const;
};

// The design space of one SubTransformer: its SuperTransformer has the config's own dimensions
// (the widest FFN of each stack), the qkv width, vocabulary and positions of `base`, and each gene
// allows only the values the config uses (so only the config's active layers exist). Training
// with `config` fixed trains that SubTransformer alone.
DesignSpace SpaceOfConfig(const SubTransformerConfig& config, const DesignSpace& base);

// The dropout of one training step, per stack. HAT scales the dropout by the SubTransformer's
// embed dim over the SuperTransformer's, and does so also when it trains one SubTransformer from
// scratch (inside its SuperTransformer, sampling the same config every step): a 64-wide
// SubTransformer of a 128-wide space trains with half the dropout either way. `super` is the
// design space's SuperTransformer, not the SubTransformer's own (SpaceOfConfig).
struct StepDropout {
  double encoder = 0;
  double decoder = 0;
};
StepDropout ScaledDropout(double dropout, const SubTransformerConfig& config,
                          const SuperTransformerDims& super);

struct TrainProgress {
  int64_t step = 0;
  int64_t total_steps = 0;
  double loss = 0;  // label-smoothed, nats per target token, mean since the last report
  double nll = 0;
  double lr = 0;
  double tokens_per_s = 0;  // source + target tokens per second since the run (re)started
  double elapsed_s = 0;
  double eta_s = 0;
  double valid_loss = -1;  // when this report follows a validation; else -1
  int64_t resumed_from = 0;
};

struct TrainResult {
  int64_t final_step = 0;
  int64_t steps_run = 0;  // in this process
  int64_t resumed_from = 0;
  double seconds = 0;  // in this process
  // Summed over every run of the training (checkpoints record it); unset when it resumed a
  // checkpoint written before that record existed.
  std::optional<double> total_seconds;
  double tokens_per_s = 0;
  double final_loss = 0;
  double valid_loss = 0;  // of the trained config (the largest, for a SuperTransformer)
  double valid_nll = 0;
  int skipped_too_long = 0;
  std::string last_checkpoint;
  std::string averaged_checkpoint;  // when average_last > 1
};

// Trains on `corpus`, resuming from out_dir's newest checkpoint when there is one (after checking
// it is a run of the same kind, space, config and dropout scaling: FAILED_PRECONDITION
// otherwise). `report` is called every `report_every` steps. When `stop` becomes true, a
// checkpoint is written and CANCELLED returned.
absl::StatusOr<TrainResult> TrainTransformer(
    const TrainOptions& options, const PreparedCorpus& corpus,
    const std::function<void(const TrainProgress&)>& report = nullptr, int64_t report_every = 100,
    const std::atomic<bool>* stop = nullptr);

}  // namespace hat

#endif  // HATFLEET_TRAIN_TRAINER_H_
