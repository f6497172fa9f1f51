// The coordinator's side of the jobs the server executes itself (server/job_runner.h): claiming,
// progress, saved state, and the one write that ends a job with everything it made. Same pattern
// as coordinator.cc: persist first, then change memory.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/coordinator.h"
#include "server/coordinator_helpers.h"
#include "server/storage/record_codec.h"

namespace hat {

using coordinator_internal::PredictorKey;
using coordinator_internal::Stamp;

bool IsServerJob(const v1::JobSpec& spec) {
  return spec.has_predictor_training() || spec.has_supernet_training() || spec.has_search();
}

absl::StatusOr<std::optional<ClaimedJob>> Coordinator::ClaimServerJob(
    const std::set<v1::JobSpec::KindCase>& kinds, int64_t deadline_ms) {
  absl::MutexLock lock(&mu_);
  while (!shutdown_) {
    // Oldest first: job ids sort by submission.
    for (auto& [id, entry] : jobs_) {
      if (entry.job.state() != v1::JOB_STATE_QUEUED || !IsServerJob(entry.job.spec()) ||
          kinds.count(entry.job.spec().kind_case()) == 0) {
        continue;
      }
      // The saved state is read before anything changes: a failed read claims nothing.
      HAT_ASSIGN_OR_RETURN(std::optional<std::string> saved,
                           store_->Get(Table::kJobCheckpoints, id));
      ClaimedJob claimed;
      if (saved) {
        v1::ServerJobCheckpoint checkpoint;
        HAT_RETURN_IF_ERROR(DecodeRecord(*saved, "job checkpoint " + id, &checkpoint));
        claimed.saved_state = checkpoint.state();
      }
      v1::Job running = entry.job;
      running.set_state(v1::JOB_STATE_RUNNING);
      if (!running.has_started_at()) *running.mutable_started_at() = Stamp(NowMs());
      running.mutable_progress()->set_phase(saved ? "resuming" : "starting");
      WriteBatch batch;
      PutJob(batch, running);
      HAT_RETURN_IF_ERROR(Persist(batch));
      entry.job = running;
      ++entry.version;
      changed_.SignalAll();
      claimed.job = std::move(running);
      return std::optional<ClaimedJob>(std::move(claimed));
    }
    const int64_t wait = std::min<int64_t>(200, deadline_ms - NowMs());
    if (wait <= 0) break;
    changed_.WaitWithTimeout(&mu_, absl::Milliseconds(wait));
  }
  return std::optional<ClaimedJob>();
}

absl::Status Coordinator::ReportServerJobProgress(const std::string& job_id,
                                                  const v1::JobProgress& progress) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat("job '", job_id.substr(0, 80), "' does not exist"));
  }
  if (it->second.job.state() != v1::JOB_STATE_RUNNING) return absl::OkStatus();  // cancelled
  v1::Job job = it->second.job;
  *job.mutable_progress() = progress;
  WriteBatch batch;
  PutJob(batch, job);
  HAT_RETURN_IF_ERROR(Persist(batch, Durability::kBuffered));
  it->second.job = std::move(job);
  ++it->second.version;
  changed_.SignalAll();
  return absl::OkStatus();
}

absl::Status Coordinator::SaveServerJobState(const std::string& job_id, std::string state) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat("job '", job_id.substr(0, 80), "' does not exist"));
  }
  if (it->second.job.state() != v1::JOB_STATE_RUNNING) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, " is not running: its state is not saved"));
  }
  v1::ServerJobCheckpoint checkpoint;
  checkpoint.set_state(std::move(state));
  checkpoint.set_saved_unix_ms(NowMs());
  WriteBatch batch;
  batch.Put(Table::kJobCheckpoints, job_id, EncodeRecord(checkpoint));
  return Persist(batch);
}

bool Coordinator::ServerJobWanted(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  return !shutdown_ && it != jobs_.end() && it->second.job.state() == v1::JOB_STATE_RUNNING;
}

absl::Status Coordinator::FinishServerJob(const std::string& job_id,
                                          absl::StatusOr<ServerJobOutput> output) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat("job '", job_id.substr(0, 80), "' does not exist"));
  }
  if (it->second.job.state() != v1::JOB_STATE_RUNNING) return absl::OkStatus();  // cancelled
  // Stopped for a shutdown: the job stays RUNNING in the store and is queued again on restart.
  if (!output.ok() && absl::IsCancelled(output.status())) return absl::OkStatus();
  v1::Job job = it->second.job;
  const int64_t now = NowMs();
  WriteBatch batch;
  v1::ServerMeta meta = meta_;
  int64_t predictor_version = 0;
  std::string predictor_class;
  // Artifact files are renamed into place before the write; undone if the write fails.
  std::vector<std::pair<std::string, std::string>> installed;  // (from, to)
  v1::JobProgress* progress = job.mutable_progress();
  if (output.ok()) {
    *job.mutable_result() = output->result;
    if (output->predictor) {
      v1::StoredPredictor& trained = *output->predictor;
      predictor_class = job.spec().predictor_training().device_class();
      // find(), not operator[]: a failed write must not leave a version-0 entry behind.
      auto latest = latest_predictor_.find(predictor_class);
      predictor_version = (latest == latest_predictor_.end() ? 0 : latest->second) + 1;
      trained.set_device_class(predictor_class);
      trained.set_version(predictor_version);
      trained.set_job_id(job_id);
      *trained.mutable_created_at() = Stamp(now);
      batch.Put(Table::kPredictors, PredictorKey(predictor_class, predictor_version),
                EncodeRecord(trained));
      v1::JobResult* result = job.mutable_result();
      result->set_predictor_version(predictor_version);
      result->set_measurements(trained.measurements());
      result->set_test_rmse_ms(trained.predictor().accuracy().test_rmse_ms());
      result->set_test_mape_pct(trained.predictor().accuracy().test_mape_pct());
    }
    for (ArtifactFile& file : output->artifacts) {
      v1::Artifact& a = file.header;
      a.set_job_id(job_id);
      absl::StatusOr<std::string> to = InstallArtifact(file.path, a, now, meta, batch);
      if (!to.ok()) {
        for (const auto& [from, back] : installed) std::rename(back.c_str(), from.c_str());
        return Annotate(to.status(), absl::StrCat("job ", job_id));
      }
      installed.emplace_back(file.path, *to);
      if (job.result().artifact_id().empty()) {
        job.mutable_result()->set_artifact_id(a.artifact_id());
      }
      job.mutable_result()->add_artifact_ids(a.artifact_id());
    }
    job.set_state(v1::JOB_STATE_SUCCEEDED);
    progress->set_done(progress->total());
  } else {
    job.set_state(v1::JOB_STATE_FAILED);
    job.set_error(std::string(output.status().message()));
    progress->set_failed(1);
  }
  *job.mutable_finished_at() = Stamp(now);
  progress->set_phase("finished");
  progress->set_eta_s(0);
  PutJob(batch, job);
  batch.Delete(Table::kJobCheckpoints, job_id);
  absl::Status written = PersistWithMeta(batch, meta);
  if (!written.ok()) {
    for (const auto& [from, to] : installed) std::rename(to.c_str(), from.c_str());
    return written;
  }
  if (predictor_version > 0) latest_predictor_[predictor_class] = predictor_version;
  it->second.job = std::move(job);
  ++it->second.version;
  changed_.SignalAll();
  return absl::OkStatus();
}

}  // namespace hat
