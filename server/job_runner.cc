// The runner of server-executed jobs; see job_runner.h.
#include "server/job_runner.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <set>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace hat {
namespace {

// Work directories of jobs that ended (or that the server no longer knows) are removed.
void RemoveWorkDir(const std::string& dir) {
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
}

}  // namespace

JobContext::JobContext(Coordinator* coordinator, ClaimedJob claimed, std::string work_dir,
                       int64_t now_ms)
    : coordinator_(coordinator),
      job_(std::move(claimed.job)),
      saved_state_(std::move(claimed.saved_state)),
      work_dir_(std::move(work_dir)),
      started_ms_(now_ms) {}

absl::Status JobContext::ReportProgress(int64_t done, int64_t total, const std::string& phase) {
  return ReportProgress(done, total, phase, search_history_);
}

absl::Status JobContext::ReportProgress(int64_t done, int64_t total, const std::string& phase,
                                        std::vector<v1::SearchIteration> search_history) {
  search_history_ = std::move(search_history);
  if (first_done_ < 0) first_done_ = done;
  v1::JobProgress progress;
  progress.set_done(done);
  progress.set_total(total);
  progress.set_phase(phase);
  const double seconds = std::max(1e-3, (coordinator_->NowMs() - started_ms_) / 1000.0);
  const double rate = (done - first_done_) / seconds;
  progress.set_rate_per_s(rate);
  progress.set_eta_s(rate > 0 ? (total - done) / rate : -1);
  progress.mutable_search_history()->Assign(search_history_.begin(), search_history_.end());
  return coordinator_->ReportServerJobProgress(job_.job_id(), progress);
}

absl::Status JobContext::SaveState(std::string state) {
  return coordinator_->SaveServerJobState(job_.job_id(), std::move(state));
}

bool JobContext::Wanted() const { return coordinator_->ServerJobWanted(job_.job_id()); }

JobRunner::JobRunner(Coordinator* coordinator, JobRunnerOptions options)
    : coordinator_(coordinator), options_(std::move(options)) {}

JobRunner::~JobRunner() { Stop(); }

void JobRunner::Add(std::unique_ptr<ServerJob> job) {
  const v1::JobSpec::KindCase kind = job->kind();
  jobs_[kind] = std::move(job);
}

absl::StatusOr<bool> JobRunner::RunOnce(int64_t deadline_ms) {
  std::set<v1::JobSpec::KindCase> kinds;
  for (const auto& [kind, job] : jobs_) kinds.insert(kind);
  HAT_ASSIGN_OR_RETURN(std::optional<ClaimedJob> claimed,
                       coordinator_->ClaimServerJob(kinds, deadline_ms));
  if (!claimed) return false;
  const std::string id = claimed->job.job_id();
  ServerJob& executor = *jobs_.at(claimed->job.spec().kind_case());
  const std::string work_dir = absl::StrCat(options_.jobs_dir, "/", id);
  absl::StatusOr<ServerJobOutput> output;
  std::error_code made;
  std::filesystem::create_directories(work_dir, made);
  if (made) {
    output = absl::InternalError(
        absl::StrCat("cannot create the job's directory ", work_dir, ": ", made.message()));
  } else {
    JobContext context(coordinator_, *std::move(claimed), work_dir, coordinator_->NowMs());
    output = executor.Run(context);
    if (!output.ok() && !absl::IsCancelled(output.status())) {
      output = Annotate(output.status(), absl::StrCat("job ", id));
    }
  }
  HAT_RETURN_IF_ERROR(coordinator_->FinishServerJob(id, std::move(output)));
  // A job that ended (succeeded, failed, cancelled) needs its directory no more; one stopped for
  // a shutdown keeps it to resume from.
  absl::StatusOr<v1::Job> now = coordinator_->GetJob(id);
  if (now.ok() && IsTerminal(now->state())) RemoveWorkDir(work_dir);
  return true;
}

void JobRunner::Start() {
  // Directories left by jobs that ended while no runner was there to clean up (a crash between
  // the job's end and the removal, or a cancellation while the server was down).
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(options_.jobs_dir, error)) {
    absl::StatusOr<v1::Job> job = coordinator_->GetJob(entry.path().filename().string());
    if (absl::IsNotFound(job.status()) || (job.ok() && IsTerminal(job->state()))) {
      RemoveWorkDir(entry.path().string());
    }
  }
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] {
      while (!stopping_) {
        absl::StatusOr<bool> ran = RunOnce(coordinator_->NowMs() + 1000);
        if (!ran.ok()) {
          std::cerr << "hat-server: job runner: " << ran.status().message() << "\n";
          std::this_thread::sleep_for(std::chrono::seconds(1));
        } else if (!*ran) {
          // Nothing queued (after Shutdown the claim returns at once: do not spin).
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    });
  }
}

void JobRunner::Stop() {
  stopping_ = true;
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

}  // namespace hat
