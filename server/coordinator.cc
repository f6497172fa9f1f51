// The coordinator's logic; see coordinator.h for the contract. Every mutation follows one
// pattern: compute the new records, Persist() them in one batch, and only then change memory
// and wake waiters, so a failed write changes nothing and nothing unwritten is acknowledged.
#include "server/coordinator.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <chrono>
#include <numeric>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/builtin_spaces.h"
#include "common/prng.h"
#include "common/proto_conversions.h"
#include "common/sampling.h"
#include "common/status_macros.h"
#include "measure/measure_proto.h"
#include "predictor/active_sampling.h"
#include "predictor/latency_predictor.h"
#include "server/dataset_export.h"
#include "server/predictor_worker.h"
#include "server/storage/record_codec.h"

namespace hat {
namespace {

using google::protobuf::util::TimeUtil;

constexpr size_t kMaxNameLength = 64;
constexpr char kMetaKey[] = "server";

// Device classes, host groups and ids: 1-64 characters of [A-Za-z0-9._-], so they are safe in
// storage keys (which use '/') and in file names.
absl::Status CheckName(const std::string& field, const std::string& value, bool allow_empty) {
  if (value.empty() && allow_empty) return absl::OkStatus();
  if (value.empty() || value.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be 1 to ", kMaxNameLength, " characters, got ", value.size()));
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(field, "='", value.substr(0, kMaxNameLength),
                                                     "': only letters, digits, '.', '_', '-'"));
    }
  }
  return absl::OkStatus();
}

bool Terminal(v1::JobState s) {
  return s == v1::JOB_STATE_SUCCEEDED || s == v1::JOB_STATE_FAILED || s == v1::JOB_STATE_CANCELLED;
}

google::protobuf::Timestamp Stamp(int64_t unix_ms) {
  return TimeUtil::MillisecondsToTimestamp(unix_ms);
}

std::string TaskKey(const std::string& job_id, int index) {
  return absl::StrFormat("%s/%06d", job_id, index);
}

// Zero-padded so that keys sort by version within a device class.
std::string PredictorKey(const std::string& device_class, int64_t version) {
  return absl::StrFormat("%s/%012d", device_class, version);
}

}  // namespace

Coordinator::Coordinator(std::unique_ptr<KvStore> store, CoordinatorOptions options)
    : store_(std::move(store)), options_(std::move(options)) {
  if (!options_.now_unix_ms) {
    options_.now_unix_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
}

Coordinator::~Coordinator() { Shutdown(); }

absl::StatusOr<std::unique_ptr<Coordinator>> Coordinator::Open(std::unique_ptr<KvStore> store,
                                                               CoordinatorOptions options) {
  std::unique_ptr<Coordinator> c(new Coordinator(std::move(store), std::move(options)));
  HAT_RETURN_IF_ERROR(Annotate(c->Recover(), "recovering coordinator state"));
  return c;
}

absl::Status Coordinator::Recover() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = NowMs();
  HAT_ASSIGN_OR_RETURN(std::optional<std::string> meta, store_->Get(Table::kMeta, kMetaKey));
  if (meta) HAT_RETURN_IF_ERROR(DecodeRecord(*meta, "meta", &meta_));
  absl::Status status;
  auto scan = [&](Table table,
                  const std::function<absl::Status(const std::string&, const std::string&)>& fn) {
    return store_->Scan(table, "", [&](const std::string& k, const std::string& v) {
      status = fn(k, v);
      return status.ok();
    });
  };
  HAT_RETURN_IF_ERROR(scan(Table::kAgents, [&](const std::string& k, const std::string& v) {
    AgentEntry a;
    HAT_RETURN_IF_ERROR(DecodeRecord(v, "agent " + k, &a.agent));
    // Agents get the recovery grace from the restart to show they are still there.
    a.last_heartbeat_ms =
        now + std::max<int64_t>(0, options_.recovery_grace_ms - options_.lost_after_ms);
    agents_[k] = std::move(a);
    return absl::OkStatus();
  }));
  HAT_RETURN_IF_ERROR(status);
  HAT_RETURN_IF_ERROR(scan(Table::kJobs, [&](const std::string& k, const std::string& v) {
    JobEntry j;
    HAT_RETURN_IF_ERROR(DecodeRecord(v, "job " + k, &j.job));
    jobs_[k] = std::move(j);
    return absl::OkStatus();
  }));
  HAT_RETURN_IF_ERROR(status);
  HAT_RETURN_IF_ERROR(scan(Table::kTasks, [&](const std::string& k, const std::string& v) {
    v1::TaskRecord t;
    HAT_RETURN_IF_ERROR(DecodeRecord(v, "task " + k, &t));
    auto job = jobs_.find(t.task().job_id());
    if (job == jobs_.end()) return absl::DataLossError(absl::StrCat("task ", k, ": no job"));
    job->second.task_keys.push_back(k);
    if (t.state() == v1::TASK_STATE_QUEUED) Enqueue(k, t);
    if (t.state() == v1::TASK_STATE_LEASED) {
      // Leases also outlive the restart by the grace (in memory; written on the next change).
      t.set_lease_deadline_unix_ms(
          std::max(t.lease_deadline_unix_ms(), now + options_.recovery_grace_ms));
      leases_[t.lease_id()] = k;
      auto agent = agents_.find(t.agent_id());
      if (agent != agents_.end()) agent->second.lease_id = t.lease_id();
    }
    tasks_[k] = std::move(t);
    return absl::OkStatus();
  }));
  HAT_RETURN_IF_ERROR(status);
  HAT_RETURN_IF_ERROR(scan(Table::kPredictors, [&](const std::string& k, const std::string& v) {
    v1::StoredPredictor p;
    HAT_RETURN_IF_ERROR(DecodeRecord(v, "predictor " + k, &p));
    int64_t& latest = latest_predictor_[p.device_class()];
    latest = std::max(latest, p.version());
    return absl::OkStatus();
  }));
  HAT_RETURN_IF_ERROR(status);
  for (auto& [id, job] : jobs_) {
    job.counts = CountTasks(job);
    // A fit that was running when the server stopped is lost: run it again (the state is
    // written when a worker claims it).
    if (job.job.spec().has_predictor_training() && job.job.state() == v1::JOB_STATE_RUNNING) {
      job.job.set_state(v1::JOB_STATE_QUEUED);
      job.job.mutable_progress()->set_phase("queued (server restarted)");
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Persistence helpers (REQUIRE mu_)

absl::Status Coordinator::Persist(const WriteBatch& batch, Durability durability) {
  if (batch.empty()) return absl::OkStatus();
  return Annotate(store_->Write(batch, durability), "storage");
}

absl::Status Coordinator::PersistWithMeta(WriteBatch& batch, const v1::ServerMeta& meta) {
  batch.Put(Table::kMeta, kMetaKey, EncodeRecord(meta));
  HAT_RETURN_IF_ERROR(Persist(batch));
  meta_ = meta;
  return absl::OkStatus();
}

void Coordinator::PutTask(WriteBatch& batch, const v1::TaskRecord& task) {
  batch.Put(Table::kTasks, task.task().task_id(), EncodeRecord(task));
}
void Coordinator::PutJob(WriteBatch& batch, const v1::Job& job) {
  batch.Put(Table::kJobs, job.job_id(), EncodeRecord(job));
}
void Coordinator::PutAgent(WriteBatch& batch, const AgentEntry& agent) {
  batch.Put(Table::kAgents, agent.agent.agent_id(), EncodeRecord(agent.agent));
}
void Coordinator::Enqueue(const std::string& task_key, const v1::TaskRecord& task) {
  queues_[task.device_class()].insert({task.queued_seq(), task_key});
}

bool Coordinator::HostGroupBusy(const AgentEntry& agent) const {
  const std::string& group = agent.agent.host_group();
  if (group.empty()) return false;
  for (const auto& [id, other] : agents_) {
    if (id != agent.agent.agent_id() && other.agent.host_group() == group &&
        !other.lease_id.empty()) {
      return true;
    }
  }
  return false;
}

Coordinator::TaskCounts Coordinator::CountTasks(const JobEntry& entry) const {
  TaskCounts c;
  for (const std::string& key : entry.task_keys) {
    const v1::TaskState s = tasks_.at(key).state();
    c.done += s == v1::TASK_STATE_DONE;
    c.failed += s == v1::TASK_STATE_FAILED;
    c.ended +=
        s == v1::TASK_STATE_DONE || s == v1::TASK_STATE_FAILED || s == v1::TASK_STATE_CANCELLED;
  }
  return c;
}

void Coordinator::FillProgress(v1::Job& job, int64_t total, const TaskCounts& c) const {
  v1::JobProgress* p = job.mutable_progress();
  p->set_done(c.done);
  p->set_failed(c.failed);
  p->set_total(total);
  const int64_t now = NowMs();
  if (job.has_started_at() && c.done + c.failed > 0) {
    const double seconds =
        std::max(1e-3, (now - TimeUtil::TimestampToMilliseconds(job.started_at())) / 1000.0);
    p->set_rate_per_s((c.done + c.failed) / seconds);
    p->set_eta_s((total - c.done - c.failed) / p->rate_per_s());
  } else {
    p->set_rate_per_s(0);
    p->set_eta_s(-1);
  }
  if (!Terminal(job.state()) && c.ended == total) {
    job.set_state(c.failed > 0 ? v1::JOB_STATE_FAILED : v1::JOB_STATE_SUCCEEDED);
    if (c.failed > 0) {
      job.set_error(absl::StrCat(c.failed, " of ", total, " configs could not be measured"));
    }
    *job.mutable_finished_at() = Stamp(now);
    p->set_eta_s(0);
    p->set_phase("finished");
  }
  job.mutable_result()->set_measurements(c.done);
}

v1::TaskRecord Coordinator::NewTask(const v1::Job& job, int index,
                                    const SubTransformerConfig& config,
                                    v1::ServerMeta& meta) const {
  const v1::LatencyDatasetJobSpec& spec = job.spec().latency_dataset();
  v1::TaskRecord t;
  t.mutable_task()->set_task_id(TaskKey(job.job_id(), index));
  t.mutable_task()->set_job_id(job.job_id());
  t.mutable_task()->set_index(index);
  ToProto(config, t.mutable_task()->mutable_config());
  t.mutable_task()->set_design_space(spec.design_space().name());
  *t.mutable_task()->mutable_space() = spec.design_space();
  *t.mutable_task()->mutable_protocol() = spec.protocol();
  t.set_device_class(spec.device_class());
  t.set_state(v1::TASK_STATE_QUEUED);
  t.set_queued_seq(meta.next_queue_seq());
  meta.set_next_queue_seq(meta.next_queue_seq() + 1);
  return t;
}

v1::Job Coordinator::NewJob(const v1::SubmitJobRequest& req, int64_t total,
                            v1::ServerMeta& meta) const {
  v1::Job job;
  job.set_job_id(absl::StrFormat("job-%06d", meta.next_job_number() + 1));
  meta.set_next_job_number(meta.next_job_number() + 1);
  *job.mutable_spec() = req.spec();
  job.set_state(v1::JOB_STATE_QUEUED);
  job.set_idempotency_key(req.idempotency_key());
  *job.mutable_created_at() = Stamp(NowMs());
  job.mutable_progress()->set_total(total);
  job.mutable_progress()->set_eta_s(-1);
  job.mutable_progress()->set_phase("queued");
  return job;
}

absl::Status Coordinator::WriteWithNewTasks(JobEntry& entry,
                                            const std::vector<SubTransformerConfig>& configs,
                                            v1::ServerMeta& meta) {
  WriteBatch batch;
  std::vector<v1::TaskRecord> tasks;
  for (const SubTransformerConfig& config : configs) {
    v1::TaskRecord t =
        NewTask(entry.job, static_cast<int>(entry.task_keys.size() + tasks.size()), config, meta);
    PutTask(batch, t);
    tasks.push_back(std::move(t));
  }
  PutJob(batch, entry.job);
  HAT_RETURN_IF_ERROR(PersistWithMeta(batch, meta));
  for (v1::TaskRecord& t : tasks) {
    const std::string key = t.task().task_id();
    entry.task_keys.push_back(key);
    Enqueue(key, t);
    tasks_[key] = std::move(t);
  }
  return absl::OkStatus();
}

int64_t Coordinator::PlannedTasks(const JobEntry& entry) const {
  // Uncertainty sampling creates its tasks round by round: the job ends at the planned total.
  if (entry.job.spec().latency_dataset().strategy() ==
      v1::LatencyDatasetJobSpec::STRATEGY_UNCERTAINTY) {
    return entry.job.progress().total();
  }
  return static_cast<int64_t>(entry.task_keys.size());
}

void Coordinator::RefreshJob(JobEntry& entry) {
  entry.counts = CountTasks(entry);
  FillProgress(entry.job, PlannedTasks(entry), entry.counts);
  ++entry.version;
}

void Coordinator::ExpireLease(std::string task_key, const std::string& reason, WriteBatch& batch,
                              std::set<std::string>& touched_jobs) {
  v1::TaskRecord& task = tasks_.at(task_key);
  leases_.erase(task.lease_id());
  auto agent = agents_.find(task.agent_id());
  if (agent != agents_.end() && agent->second.lease_id == task.lease_id()) {
    agent->second.lease_id.clear();
    if (agent->second.agent.state() == v1::AGENT_STATE_MEASURING) {
      agent->second.agent.set_state(v1::AGENT_STATE_IDLE);
    }
    PutAgent(batch, agent->second);
  }
  task.set_lease_id("");
  task.set_agent_id("");
  task.set_lease_deadline_unix_ms(0);
  if (task.task().attempt() >= options_.max_attempts) {
    task.set_state(v1::TASK_STATE_FAILED);
    task.set_error(absl::StrCat(reason, "; gave up after ", task.task().attempt(), " leases"));
  } else {
    task.set_state(v1::TASK_STATE_QUEUED);  // keeps its sequence: first in line again
    Enqueue(task_key, task);
  }
  PutTask(batch, task);
  touched_jobs.insert(task.task().job_id());
}

// ---------------------------------------------------------------------------------------------
// FleetService

absl::StatusOr<v1::RegisterAgentResponse> Coordinator::RegisterAgent(
    const v1::RegisterAgentRequest& req) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", req.device_class(), false));
  HAT_RETURN_IF_ERROR(CheckName("host_group", req.host_group(), true));
  if (req.hostname().size() > 255 || req.agent_version().size() > 64) {
    return absl::InvalidArgumentError("hostname or agent_version too long");
  }
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = NowMs();
  AgentEntry entry;
  auto previous = agents_.find(req.previous_agent_id());
  const bool resume = !req.previous_agent_id().empty() && previous != agents_.end() &&
                      previous->second.agent.device_class() == req.device_class();
  v1::ServerMeta meta = meta_;
  if (resume) {
    entry = previous->second;
  } else {
    entry.agent.set_agent_id(absl::StrFormat("agent-%06d", meta.next_agent_number() + 1));
    meta.set_next_agent_number(meta.next_agent_number() + 1);
    *entry.agent.mutable_registered_at() = Stamp(now);
  }
  entry.agent.set_device_class(req.device_class());
  entry.agent.set_hostname(req.hostname());
  entry.agent.set_host_group(req.host_group());
  *entry.agent.mutable_hardware() = req.hardware();
  entry.agent.set_agent_version(req.agent_version());
  entry.agent.set_state(entry.lease_id.empty() ? v1::AGENT_STATE_IDLE : v1::AGENT_STATE_MEASURING);
  *entry.agent.mutable_last_heartbeat() = Stamp(now);
  entry.last_heartbeat_ms = now;
  WriteBatch batch;
  PutAgent(batch, entry);
  HAT_RETURN_IF_ERROR(PersistWithMeta(batch, meta));
  agents_[entry.agent.agent_id()] = entry;
  v1::RegisterAgentResponse resp;
  resp.set_agent_id(entry.agent.agent_id());
  resp.mutable_heartbeat_interval()->set_seconds(options_.heartbeat_interval_ms / 1000);
  resp.mutable_heartbeat_interval()->set_nanos((options_.heartbeat_interval_ms % 1000) * 1000000);
  resp.set_server_version("hat.v1");
  changed_.notify_all();
  return resp;
}

absl::StatusOr<v1::HeartbeatResponse> Coordinator::Heartbeat(const v1::HeartbeatRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  v1::HeartbeatResponse resp;
  auto agent = agents_.find(req.agent_id());
  if (agent == agents_.end()) {
    resp.set_known(false);
    return resp;
  }
  resp.set_known(true);
  const int64_t now = NowMs();
  AgentEntry updated = agent->second;
  updated.last_heartbeat_ms = now;
  *updated.agent.mutable_last_heartbeat() = Stamp(now);
  WriteBatch batch;
  if (updated.agent.state() == v1::AGENT_STATE_LOST ||
      updated.agent.state() == v1::AGENT_STATE_LEFT) {
    updated.agent.set_state(updated.lease_id.empty() ? v1::AGENT_STATE_IDLE
                                                     : v1::AGENT_STATE_MEASURING);
    PutAgent(batch, updated);
  }
  std::optional<v1::TaskRecord> extended;
  if (!req.lease_id().empty()) {
    auto lease = leases_.find(req.lease_id());
    if (lease == leases_.end() || tasks_.at(lease->second).agent_id() != req.agent_id()) {
      resp.set_cancel_lease(true);  // expired, re-leased or cancelled: stop measuring it
    } else {
      const v1::TaskRecord& task = tasks_.at(lease->second);
      const int64_t deadline = now + options_.lease_duration_ms;
      // Persist the extension only when it moves the deadline noticeably.
      if (deadline - task.lease_deadline_unix_ms() > options_.lease_duration_ms / 4) {
        extended = task;
        extended->set_lease_deadline_unix_ms(deadline);
        PutTask(batch, *extended);
      }
    }
  }
  HAT_RETURN_IF_ERROR(Persist(batch, Durability::kBuffered));
  agent->second = updated;
  if (extended) tasks_[extended->task().task_id()] = *extended;
  return resp;
}

absl::StatusOr<v1::LeaseTaskResponse> Coordinator::LeaseTask(
    const v1::LeaseTaskRequest& req, int64_t deadline_ms, const std::function<bool()>& cancelled) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    auto agent = agents_.find(req.agent_id());
    if (agent == agents_.end()) {
      return absl::NotFoundError(
          absl::StrCat("agent '", req.agent_id(), "' is not registered (register again)"));
    }
    if (!agent->second.lease_id.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("agent ", req.agent_id(), " already holds lease ", agent->second.lease_id,
                       "; report or release it first (one measurement at a time)"));
    }
    if (shutdown_) return v1::LeaseTaskResponse();
    auto queue = queues_.find(agent->second.agent.device_class());
    if (queue != queues_.end() && !queue->second.empty() && !HostGroupBusy(agent->second)) {
      const auto [seq, key] = *queue->second.begin();
      v1::TaskRecord task = tasks_.at(key);
      JobEntry& job = jobs_.at(task.task().job_id());
      AgentEntry holder = agent->second;
      const int64_t now = NowMs();
      task.mutable_task()->set_attempt(task.task().attempt() + 1);
      task.set_state(v1::TASK_STATE_LEASED);
      task.set_lease_id(absl::StrCat(key, "#", task.task().attempt()));
      task.set_agent_id(holder.agent.agent_id());
      task.set_lease_deadline_unix_ms(now + options_.lease_duration_ms);
      holder.lease_id = task.lease_id();
      holder.agent.set_state(v1::AGENT_STATE_MEASURING);
      WriteBatch batch;
      PutTask(batch, task);
      PutAgent(batch, holder);
      const bool starts_job = job.job.state() == v1::JOB_STATE_QUEUED;
      v1::Job started;
      if (starts_job) {
        started = job.job;
        started.set_state(v1::JOB_STATE_RUNNING);
        *started.mutable_started_at() = Stamp(now);
        started.mutable_progress()->set_phase("measuring");
        PutJob(batch, started);
      }
      HAT_RETURN_IF_ERROR(Persist(batch, Durability::kBuffered));
      queue->second.erase(queue->second.begin());
      tasks_[key] = task;
      agent->second = holder;
      leases_[task.lease_id()] = key;
      if (starts_job) {
        job.job = std::move(started);
        ++job.version;
        changed_.notify_all();
      }
      v1::LeaseTaskResponse resp;
      resp.set_lease_id(task.lease_id());
      *resp.mutable_task() = task.task();
      resp.mutable_lease_duration()->set_seconds(options_.lease_duration_ms / 1000);
      return resp;
    }
    const int64_t now = NowMs();
    if (now >= deadline_ms || (cancelled && cancelled())) return v1::LeaseTaskResponse();
    // Wake at least every 200 ms to notice a cancelled call.
    changed_.wait_for(lock, std::chrono::milliseconds(std::min<int64_t>(200, deadline_ms - now)));
  }
}

absl::StatusOr<v1::ReportResultResponse> Coordinator::ReportResult(
    const v1::ReportResultRequest& req) {
  const v1::MeasurementResult& result = req.result();
  if (result.encoder().raw_ms_size() > options_.max_samples_per_result ||
      result.decoder().raw_ms_size() > options_.max_samples_per_result) {
    return absl::InvalidArgumentError(absl::StrCat(
        "result: more than ", options_.max_samples_per_result, " raw samples per component"));
  }
  if (result.error().size() > 4096) {
    return absl::InvalidArgumentError("result.error: longer than 4096 characters");
  }
  if (result.error().empty() && !(result.total_ms() > 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("result.total_ms=", result.total_ms(), ": must be positive"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tasks_.find(result.task_id());
  if (it == tasks_.end()) {
    return absl::NotFoundError(
        absl::StrCat("result.task_id '", result.task_id().substr(0, 80), "' names no task"));
  }
  v1::ReportResultResponse resp;
  const v1::TaskState state = it->second.state();
  if (state == v1::TASK_STATE_DONE || state == v1::TASK_STATE_FAILED ||
      state == v1::TASK_STATE_CANCELLED) {
    resp.set_stored(false);  // a duplicate or late report: the first one counted
    return resp;
  }
  v1::TaskRecord task = it->second;
  if (result.config_id() != 0 && result.config_id() != task.task().config().config_id()) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "result.config_id=%016x does not match task %s (config %016x)", result.config_id(),
        task.task().task_id(), task.task().config().config_id()));
  }
  JobEntry& job = jobs_.at(task.task().job_id());
  WriteBatch batch;
  const std::string previous_lease = task.lease_id();
  std::optional<AgentEntry> holder;
  auto agent = agents_.find(task.agent_id());
  if (agent != agents_.end() && agent->second.lease_id == previous_lease) {
    holder = agent->second;
    holder->lease_id.clear();
    holder->agent.set_state(v1::AGENT_STATE_IDLE);
  }
  // Credit the agent that measured: after a re-lease, the late reporter may not be the holder.
  std::optional<AgentEntry> reporter;
  if (result.error().empty()) {
    if (holder && holder->agent.agent_id() == req.agent_id()) {
      holder->agent.set_measurements_done(holder->agent.measurements_done() + 1);
    } else if (auto r = agents_.find(req.agent_id()); r != agents_.end()) {
      reporter = r->second;
      reporter->agent.set_measurements_done(reporter->agent.measurements_done() + 1);
      PutAgent(batch, *reporter);
    }
  }
  if (holder) PutAgent(batch, *holder);
  task.set_lease_id("");
  task.set_lease_deadline_unix_ms(0);
  if (!result.error().empty()) {
    task.set_state(v1::TASK_STATE_FAILED);
    task.set_error(result.error());
  } else {
    task.set_state(v1::TASK_STATE_DONE);
    v1::MeasurementResult stored = result;
    stored.set_job_id(task.task().job_id());
    stored.set_device_class(task.device_class());
    stored.set_config_id(task.task().config().config_id());
    *stored.mutable_config() = task.task().config();
    *stored.mutable_protocol() = task.task().protocol();
    batch.Put(Table::kMeasurements,
              absl::StrFormat("%s/%s/%06d", task.device_class(), task.task().job_id(),
                              task.task().index()),
              EncodeRecord(stored));
  }
  PutTask(batch, task);
  TaskCounts counts = job.counts;
  ++counts.ended;
  ++(result.error().empty() ? counts.done : counts.failed);
  v1::Job updated = job.job;
  FillProgress(updated, PlannedTasks(job), counts);
  PutJob(batch, updated);
  HAT_RETURN_IF_ERROR(Persist(batch));
  tasks_[task.task().task_id()] = task;
  leases_.erase(previous_lease);
  if (holder) agents_[holder->agent.agent_id()] = *holder;
  if (reporter) agents_[reporter->agent.agent_id()] = *reporter;
  job.job = std::move(updated);
  job.counts = counts;
  ++job.version;
  changed_.notify_all();
  resp.set_stored(result.error().empty());
  return resp;
}

absl::Status Coordinator::ReleaseLease(const v1::ReleaseLeaseRequest& req) {
  std::lock_guard<std::mutex> lock(mu_);
  auto lease = leases_.find(req.lease_id());
  if (lease == leases_.end()) return absl::OkStatus();  // already expired or reported
  if (tasks_.at(lease->second).agent_id() != req.agent_id()) {
    return absl::PermissionDeniedError(
        absl::StrCat("lease ", req.lease_id(), " is not held by agent ", req.agent_id()));
  }
  const std::string key = lease->second;
  // Snapshot for rollback: expiring mutates memory before the write.
  const v1::TaskRecord task_before = tasks_.at(key);
  const auto agents_before = agents_;
  const auto queues_before = queues_;
  WriteBatch batch;
  std::set<std::string> touched;
  // A release is not the task's fault: it does not count as an attempt.
  tasks_.at(key).mutable_task()->set_attempt(std::max(0, task_before.task().attempt() - 1));
  ExpireLease(key, "released: " + req.reason().substr(0, 200), batch, touched);
  absl::Status written = Persist(batch, Durability::kBuffered);
  if (!written.ok()) {
    tasks_[key] = task_before;
    agents_ = agents_before;
    queues_ = queues_before;
    leases_[task_before.lease_id()] = key;
    return written;
  }
  changed_.notify_all();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// JobService

absl::StatusOr<v1::Job> Coordinator::SubmitJob(const v1::SubmitJobRequest& req) {
  if (req.idempotency_key().size() > 128) {
    return absl::InvalidArgumentError("idempotency_key: longer than 128 characters");
  }
  if (req.spec().description().size() > 1024) {
    return absl::InvalidArgumentError("spec.description: longer than 1024 characters");
  }
  switch (req.spec().kind_case()) {
    case v1::JobSpec::kLatencyDataset:
      return SubmitLatencyDatasetJob(req);
    case v1::JobSpec::kPredictorTraining:
      return SubmitPredictorJob(req);
    case v1::JobSpec::KIND_NOT_SET:
      return absl::InvalidArgumentError("spec: no job kind set");
    default:
      return absl::UnimplementedError(
          "supernet-training and search jobs are not implemented yet (they come with their "
          "issues)");
  }
}

const v1::Job* Coordinator::FindByIdempotencyKey(const std::string& key) const {
  if (key.empty()) return nullptr;
  for (const auto& [id, entry] : jobs_) {
    if (entry.job.idempotency_key() == key) return &entry.job;
  }
  return nullptr;
}

absl::StatusOr<v1::Job> Coordinator::SubmitPredictorJob(const v1::SubmitJobRequest& req) {
  v1::PredictorTrainingJobSpec spec = req.spec().predictor_training();
  HAT_RETURN_IF_ERROR(CheckName("predictor_training.device_class", spec.device_class(), false));
  if (spec.model().empty()) spec.set_model("default");
  absl::StatusOr<v1::PredictorModelKind> model = ParsePredictorModel(spec.model());
  if (!model.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("predictor_training.model='",
                                                   spec.model().substr(0, 64),
                                                   "': expected default, cost-linear or hat-mlp"));
  }
  if (spec.max_train_rows() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "predictor_training.max_train_rows=", spec.max_train_rows(), ": must be >= 0"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (const v1::Job* existing = FindByIdempotencyKey(req.idempotency_key())) return *existing;
  v1::ServerMeta meta = meta_;
  JobEntry entry;
  entry.job = NewJob(req, /*total=*/1, meta);
  *entry.job.mutable_spec()->mutable_predictor_training() = spec;
  HAT_RETURN_IF_ERROR(WriteWithNewTasks(entry, {}, meta));
  jobs_[entry.job.job_id()] = entry;
  changed_.notify_all();
  return entry.job;
}

absl::StatusOr<v1::Job> Coordinator::SubmitLatencyDatasetJob(const v1::SubmitJobRequest& req) {
  const v1::LatencyDatasetJobSpec& spec = req.spec().latency_dataset();
  HAT_RETURN_IF_ERROR(CheckName("latency_dataset.device_class", spec.device_class(), false));
  const bool active = spec.strategy() == v1::LatencyDatasetJobSpec::STRATEGY_UNCERTAINTY;
  if (active && spec.configs_size() > 0) {
    return absl::InvalidArgumentError(
        "latency_dataset.strategy=UNCERTAINTY chooses its own configs: give num_configs, not "
        "configs");
  }
  DesignSpace space;
  if (spec.has_design_space()) {
    HAT_ASSIGN_OR_RETURN(space, FromProto(spec.design_space()));
  } else {
    absl::StatusOr<DesignSpace> builtin = BuiltinSpace(spec.space_name());
    if (!builtin.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("latency_dataset.space_name: ", builtin.status().message()));
    }
    space = *builtin;
  }
  if (spec.repeats() < 0 || spec.repeats() > kMaxMeasurementRepeats) {
    return absl::InvalidArgumentError(absl::StrCat("latency_dataset.repeats=", spec.repeats(),
                                                   ": must be in [0, ", kMaxMeasurementRepeats,
                                                   "] (0 or 1: measure each config once)"));
  }
  const int repeats = std::max(1, spec.repeats());
  if (active && repeats > 1) {
    return absl::InvalidArgumentError(
        "latency_dataset.repeats > 1 with strategy=UNCERTAINTY: uncertainty sampling measures "
        "each config once; use strategy=RANDOM to repeat measurements");
  }
  const int64_t requested = spec.configs_size() > 0 ? spec.configs_size() : spec.num_configs();
  if (repeats > 1 && requested * repeats > options_.max_configs_per_job) {
    return absl::InvalidArgumentError(absl::StrCat(
        "latency_dataset: ", requested, " configs x ", repeats, " repeats = ", requested * repeats,
        " measurements, more than ", options_.max_configs_per_job, " per job"));
  }
  HAT_ASSIGN_OR_RETURN(MeasurementProtocol protocol, FromProto(spec.protocol()));
  std::vector<SubTransformerConfig> configs;
  if (spec.configs_size() > 0) {
    if (spec.configs_size() > options_.max_configs_per_job) {
      return absl::InvalidArgumentError(
          absl::StrCat("latency_dataset.configs: ", spec.configs_size(), " configs, more than ",
                       options_.max_configs_per_job));
    }
    for (int i = 0; i < spec.configs_size(); ++i) {
      HAT_ASSIGN_OR_RETURN(SubTransformerConfig c, FromProto(spec.configs(i)));
      HAT_RETURN_IF_ERROR(
          Annotate(ValidateConfig(c, space), absl::StrCat("latency_dataset.configs[", i, "]")));
      configs.push_back(std::move(c));
    }
  } else {
    if (spec.num_configs() < 1 || spec.num_configs() > options_.max_configs_per_job) {
      return absl::InvalidArgumentError(
          absl::StrCat("latency_dataset.num_configs=", spec.num_configs(), ": must be in [1, ",
                       options_.max_configs_per_job, "]"));
    }
    // Uncertainty sampling starts with a random batch; AdvanceActiveSampling adds the rest.
    configs = SampleConfigs(
        space, active ? InitialSampleSize(spec.num_configs()) : spec.num_configs(), spec.seed());
  }
  // Pass by pass, each later pass in its own seeded order: a config's repeats are about a pass
  // apart in time, and its neighbours in time differ from pass to pass. With one order for all
  // passes, a config and its neighbours would share every moment of the host's drift, and the
  // drift could not be told apart from their latencies (predictor/repeated_measurements.h).
  const size_t distinct = configs.size();
  configs.reserve(distinct * repeats);
  std::vector<size_t> order(distinct);
  std::iota(order.begin(), order.end(), size_t{0});
  Prng pass_order(spec.seed() ^ 0x9e3779b97f4a7c15ULL);
  for (int pass = 1; pass < repeats; ++pass) {
    pass_order.Shuffle(order);
    for (size_t i : order) configs.push_back(configs[i]);
  }

  std::lock_guard<std::mutex> lock(mu_);
  if (const v1::Job* existing = FindByIdempotencyKey(req.idempotency_key())) return *existing;
  v1::ServerMeta meta = meta_;
  JobEntry entry;
  entry.job = NewJob(req, active ? spec.num_configs() : static_cast<int64_t>(configs.size()), meta);
  ToProto(space, entry.job.mutable_spec()->mutable_latency_dataset()->mutable_design_space());
  ToProto(protocol, entry.job.mutable_spec()->mutable_latency_dataset()->mutable_protocol());
  HAT_RETURN_IF_ERROR(WriteWithNewTasks(entry, configs, meta));
  jobs_[entry.job.job_id()] = entry;
  changed_.notify_all();
  return entry.job;
}

absl::StatusOr<v1::Job> Coordinator::GetJob(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat("job '", job_id.substr(0, 80), "' does not exist"));
  }
  return it->second.job;
}

absl::StatusOr<v1::ListJobsResponse> Coordinator::ListJobs(const v1::ListJobsRequest& req) {
  if (req.page_size() < 0 || req.page_size() > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size=", req.page_size(), ": must be in [0, 1000]"));
  }
  const int page = req.page_size() == 0 ? 100 : req.page_size();
  std::lock_guard<std::mutex> lock(mu_);
  v1::ListJobsResponse resp;
  for (auto it = jobs_.upper_bound(req.page_token()); it != jobs_.end(); ++it) {
    if (req.state_filter() != v1::JOB_STATE_UNSPECIFIED &&
        it->second.job.state() != req.state_filter()) {
      continue;
    }
    if (resp.jobs_size() == page) {
      resp.set_next_page_token(resp.jobs(page - 1).job_id());
      break;
    }
    v1::Job* job = resp.add_jobs();
    *job = it->second.job;
    // Lists stay small: the explicit configs and the space are in GetJob.
    if (job->spec().has_latency_dataset()) {
      job->mutable_spec()->mutable_latency_dataset()->clear_configs();
    }
  }
  return resp;
}

absl::StatusOr<v1::Job> Coordinator::CancelJob(const std::string& job_id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat("job '", job_id.substr(0, 80), "' does not exist"));
  }
  if (Terminal(it->second.job.state())) return it->second.job;
  JobEntry job = it->second;
  WriteBatch batch;
  std::map<std::string, v1::TaskRecord> cancelled;
  std::map<std::string, AgentEntry> freed;
  for (const std::string& key : job.task_keys) {
    v1::TaskRecord t = tasks_.at(key);
    if (t.state() != v1::TASK_STATE_QUEUED && t.state() != v1::TASK_STATE_LEASED) continue;
    if (t.state() == v1::TASK_STATE_LEASED) {
      auto agent = agents_.find(t.agent_id());
      if (agent != agents_.end() && agent->second.lease_id == t.lease_id()) {
        AgentEntry a = agent->second;
        a.lease_id.clear();
        a.agent.set_state(v1::AGENT_STATE_IDLE);
        PutAgent(batch, a);
        freed[a.agent.agent_id()] = a;
      }
    }
    t.set_state(v1::TASK_STATE_CANCELLED);
    PutTask(batch, t);
    cancelled[key] = t;
  }
  job.job.set_state(v1::JOB_STATE_CANCELLED);
  *job.job.mutable_finished_at() = Stamp(NowMs());
  job.job.mutable_progress()->set_phase("cancelled");
  job.job.mutable_progress()->set_eta_s(0);
  ++job.version;
  PutJob(batch, job.job);
  HAT_RETURN_IF_ERROR(Persist(batch));
  for (auto& [key, t] : cancelled) {
    if (tasks_[key].state() == v1::TASK_STATE_QUEUED) {
      queues_[t.device_class()].erase({t.queued_seq(), key});
    } else {
      leases_.erase(tasks_[key].lease_id());
    }
    tasks_[key] = t;
  }
  for (auto& [id, a] : freed) agents_[id] = a;
  it->second = job;
  it->second.counts = CountTasks(it->second);
  changed_.notify_all();
  return job.job;
}

absl::StatusOr<std::pair<v1::Job, int64_t>> Coordinator::WaitJobChange(
    const std::string& job_id, int64_t known_version, int64_t deadline_ms,
    const std::function<bool()>& cancelled) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    auto it = jobs_.find(job_id);
    if (it == jobs_.end()) {
      return absl::NotFoundError(absl::StrCat("job '", job_id.substr(0, 80), "' does not exist"));
    }
    // Refresh rate and ETA so a watcher sees them move even between completions.
    if (it->second.version > known_version || shutdown_ || NowMs() >= deadline_ms ||
        (cancelled && cancelled())) {
      return std::make_pair(it->second.job, it->second.version);
    }
    const int64_t wait = std::min<int64_t>(200, deadline_ms - NowMs());
    changed_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(1, wait)));
  }
}

v1::ListAgentsResponse Coordinator::ListAgents(const std::string& device_class) {
  std::lock_guard<std::mutex> lock(mu_);
  v1::ListAgentsResponse resp;
  for (const auto& [id, a] : agents_) {
    if (!device_class.empty() && a.agent.device_class() != device_class) continue;
    *resp.add_agents() = a.agent;
  }
  return resp;
}

absl::StatusOr<std::string> Coordinator::ExportDataset(const std::string& device_class,
                                                       v1::ExportFormat format) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", device_class, false));
  if (format != v1::EXPORT_FORMAT_HAT_CSV && format != v1::EXPORT_FORMAT_FULL) {
    return absl::InvalidArgumentError("format: expected HAT_CSV or FULL");
  }
  HAT_ASSIGN_OR_RETURN(std::vector<v1::MeasurementResult> rows, Measurements(device_class));
  return format == v1::EXPORT_FORMAT_HAT_CSV ? ExportHatCsv(rows) : ExportFullJsonLines(rows);
}

absl::StatusOr<std::vector<v1::MeasurementResult>> Coordinator::Measurements(
    const std::string& device_class) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", device_class, false));
  return ScanMeasurements(device_class + "/");
}

absl::StatusOr<std::vector<v1::MeasurementResult>> Coordinator::ScanMeasurements(
    const std::string& prefix) {
  // Measurements are written once and never changed: no lock needed, the store is thread-safe.
  std::vector<v1::MeasurementResult> rows;
  absl::Status decode;
  HAT_RETURN_IF_ERROR(
      store_->Scan(Table::kMeasurements, prefix, [&](const std::string& k, const std::string& v) {
        v1::MeasurementResult r;
        decode = DecodeRecord(v, "measurement " + k, &r);
        if (decode.ok()) rows.push_back(std::move(r));
        return decode.ok();
      }));
  HAT_RETURN_IF_ERROR(decode);
  return rows;
}

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

// ---------------------------------------------------------------------------------------------
// Uncertainty sampling

absl::Status Coordinator::AdvanceActiveSampling() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [id, entry] : jobs_) {
    const v1::LatencyDatasetJobSpec& spec = entry.job.spec().latency_dataset();
    const int64_t have = static_cast<int64_t>(entry.task_keys.size());
    if (!entry.job.spec().has_latency_dataset() ||
        spec.strategy() != v1::LatencyDatasetJobSpec::STRATEGY_UNCERTAINTY ||
        Terminal(entry.job.state()) || entry.counts.ended < have ||
        have >= entry.job.progress().total()) {
      continue;
    }
    HAT_RETURN_IF_ERROR(StartSamplingRound(entry));
  }
  return absl::OkStatus();
}

absl::Status Coordinator::StartSamplingRound(JobEntry& entry) {
  const v1::Job& job = entry.job;
  const v1::LatencyDatasetJobSpec& spec = job.spec().latency_dataset();
  HAT_ASSIGN_OR_RETURN(DesignSpace space, FromProto(spec.design_space()));
  const int64_t have = static_cast<int64_t>(entry.task_keys.size());
  const int64_t planned = job.progress().total();
  const int batch_size = static_cast<int>(
      std::min<int64_t>(ActiveBatchSize(static_cast<int>(planned)), planned - have));
  // Fresh candidates: never a config the job already has (measured or failed).
  std::set<uint64_t> known;
  for (const std::string& key : entry.task_keys) {
    known.insert(tasks_.at(key).task().config().config_id());
  }
  const uint64_t round_seed = spec.seed() * 1000003 + static_cast<uint64_t>(have);
  std::vector<SubTransformerConfig> candidates;
  std::vector<std::array<double, kNumHatFeatures>> features;
  for (SubTransformerConfig& c : SampleConfigs(space, 20 * batch_size, round_seed)) {
    if (!known.insert(ConfigId(c)).second) continue;
    features.push_back(HatFeatures(c));
    candidates.push_back(std::move(c));
  }
  // What the job measured so far.
  HAT_ASSIGN_OR_RETURN(std::vector<v1::MeasurementResult> measured,
                       ScanMeasurements(absl::StrCat(spec.device_class(), "/", job.job_id(), "/")));
  LatencyDataset dataset;
  for (const v1::MeasurementResult& r : measured) {
    HAT_ASSIGN_OR_RETURN(LatencyRecord record, RecordFromMeasurement(r));
    dataset.rows.push_back(record);
  }
  std::vector<int> chosen;
  std::string how = "at random (too few measurements to fit a predictor)";
  if (static_cast<int>(dataset.rows.size()) >= kMinPredictorMeasurements) {
    const CostShape shape{spec.protocol().source_tokens(), spec.protocol().decoder_steps(),
                          spec.protocol().beam()};
    absl::StatusOr<LatencyPredictor> predictor =
        FitForSampling(dataset, CostWorkload::ForSpace(space, shape), round_seed);
    if (predictor.ok()) {
      HAT_ASSIGN_OR_RETURN(chosen, NextBatch(*predictor, features, batch_size));
      how = "by predictor uncertainty";
    }
  }
  if (chosen.empty()) {
    for (int i = 0; i < batch_size && i < static_cast<int>(candidates.size()); ++i) {
      chosen.push_back(i);
    }
  }

  std::vector<SubTransformerConfig> batch;
  for (int i : chosen) batch.push_back(std::move(candidates[i]));
  JobEntry next = entry;
  if (batch.empty()) {
    // The space has no configs left that the job has not tried: it ends with what it has.
    next.job.mutable_progress()->set_total(have);
  } else {
    next.job.mutable_progress()->set_phase(absl::StrCat("measuring: ", batch.size(),
                                                        " more configs chosen ", how, " from ",
                                                        dataset.rows.size(), " measurements"));
  }
  FillProgress(next.job, PlannedTasks(next), next.counts);
  v1::ServerMeta meta = meta_;
  HAT_RETURN_IF_ERROR(WriteWithNewTasks(next, batch, meta));
  entry = std::move(next);
  ++entry.version;
  changed_.notify_all();
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// Maintenance

absl::Status Coordinator::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = NowMs();
  auto silent = [&](const AgentEntry& agent) {
    const bool alive = agent.agent.state() == v1::AGENT_STATE_IDLE ||
                       agent.agent.state() == v1::AGENT_STATE_MEASURING;
    return alive && now - agent.last_heartbeat_ms > options_.lost_after_ms;
  };
  auto overdue = [&](const std::string& task_key) {
    return tasks_.at(task_key).lease_deadline_unix_ms() < now;
  };
  // Most ticks find nothing to do: look before taking the rollback snapshots below, which copy
  // every task the server knows.
  const bool any_silent = std::any_of(agents_.begin(), agents_.end(),
                                      [&](const auto& entry) { return silent(entry.second); });
  const bool any_overdue = std::any_of(leases_.begin(), leases_.end(),
                                       [&](const auto& entry) { return overdue(entry.second); });
  if (!any_silent && !any_overdue) return absl::OkStatus();
  // Snapshots for rollback when the write fails.
  const auto tasks_before = tasks_;
  const auto agents_before = agents_;
  const auto queues_before = queues_;
  const auto leases_before = leases_;
  WriteBatch batch;
  std::set<std::string> touched;
  for (auto& [id, agent] : agents_) {
    if (silent(agent)) {
      agent.agent.set_state(v1::AGENT_STATE_LOST);
      PutAgent(batch, agent);
      if (!agent.lease_id.empty()) {
        auto lease = leases_.find(agent.lease_id);
        if (lease != leases_.end()) ExpireLease(lease->second, "agent lost", batch, touched);
      }
    }
  }
  std::vector<std::string> expired;
  for (const auto& [lease_id, key] : leases_) {
    if (overdue(key)) expired.push_back(key);
  }
  for (const std::string& key : expired) ExpireLease(key, "lease expired", batch, touched);
  std::map<std::string, JobEntry> jobs;
  for (const std::string& id : touched) {
    JobEntry job = jobs_.at(id);
    RefreshJob(job);
    PutJob(batch, job.job);
    jobs[id] = job;
  }
  absl::Status written = Persist(batch, Durability::kBuffered);
  if (!written.ok()) {
    tasks_ = tasks_before;
    agents_ = agents_before;
    queues_ = queues_before;
    leases_ = leases_before;
    return written;
  }
  for (auto& [id, job] : jobs) jobs_[id] = job;
  if (!batch.empty()) changed_.notify_all();
  return absl::OkStatus();
}

void Coordinator::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  changed_.notify_all();
}

}  // namespace hat
