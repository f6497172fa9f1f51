// Search jobs, a ServerJob: HAT's hardware-aware evolutionary search (search/evolution.h) on a
// SuperTransformer artifact, with each constrained device class's stored latency predictor and
// the server's fitness cache (no config is evaluated twice for the same SuperTransformer and
// validation subset, across jobs too). A limit sweep runs one search per limit.
//
// Resume: the search's state is saved after every iteration (JobContext::SaveState), so a job
// interrupted by a restart continues from its last completed iteration and ends with the result
// of an uninterrupted run with the same seed.
//
// The winners' standalone SubTransformers (weights extracted from the SuperTransformer) become
// artifacts, in the order of JobResult.pareto (JobResult.artifact_ids).
//
// Winners verified on the devices: with `remeasure_winners`, the winners are measured by the
// agents of every constrained device class (a child latency-dataset job per class, submitted
// once even across restarts); the result then shows measured next to predicted latency and
// marks any winner that breaks a limit when measured.
#ifndef HATFLEET_SERVER_SEARCH_JOB_H_
#define HATFLEET_SERVER_SEARCH_JOB_H_

#include <string>

#include "server/job_runner.h"

namespace hat {

class SearchJob : public ServerJob {
 public:
  explicit SearchJob(std::string corpora_dir) : corpora_dir_(std::move(corpora_dir)) {}
  v1::JobSpec::KindCase kind() const override { return v1::JobSpec::kSearch; }
  absl::StatusOr<ServerJobOutput> Run(JobContext& context) override;

 private:
  std::string corpora_dir_;  // hat-server --corpora-dir, for SearchJobSpec.corpus
};

}  // namespace hat

#endif  // HATFLEET_SERVER_SEARCH_JOB_H_
