// The coordinator's core: recovery, persistence, job and task bookkeeping, maintenance; its RPC
// halves are coordinator_fleet.cc, coordinator_jobs.cc and coordinator_predictors.cc. See
// coordinator.h for the contract. Every mutation follows one pattern: compute the new records,
// Persist() them in one batch, and only then change memory and wake waiters, so a failed write
// changes nothing and nothing unwritten is acknowledged.
#include "server/coordinator.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/proto_conversions.h"
#include "common/status_macros.h"
#include "server/coordinator_helpers.h"
#include "server/storage/record_codec.h"

namespace hat {
namespace {

using coordinator_internal::Stamp;
using coordinator_internal::TaskKey;
using google::protobuf::util::TimeUtil;

constexpr char kMetaKey[] = "server";

}  // namespace

bool IsTerminal(v1::JobState state) {
  return state == v1::JOB_STATE_SUCCEEDED || state == v1::JOB_STATE_FAILED ||
         state == v1::JOB_STATE_CANCELLED;
}

Coordinator::Coordinator(std::unique_ptr<KvStore> store, CoordinatorOptions options)
    : store_(std::move(store)), options_(std::move(options)), group_commit_(store_.get()) {
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
  absl::MutexLock lock(&mu_);
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
  HAT_RETURN_IF_ERROR(
      scan(Table::kAgents,
           [&](const std::string& k, const std::string& v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
             AgentEntry a;
             HAT_RETURN_IF_ERROR(DecodeRecord(v, "agent " + k, &a.agent));
             // Agents get the recovery grace from the restart to show they are still there.
             a.last_heartbeat_ms =
                 now + std::max<int64_t>(0, options_.recovery_grace_ms - options_.lost_after_ms);
             agents_[k] = std::move(a);
             return absl::OkStatus();
           }));
  HAT_RETURN_IF_ERROR(status);
  HAT_RETURN_IF_ERROR(scan(Table::kJobs,
                           [&](const std::string& k, const std::string& v)
                               ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                                 JobEntry j;
                                 HAT_RETURN_IF_ERROR(DecodeRecord(v, "job " + k, &j.job));
                                 jobs_[k] = std::move(j);
                                 return absl::OkStatus();
                               }));
  HAT_RETURN_IF_ERROR(status);
  HAT_RETURN_IF_ERROR(
      scan(Table::kTasks,
           [&](const std::string& k, const std::string& v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
             v1::TaskRecord t;
             HAT_RETURN_IF_ERROR(DecodeRecord(v, "task " + k, &t));
             auto job = jobs_.find(t.task().job_id());
             if (job == jobs_.end())
               return absl::DataLossError(absl::StrCat("task ", k, ": no job"));
             job->second.task_keys.push_back(k);
             if (t.state() == v1::TASK_STATE_QUEUED) Enqueue(k, t);
             if (t.state() == v1::TASK_STATE_LEASED) {
               // Leases also outlive the restart by the grace (in memory; written on the next
               // change).
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
  HAT_RETURN_IF_ERROR(scan(Table::kPredictors,
                           [&](const std::string& k, const std::string& v)
                               ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
                                 v1::StoredPredictor p;
                                 HAT_RETURN_IF_ERROR(DecodeRecord(v, "predictor " + k, &p));
                                 int64_t& latest = latest_predictor_[p.device_class()];
                                 latest = std::max(latest, p.version());
                                 return absl::OkStatus();
                               }));
  HAT_RETURN_IF_ERROR(status);
  for (auto& [id, job] : jobs_) {
    job.counts = CountTasks(job);
    // A server job that was running when the server stopped runs again, from the state it
    // saved (the RUNNING state is written again when a runner claims it).
    if (IsServerJob(job.job.spec()) && job.job.state() == v1::JOB_STATE_RUNNING) {
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
  HAT_RETURN_IF_ERROR(Annotate(group_commit_.Broken(), "storage"));
  HAT_RETURN_IF_ERROR(Annotate(store_->Write(batch, Durability::kBuffered), "storage"));
  const uint64_t ticket = group_commit_.Written();
  if (durability == Durability::kBuffered) return absl::OkStatus();
  // Synced under the lock (the rare writes; reports sync after it): a failed sync, wherever it
  // happens, is seen by group_commit_ and stops every later write.
  return Annotate(group_commit_.WaitDurable(ticket), "storage");
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
  if (!IsTerminal(job.state()) && c.ended == total) {
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
// Maintenance

absl::Status Coordinator::Tick() {
  absl::MutexLock lock(&mu_);
  const int64_t now = NowMs();
  auto silent = [&](const AgentEntry& agent) {
    const bool alive = agent.agent.state() == v1::AGENT_STATE_IDLE ||
                       agent.agent.state() == v1::AGENT_STATE_MEASURING;
    return alive && now - agent.last_heartbeat_ms > options_.lost_after_ms;
  };
  auto overdue = [&](const std::string& task_key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return tasks_.at(task_key).lease_deadline_unix_ms() < now;
  };
  // Most ticks find nothing to do: look before taking the rollback snapshots below, which copy
  // every task the server knows.
  const bool any_silent = std::any_of(agents_.begin(), agents_.end(),
                                      [&](const auto& entry) { return silent(entry.second); });
  const bool any_overdue = std::any_of(
      leases_.begin(), leases_.end(),
      [&](const auto& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return overdue(entry.second); });
  if (!any_silent && !any_overdue) return absl::OkStatus();
  // Snapshots for rollback when the write fails.
  const auto tasks_before = tasks_;
  const auto agents_before = agents_;
  const auto queues_before = queues_;
  const auto leases_before = leases_;
  WriteBatch batch;
  std::set<std::string> touched;
  std::map<std::string, int64_t> expiries;  // by device class, counted once the write succeeds
  for (auto& [id, agent] : agents_) {
    if (silent(agent)) {
      agent.agent.set_state(v1::AGENT_STATE_LOST);
      PutAgent(batch, agent);
      if (!agent.lease_id.empty()) {
        auto lease = leases_.find(agent.lease_id);
        if (lease != leases_.end()) {
          ++expiries[tasks_.at(lease->second).device_class()];
          ExpireLease(lease->second, "agent lost", batch, touched);
        }
      }
    }
  }
  std::vector<std::string> expired;
  for (const auto& [lease_id, key] : leases_) {
    if (overdue(key)) expired.push_back(key);
  }
  for (const std::string& key : expired) {
    ++expiries[tasks_.at(key).device_class()];
    ExpireLease(key, "lease expired", batch, touched);
  }
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
  for (const auto& [device_class, n] : expiries) lease_expiries_[device_class] += n;
  if (!batch.empty()) changed_.SignalAll();
  return absl::OkStatus();
}

void Coordinator::Shutdown() {
  absl::MutexLock lock(&mu_);
  shutdown_ = true;
  changed_.SignalAll();
}

}  // namespace hat
