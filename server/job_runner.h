// JobRunner: executes the jobs hat-server runs itself (latency-predictor training,
// SuperTransformer training, and next the search), on `threads` worker threads beside the fleet.
//
// Every kind of server job is a ServerJob: it gets a JobContext, does its work outside the
// coordinator's lock, reports progress through the context, saves what it needs to resume (small
// state in the store, large files in its own directory), stops early when the context says so,
// and returns what it made. The runner does the rest, the same for every kind: it claims a queued
// job from the coordinator, runs it, and hands the outcome back (Coordinator::FinishServerJob).
//
// Restarts: a job RUNNING when the server died is queued again on recovery; its next run sees the
// state it saved (JobContext::saved_state) and the files in its work directory, and continues.
// A job that ended is never claimed again.
#ifndef HATFLEET_SERVER_JOB_RUNNER_H_
#define HATFLEET_SERVER_JOB_RUNNER_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "hat/v1/job.pb.h"
#include "server/coordinator.h"

namespace hat {

// What a running server job may see and do. Owned by the runner, valid for one run.
class JobContext {
 public:
  JobContext(Coordinator* coordinator, ClaimedJob claimed, std::string work_dir, int64_t now_ms);

  const v1::Job& job() const { return job_; }
  const std::string& job_id() const { return job_.job_id(); }
  // The state this job saved before the server restarted (empty on a first run).
  const std::string& saved_state() const { return saved_state_; }
  // The job's own directory (created by the runner), kept across restarts and removed when the
  // job ends: large resumable state (training checkpoints) goes here.
  const std::string& work_dir() const { return work_dir_; }

  // `done` of `total` units (updates, iterations), with a phase for people ("training: loss
  // 4.2"); rate and ETA are computed over this run. Visible to WatchJob at once.
  absl::Status ReportProgress(int64_t done, int64_t total, const std::string& phase);
  // The same, with a search's per-iteration history (JobProgress.search_history); later reports
  // without one keep showing it.
  absl::Status ReportProgress(int64_t done, int64_t total, const std::string& phase,
                              std::vector<v1::SearchIteration> search_history);
  // Durably saves the job's small resumable state (replacing the previous one).
  absl::Status SaveState(std::string state);
  // False once the job was cancelled or the server is shutting down: stop, and return CANCELLED.
  bool Wanted() const;
  Coordinator& coordinator() const { return *coordinator_; }

 private:
  Coordinator* coordinator_;
  v1::Job job_;
  std::string saved_state_;
  std::string work_dir_;
  int64_t started_ms_;
  int64_t first_done_ = -1;  // units done when this run first reported (a resumed run's start)
  std::vector<v1::SearchIteration> search_history_;  // the last one reported
};

class ServerJob {
 public:
  virtual ~ServerJob() = default;
  // The JobSpec kind this executes.
  virtual v1::JobSpec::KindCase kind() const = 0;
  // Runs the job. A failure fails the job with the status's message; CANCELLED (asked to stop)
  // leaves it to the coordinator: cancelled stays cancelled, a shutdown resumes on restart.
  virtual absl::StatusOr<ServerJobOutput> Run(JobContext& context) = 0;
};

struct JobRunnerOptions {
  int threads = 1;       // jobs run at once
  std::string jobs_dir;  // work directories: <jobs_dir>/<job id>
};

class JobRunner {
 public:
  JobRunner(Coordinator* coordinator, JobRunnerOptions options);
  ~JobRunner();  // Stop()s

  // Registers the executor of one job kind (before Start).
  void Add(std::unique_ptr<ServerJob> job);

  // Claims and runs one queued job if one is queued before `deadline_ms`; returns whether one
  // ran. A job's failure fails the job, not this call; errors are the coordinator's (storage).
  // Start() calls this in a loop on each thread; tests call it directly.
  absl::StatusOr<bool> RunOnce(int64_t deadline_ms);

  void Start();
  // Waits for the threads; call after Coordinator::Shutdown (which makes running jobs stop).
  void Stop();

 private:
  Coordinator* coordinator_;
  JobRunnerOptions options_;
  std::map<v1::JobSpec::KindCase, std::unique_ptr<ServerJob>> jobs_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
};

}  // namespace hat

#endif  // HATFLEET_SERVER_JOB_RUNNER_H_
