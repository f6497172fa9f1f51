// Predictor-training jobs (claimed and finished by the PredictorWorker) and the stored
// per-device latency predictors.
#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/coordinator.h"
#include "server/coordinator_helpers.h"
#include "server/predictor_worker.h"
#include "server/storage/record_codec.h"

namespace hat {

using coordinator_internal::CheckName;
using coordinator_internal::PredictorKey;
using coordinator_internal::Stamp;

// ---------------------------------------------------------------------------------------------
// Predictor-training jobs

absl::StatusOr<std::optional<v1::Job>> Coordinator::ClaimPredictorJob(int64_t deadline_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!shutdown_) {
    for (auto& [id, entry] : jobs_) {
      if (!entry.job.spec().has_predictor_training() || entry.job.state() != v1::JOB_STATE_QUEUED) {
        continue;
      }
      v1::Job running = entry.job;
      running.set_state(v1::JOB_STATE_RUNNING);
      *running.mutable_started_at() = Stamp(NowMs());
      running.mutable_progress()->set_phase("fitting");
      WriteBatch batch;
      PutJob(batch, running);
      HAT_RETURN_IF_ERROR(Persist(batch));
      entry.job = running;
      ++entry.version;
      changed_.notify_all();
      return std::optional<v1::Job>(running);
    }
    const int64_t wait = std::min<int64_t>(200, deadline_ms - NowMs());
    if (wait <= 0) break;
    changed_.wait_for(lock, std::chrono::milliseconds(wait));
  }
  return std::optional<v1::Job>();
}

absl::Status Coordinator::FinishPredictorJob(const std::string& job_id,
                                             absl::StatusOr<v1::StoredPredictor> trained) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat("job '", job_id.substr(0, 80), "' does not exist"));
  }
  if (it->second.job.state() != v1::JOB_STATE_RUNNING) return absl::OkStatus();  // cancelled
  if (!trained.ok() && absl::IsCancelled(trained.status())) return absl::OkStatus();
  const std::string& device_class = it->second.job.spec().predictor_training().device_class();
  v1::Job job = it->second.job;
  const int64_t now = NowMs();
  WriteBatch batch;
  int64_t version = 0;
  v1::JobProgress* progress = job.mutable_progress();
  if (trained.ok()) {
    version = latest_predictor_[device_class] + 1;
    trained->set_device_class(device_class);
    trained->set_version(version);
    trained->set_job_id(job_id);
    *trained->mutable_created_at() = Stamp(now);
    batch.Put(Table::kPredictors, PredictorKey(device_class, version), EncodeRecord(*trained));
    job.set_state(v1::JOB_STATE_SUCCEEDED);
    v1::JobResult* result = job.mutable_result();
    result->set_predictor_version(version);
    result->set_measurements(trained->measurements());
    result->set_test_rmse_ms(trained->predictor().accuracy().test_rmse_ms());
    result->set_test_mape_pct(trained->predictor().accuracy().test_mape_pct());
    progress->set_done(1);
  } else {
    job.set_state(v1::JOB_STATE_FAILED);
    job.set_error(std::string(trained.status().message()));
    progress->set_failed(1);
  }
  *job.mutable_finished_at() = Stamp(now);
  progress->set_phase("finished");
  progress->set_eta_s(0);
  PutJob(batch, job);
  HAT_RETURN_IF_ERROR(Persist(batch));
  if (version > 0) latest_predictor_[device_class] = version;
  it->second.job = std::move(job);
  ++it->second.version;
  changed_.notify_all();
  return absl::OkStatus();
}

bool Coordinator::PredictorJobWanted(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  return !shutdown_ && it != jobs_.end() && it->second.job.state() == v1::JOB_STATE_RUNNING;
}

absl::StatusOr<v1::StoredPredictor> Coordinator::GetPredictor(const std::string& device_class,
                                                              int64_t version) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", device_class, false));
  if (version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("version=", version, ": must be >= 1 (0: the latest)"));
  }
  if (version == 0) {
    std::lock_guard<std::mutex> lock(mu_);
    auto latest = latest_predictor_.find(device_class);
    if (latest == latest_predictor_.end()) {
      return absl::NotFoundError(absl::StrCat("no predictor for device class '", device_class,
                                              "' yet: submit a predictor-training job"));
    }
    version = latest->second;
  }
  HAT_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                       store_->Get(Table::kPredictors, PredictorKey(device_class, version)));
  if (!bytes) {
    return absl::NotFoundError(
        absl::StrCat("device class '", device_class, "' has no predictor version ", version));
  }
  v1::StoredPredictor stored;
  HAT_RETURN_IF_ERROR(
      DecodeRecord(*bytes, "predictor " + PredictorKey(device_class, version), &stored));
  return stored;
}

absl::StatusOr<v1::ListPredictorsResponse> Coordinator::ListPredictors(
    const std::string& device_class) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", device_class, true));
  v1::ListPredictorsResponse resp;
  absl::Status decode;
  HAT_RETURN_IF_ERROR(store_->Scan(Table::kPredictors,
                                   device_class.empty() ? "" : device_class + "/",
                                   [&](const std::string& k, const std::string& v) {
                                     v1::StoredPredictor* p = resp.add_predictors();
                                     decode = DecodeRecord(v, "predictor " + k, p);
                                     p->mutable_predictor()->clear_mlp();
                                     p->mutable_predictor()->clear_linear_members();
                                     return decode.ok();
                                   }));
  HAT_RETURN_IF_ERROR(decode);
  return resp;
}

}  // namespace hat
