// SuperTransformer-training jobs, a ServerJob: HAT's weight-sharing training (train/trainer.h)
// run by the server on a corpus under its --corpora-dir. The trainer checkpoints into the job's
// work directory every `save_every` updates and resumes from the newest checkpoint after a
// restart, bit for bit as an uninterrupted run (the batches, sampled SubTransformers and dropout
// masks are functions of (seed, step)). The trained SuperTransformer becomes an artifact.
#ifndef HATFLEET_SERVER_SUPERNET_JOB_H_
#define HATFLEET_SERVER_SUPERNET_JOB_H_

#include <string>

#include "server/job_runner.h"

namespace hat {

struct SupernetJobOptions {
  std::string corpora_dir;  // hat-server --corpora-dir; empty: every such job fails, saying so
  std::string cache_dir;    // prepared corpora (subword model, encoded splits)
  // The hatctl binary that runs a job's other data-parallel ranks (spec.workers > 1).
  std::string hatctl;
};

class SupernetTrainingJob : public ServerJob {
 public:
  explicit SupernetTrainingJob(SupernetJobOptions options) : options_(std::move(options)) {}
  v1::JobSpec::KindCase kind() const override { return v1::JobSpec::kSupernetTraining; }
  absl::StatusOr<ServerJobOutput> Run(JobContext& context) override;

 private:
  SupernetJobOptions options_;
};

}  // namespace hat

#endif  // HATFLEET_SERVER_SUPERNET_JOB_H_
