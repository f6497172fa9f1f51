// The coordinator's FleetService half: agents register, heartbeat, lease tasks and report
// measurements. Same pattern as coordinator.cc: persist first, then change memory.
#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "server/coordinator.h"
#include "server/coordinator_helpers.h"
#include "server/storage/record_codec.h"

namespace hat {

using coordinator_internal::CheckName;
using coordinator_internal::LeaseAttempt;
using coordinator_internal::LeaseId;
using coordinator_internal::Stamp;

// ---------------------------------------------------------------------------------------------
// FleetService

absl::StatusOr<v1::RegisterAgentResponse> Coordinator::RegisterAgent(
    const v1::RegisterAgentRequest& req) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", req.device_class(), false));
  HAT_RETURN_IF_ERROR(CheckName("host_group", req.host_group(), true));
  if (req.hostname().size() > 255 || req.agent_version().size() > 64) {
    return absl::InvalidArgumentError("hostname or agent_version too long");
  }
  absl::MutexLock lock(&mu_);
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
  changed_.SignalAll();
  return resp;
}

absl::StatusOr<v1::HeartbeatResponse> Coordinator::Heartbeat(const v1::HeartbeatRequest& req) {
  absl::MutexLock lock(&mu_);
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
  absl::MutexLock lock(&mu_);
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
      task.set_lease_id(LeaseId(key, task.task().attempt()));
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
        changed_.SignalAll();
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
    changed_.WaitWithTimeout(&mu_, absl::Milliseconds(std::min<int64_t>(200, deadline_ms - now)));
  }
}

absl::StatusOr<v1::ReportResultResponse> Coordinator::ReportResult(
    const v1::ReportResultRequest& req) {
  uint64_t ticket = 0;
  HAT_ASSIGN_OR_RETURN(v1::ReportResultResponse resp, ReportResultLocked(req, &ticket));
  // Without the lock: one sync makes this report durable with every other written meanwhile.
  HAT_RETURN_IF_ERROR(Annotate(group_commit_.WaitDurable(ticket), "storage"));
  return resp;
}

absl::StatusOr<v1::ReportResultResponse> Coordinator::ReportResultLocked(
    const v1::ReportResultRequest& req, uint64_t* ticket) {
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
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(result.task_id());
  if (it == tasks_.end()) {
    return absl::NotFoundError(
        absl::StrCat("result.task_id '", result.task_id().substr(0, 80), "' names no task"));
  }
  const std::string key = it->first;
  // Agents report under the lease LeaseTask gave them. Any lease the task has had counts (a late
  // report after its lease expired carries a real measurement); an id that names none comes from
  // a confused client, and its measurement cannot be trusted to be of this task. (A released
  // lease gave its attempt back: its number names no lease until the next one takes it.)
  const int leases = it->second.task().attempt();
  const int attempt = LeaseAttempt(req.lease_id(), key);
  if (attempt < 1 || attempt > leases) {
    return absl::InvalidArgumentError(absl::StrCat(
        "lease_id '", req.lease_id().substr(0, 100), "' is not a lease of task ", key,
        leases == 0 ? " (it was never leased)"
                    : absl::StrCat(" (its leases are ", LeaseId(key, 1), " to #", leases, ")")));
  }
  v1::ReportResultResponse resp;
  // Answers that report what other calls wrote ("the first one counted") wait until it is durable.
  *ticket = group_commit_.Newest();
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
  if (!result.error().empty() && req.lease_id() != task.lease_id()) {
    // A late failure is no measurement: the task stays with its queue or its new holder.
    resp.set_stored(false);
    return resp;
  }
  JobEntry& job = jobs_.at(task.task().job_id());
  WriteBatch batch;
  // The task is QUEUED (its lease expired: this report is late, and the task leaves the queue) or
  // LEASED: to the reporter, or after an expiry to another agent, whose lease ends here (its
  // heartbeat then gets cancel_lease and its own report is a duplicate).
  const bool queued = state == v1::TASK_STATE_QUEUED;
  const std::string current_lease = task.lease_id();
  std::optional<AgentEntry> holder;
  auto agent = agents_.find(task.agent_id());
  if (!current_lease.empty() && agent != agents_.end() && agent->second.lease_id == current_lease) {
    holder = agent->second;
    holder->lease_id.clear();
    holder->agent.set_state(v1::AGENT_STATE_IDLE);
  }
  // Credit the agent that measured: after a re-lease, the late reporter may not be the holder.
  std::optional<AgentEntry> reporter;
  if (result.error().empty()) {
    v1::Agent* credited = nullptr;
    if (holder && holder->agent.agent_id() == req.agent_id()) {
      credited = &holder->agent;
    } else if (auto r = agents_.find(req.agent_id()); r != agents_.end()) {
      reporter = r->second;
      credited = &reporter->agent;
    }
    if (credited != nullptr) {
      credited->set_measurements_done(credited->measurements_done() + 1);
      *credited->mutable_last_condition() = result.condition();
      if (result.condition().throttled()) {
        credited->set_measurements_throttled(credited->measurements_throttled() + 1);
      }
    }
    if (reporter) PutAgent(batch, *reporter);
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
  // Buffered under the lock (in order, atomically, visible at once), synced by ReportResult.
  HAT_RETURN_IF_ERROR(Persist(batch, Durability::kBuffered));
  *ticket = group_commit_.Newest();  // this write's: every write is made under mu_
  if (queued) queues_[task.device_class()].erase({task.queued_seq(), key});
  if (!current_lease.empty()) leases_.erase(current_lease);
  tasks_[key] = task;
  if (holder) agents_[holder->agent.agent_id()] = *holder;
  if (reporter) agents_[reporter->agent.agent_id()] = *reporter;
  job.job = std::move(updated);
  job.counts = counts;
  ++job.version;
  changed_.SignalAll();
  if (result.error().empty() && options_.on_measurement_stored) {
    options_.on_measurement_stored(task.device_class(), result);
  }
  resp.set_stored(result.error().empty());
  return resp;
}

absl::Status Coordinator::ReleaseLease(const v1::ReleaseLeaseRequest& req) {
  absl::MutexLock lock(&mu_);
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
  changed_.SignalAll();
  return absl::OkStatus();
}

v1::ListAgentsResponse Coordinator::ListAgents(const std::string& device_class) {
  v1::ListAgentsRequest req;
  req.set_device_class(device_class);  // page_size 0: every agent
  absl::StatusOr<v1::ListAgentsResponse> all = ListAgents(req);
  // Only a malformed class name fails, and no agent has one.
  return all.ok() ? *std::move(all) : v1::ListAgentsResponse();
}

}  // namespace hat
