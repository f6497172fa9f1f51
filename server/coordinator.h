// Coordinator: the core of hat-server, without gRPC. It keeps the fleet (agents), per device
// class task queues with leases, and jobs, persists every change to a KvStore before
// acknowledging it, and recovers all of it when reopened on the same store.
//
// Fleet: agents register under a device class and may declare a host group; agents of one host
// group never hold leases at the same time (their measurements would disturb each other). An
// agent that misses heartbeats for `lost_after` is marked LOST and its lease returns to the
// queue. Leases: one per agent at a time, with a deadline that heartbeats extend; an expired
// lease goes back to the queue until `max_attempts`, then the task fails. Reports are
// idempotent: the first report of a task stores its measurement, later ones (duplicates) change
// nothing. A late report (its lease expired) is such a first report when it comes first: the
// measurement is real, so it is stored once and the task leaves its queue, or the agent that
// holds it since loses that lease.
//
// Thread safety: every method may be called concurrently (one absl::Mutex, its members
// annotated; storage writes happen under it so memory and store never disagree). LeaseTask and
// WaitJobChange block up to their deadline, releasing the mutex while they wait.
#ifndef HATFLEET_SERVER_COORDINATOR_H_
#define HATFLEET_SERVER_COORDINATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/subtransformer_config.h"
#include "hat/v1/artifact.pb.h"
#include "hat/v1/fleet_service.pb.h"
#include "hat/v1/job_service.pb.h"
#include "hat/v1/predictor.pb.h"
#include "hat/v1/store.pb.h"
#include "server/storage/group_commit.h"
#include "server/storage/kv_store.h"

namespace hat {

// Most measurements of one config a latency-dataset job may ask for (its `repeats`).
inline constexpr int kMaxMeasurementRepeats = 20;

struct CoordinatorOptions {
  int64_t heartbeat_interval_ms = 5000;
  int64_t lost_after_ms = 20000;       // no heartbeat this long: agent LOST, lease expired
  int64_t lease_duration_ms = 120000;  // extended by each heartbeat naming the lease
  int max_attempts = 3;                // leases of one task before it fails
  // After a restart, agents get this long to reconnect (their backoff may be several seconds)
  // before they count as lost and their leases expire: a server restart is not their fault.
  int64_t recovery_grace_ms = 30000;
  int max_configs_per_job = 100000;
  int max_samples_per_result = 100000;   // raw samples per component in a report
  std::function<int64_t()> now_unix_ms;  // wall clock; default: the system clock
  // Where artifact files live (hat-server: DATA_DIR/artifacts); empty: no artifacts.
  std::string artifacts_dir;
  // Called for every measurement stored (hat-server: its metrics), with the coordinator's lock
  // held: it must be cheap and must not call the coordinator. Unset: nothing is called.
  std::function<void(const std::string& device_class, const v1::MeasurementResult& result)>
      on_measurement_stored;
};

// SUCCEEDED, FAILED or CANCELLED: a job in this state changes no more.
bool IsTerminal(v1::JobState state);
// Whether the server executes jobs of this kind itself (a JobRunner), rather than the fleet.
bool IsServerJob(const v1::JobSpec& spec);

// A server job handed to a runner, with the state it saved in an earlier run (empty if none).
struct ClaimedJob {
  v1::Job job;
  std::string saved_state;
};

// A file a server job made, to become an artifact when the job succeeds.
struct ArtifactFile {
  std::string path;     // in CoordinatorOptions::artifacts_dir (installed by a rename)
  v1::Artifact header;  // kind, size, sha256, filename, description, space
};

// What a server job made.
struct ServerJobOutput {
  v1::JobResult result;
  std::optional<v1::StoredPredictor> predictor;  // stored as the class's next version
  // Installed as artifacts; the first one's id goes into result.artifact_id.
  std::vector<ArtifactFile> artifacts;
};

class Coordinator {
 public:
  // Recovers agents, jobs, tasks, queues and leases from `store`.
  static absl::StatusOr<std::unique_ptr<Coordinator>> Open(std::unique_ptr<KvStore> store,
                                                           CoordinatorOptions options);
  ~Coordinator();

  // --- FleetService ---
  absl::StatusOr<v1::RegisterAgentResponse> RegisterAgent(const v1::RegisterAgentRequest& req);
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& req);
  // Long poll: returns a task, or an empty response at `deadline_ms` (or when `cancelled`
  // returns true, or at Shutdown). `cancelled` (here and in WaitJobChange) is called with the
  // coordinator's lock held: it must not call the coordinator.
  absl::StatusOr<v1::LeaseTaskResponse> LeaseTask(const v1::LeaseTaskRequest& req,
                                                  int64_t deadline_ms,
                                                  const std::function<bool()>& cancelled);
  // INVALID_ARGUMENT when `req.lease_id` is none of the task's leases. A failure reported under
  // a lease that is no longer current changes nothing (stored=false). Answers once what it
  // reports on is durable: the write happens under the lock, its sync after it, shared with the
  // reports written meanwhile (group commit).
  absl::StatusOr<v1::ReportResultResponse> ReportResult(const v1::ReportResultRequest& req)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status ReleaseLease(const v1::ReleaseLeaseRequest& req);

  // --- JobService ---
  absl::StatusOr<v1::Job> SubmitJob(const v1::SubmitJobRequest& req);
  absl::StatusOr<v1::Job> GetJob(const std::string& job_id);
  absl::StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& req);
  absl::StatusOr<v1::Job> CancelJob(const std::string& job_id);
  // The job once its version exceeds `known_version` (or at `deadline_ms`, or Shutdown), with
  // its new version. Version 0 returns at once.
  absl::StatusOr<std::pair<v1::Job, int64_t>> WaitJobChange(const std::string& job_id,
                                                            int64_t known_version,
                                                            int64_t deadline_ms,
                                                            const std::function<bool()>& cancelled);
  v1::ListAgentsResponse ListAgents(const std::string& device_class);
  // A page of agents, ordered by id (page_size 0: every agent). INVALID_ARGUMENT for a page size
  // over 1000 or a malformed page token.
  absl::StatusOr<v1::ListAgentsResponse> ListAgents(const v1::ListAgentsRequest& req);
  // Agents by state, tasks by state and lease expiries per device class, jobs by state: counts
  // kept in memory, so it costs O(agents + jobs), never a scan of tasks or measurements.
  v1::FleetSummary Summary();
  // Writes to the store and the syncs that made them durable (several writes share a sync).
  GroupCommit::Stats StoreWriteStats() const { return group_commit_.stats(); }
  // The distribution of the device class's stored latencies in `bins` bins (a scan of its
  // measurements: for dashboards, not for hot paths).
  absl::StatusOr<v1::LatencyHistogram> LatencyDistribution(const std::string& device_class,
                                                           int bins);
  // The stored measurements of a device class: HAT's CSV or JSON lines with everything.
  absl::StatusOr<std::string> ExportDataset(const std::string& device_class,
                                            v1::ExportFormat format);

  // What Export sends for a job: a latency-dataset job's measurements in `format`, a predictor
  // job's predictor file, a SuperTransformer job's checkpoint (streamed from `file`).
  // FAILED_PRECONDITION when the job has no results (yet).
  struct JobExport {
    std::string filename;
    std::string data;  // the bytes, unless `file` is set
    std::string file;
  };
  absl::StatusOr<JobExport> ExportJob(const std::string& job_id, v1::ExportFormat format);

  // The stored measurements of a device class, in storage-key order (job, then config index).
  absl::StatusOr<std::vector<v1::MeasurementResult>> Measurements(const std::string& device_class);

  // --- Jobs the server executes itself (run by a JobRunner, outside the lock) ---
  // Waits until a queued job of one of `kinds` exists (or `deadline_ms`, or Shutdown), marks it
  // RUNNING and returns it with the state it saved before a restart; nullopt when none came.
  absl::StatusOr<std::optional<ClaimedJob>> ClaimServerJob(
      const std::set<v1::JobSpec::KindCase>& kinds, int64_t deadline_ms);
  // Progress of a claimed job; written buffered (losing the last one to a crash is harmless).
  absl::Status ReportServerJobProgress(const std::string& job_id, const v1::JobProgress& progress);
  // Durably replaces the claimed job's saved state (kept until the job ends).
  absl::Status SaveServerJobState(const std::string& job_id, std::string state);
  // Whether a claimed job should go on: it is still RUNNING and the coordinator is not shutting
  // down. Long work asks this to stop early.
  bool ServerJobWanted(const std::string& job_id);
  // Ends a claimed job. On success, in one write: the job SUCCEEDS with `output.result`, its
  // predictor is stored as its device class's next version, its artifact files are installed
  // under new ids, and its saved state is deleted. A failure FAILS the job with the message. A
  // job cancelled meanwhile stays cancelled and nothing is stored. CANCELLED `output` (stopped
  // for a shutdown) writes nothing: the job is queued again when the server restarts.
  absl::Status FinishServerJob(const std::string& job_id, absl::StatusOr<ServerJobOutput> output);

  // --- Artifacts (files under CoordinatorOptions::artifacts_dir, records in the store) ---
  // Installs `file` (moved, not copied; same file system) as a new artifact described by
  // `header` (kind, size, sha256, filename, ...) and returns it with its id.
  absl::StatusOr<v1::Artifact> AddArtifact(v1::Artifact header, const std::string& file);
  absl::StatusOr<v1::ListArtifactsResponse> ListArtifacts(v1::ArtifactKind kind);
  // The record and the file's path; NOT_FOUND names the id.
  absl::StatusOr<std::pair<v1::Artifact, std::string>> GetArtifact(const std::string& id);
  // --- Fitness cache (search jobs): validation losses by fitness identity and config key ---
  absl::StatusOr<std::optional<double>> GetFitness(const std::string& fitness,
                                                   const std::string& config_key);
  absl::Status PutFitness(const std::string& fitness, const std::string& config_key, double loss);

  // Where uploads and jobs write files before they become artifacts.
  const std::string& artifacts_dir() const { return options_.artifacts_dir; }

  // `version` 0 = the latest. NOT_FOUND names the device class and version.
  absl::StatusOr<v1::StoredPredictor> GetPredictor(const std::string& device_class,
                                                   int64_t version);
  // Every stored predictor (of one class, or all), oldest first, without model weights.
  absl::StatusOr<v1::ListPredictorsResponse> ListPredictors(const std::string& device_class);

  // Uncertainty sampling: every latency-dataset job with strategy UNCERTAINTY whose tasks have
  // all ended but has fewer than it asked for gets its next batch: the cost-linear predictor is
  // fitted on the job's measurements and half the batch are the sampled configs it is least sure
  // of, half random ones (predictor/active_sampling.h). Run periodically (hat-server: every
  // second) and by tests.
  absl::Status AdvanceActiveSampling();

  // Expires overdue leases and marks silent agents lost. Run periodically (hat-server: every
  // second) and by tests.
  absl::Status Tick();

  // Wakes every waiting call; later long polls return at once.
  void Shutdown();

  int64_t NowMs() const { return options_.now_unix_ms(); }

 private:
  struct AgentEntry {
    v1::Agent agent;
    int64_t last_heartbeat_ms = 0;
    std::string lease_id;  // empty when idle
  };
  // How many of a job's tasks have ended, and how.
  struct TaskCounts {
    int64_t done = 0;
    int64_t failed = 0;
    int64_t ended = 0;  // done + failed + cancelled
  };
  struct JobEntry {
    v1::Job job;
    int64_t version = 1;
    std::vector<std::string> task_keys;
    TaskCounts counts;  // kept up to date so a report costs O(1), not O(tasks)
  };

  Coordinator(std::unique_ptr<KvStore> store, CoordinatorOptions options);
  // ReportResult's work under the lock; `ticket` is the write to wait for before answering.
  absl::StatusOr<v1::ReportResultResponse> ReportResultLocked(const v1::ReportResultRequest& req,
                                                              uint64_t* ticket)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Recover() ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::Job> SubmitLatencyDatasetJob(const v1::SubmitJobRequest& req);
  absl::StatusOr<v1::Job> SubmitPredictorJob(const v1::SubmitJobRequest& req);
  absl::StatusOr<v1::Job> SubmitSupernetJob(const v1::SubmitJobRequest& req);
  absl::StatusOr<v1::Job> SubmitSearchJob(const v1::SubmitJobRequest& req);
  // A QUEUED server job of `spec` with `total` units.
  absl::StatusOr<v1::Job> SubmitServerJob(const v1::SubmitJobRequest& req, const v1::JobSpec& spec,
                                          int64_t total) ABSL_LOCKS_EXCLUDED(mu_);
  // The job submitted earlier with this non-empty key, if any.
  const v1::Job* FindByIdempotencyKey(const std::string& key) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // kSync for what is acknowledged to clients (registrations, jobs, cancellations): written and
  // synced before it returns; kBuffered for lease bookkeeping (kv_store.h says why that is safe)
  // and for reports, which ReportResult syncs after releasing the lock. Both go through
  // group_commit_, so a failed sync anywhere stops every later write.
  absl::Status Persist(const WriteBatch& batch, Durability durability = Durability::kSync)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PutTask(WriteBatch& batch, const v1::TaskRecord& task) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PutJob(WriteBatch& batch, const v1::Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PutAgent(WriteBatch& batch, const AgentEntry& agent) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Persists `batch` with `meta` as the new server meta; meta_ changes only on success.
  absl::Status PersistWithMeta(WriteBatch& batch, const v1::ServerMeta& meta)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Enqueue(const std::string& task_key, const v1::TaskRecord& task)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts the job's tasks by state (a scan: for the rare paths and recovery).
  TaskCounts CountTasks(const JobEntry& job) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Progress, rate, ETA and final state of `job` from `counts` of `total` tasks.
  void FillProgress(v1::Job& job, int64_t total, const TaskCounts& counts) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A queued task of latency-dataset `job` measuring `config`; takes a queue sequence from `meta`.
  v1::TaskRecord NewTask(const v1::Job& job, int index, const SubTransformerConfig& config,
                         v1::ServerMeta& meta) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A QUEUED job for `req` with `total` units of work; takes a job number from `meta`.
  v1::Job NewJob(const v1::SubmitJobRequest& req, int64_t total, v1::ServerMeta& meta) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `entry.job`, `meta` and a queued task per config (numbered after the job's existing
  // tasks) in one batch; only once that succeeded are the tasks added to `entry` and queued.
  absl::Status WriteWithNewTasks(JobEntry& entry, const std::vector<SubTransformerConfig>& configs,
                                 v1::ServerMeta& meta) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Stored measurements under a key prefix ("<class>/" or "<class>/<job>/"), in key order.
  absl::StatusOr<std::vector<v1::MeasurementResult>> ScanMeasurements(const std::string& prefix);
  // An uncertainty-sampling job due for its next batch, copied under the lock so that the batch
  // is chosen (a predictor fitted: seconds) without it.
  struct SamplingRound {
    v1::Job job;
    int64_t have = 0;          // tasks the job had when the round was taken
    std::set<uint64_t> known;  // their config ids: never sampled again
  };
  // The configs of the round's batch (empty: the space is exhausted) and how they were chosen.
  absl::StatusOr<std::pair<std::vector<SubTransformerConfig>, std::string>> ChooseSamplingBatch(
      const SamplingRound& round) ABSL_LOCKS_EXCLUDED(mu_);
  // Stores and queues `batch`, unless the job changed since the round was taken.
  absl::Status CommitSamplingRound(const SamplingRound& round,
                                   std::vector<SubTransformerConfig> batch, const std::string& how)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Tasks the job will have when it ends (more than it has now while uncertainty sampling runs).
  int64_t PlannedTasks(const JobEntry& entry) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Recounts, refills progress and bumps the version.
  void RefreshJob(JobEntry& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Returns a leased task to its queue (or fails it after max attempts); updates `batch`.
  // `task_key` is taken by value: callers pass references into maps this erases from.
  void ExpireLease(std::string task_key, const std::string& reason, WriteBatch& batch,
                   std::set<std::string>& touched_jobs) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HostGroupBusy(const AgentEntry& agent) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where artifact `id`'s file lives.
  std::string ArtifactPath(const std::string& id) const;
  // Gives `header` the next artifact id (taken from `meta`) and its creation time, moves `file`
  // into place and adds the record to `batch`. Returns where the file went: the caller moves it
  // back when the batch is not written.
  absl::StatusOr<std::string> InstallArtifact(const std::string& file, v1::Artifact& header,
                                              int64_t now_ms, v1::ServerMeta& meta,
                                              WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction (the store is thread-safe itself).
  std::unique_ptr<KvStore> store_;
  CoordinatorOptions options_;
  // Reports are written under mu_ and synced without it, many to one sync. Once a sync failed,
  // Persist() refuses every write (group_commit.h says why).
  GroupCommit group_commit_;

  // Guarded by mu_: memory that mirrors the store. Nothing slow runs while it is held (no fits,
  // no training, no scans of measurements); clang's -Wthread-safety checks the annotations
  // (ctest CoordinatorThreadSafety).
  mutable absl::Mutex mu_;
  absl::CondVar changed_;  // tasks queued, leases freed, jobs updated, shutdown
  bool shutdown_ ABSL_GUARDED_BY(mu_) = false;
  v1::ServerMeta meta_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, AgentEntry> agents_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, JobEntry> jobs_ ABSL_GUARDED_BY(mu_);
  // By task key ("<job>/<index>").
  std::map<std::string, v1::TaskRecord> tasks_ ABSL_GUARDED_BY(mu_);
  // Per device class: (queue sequence, task key), oldest first.
  std::map<std::string, std::set<std::pair<int64_t, std::string>>> queues_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> leases_ ABSL_GUARDED_BY(mu_);  // lease id -> task key
  // Device class -> newest stored version.
  std::map<std::string, int64_t> latest_predictor_ ABSL_GUARDED_BY(mu_);
  // Device class -> leases that expired or whose agent was lost, since this process started.
  std::map<std::string, int64_t> lease_expiries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace hat

#endif  // HATFLEET_SERVER_COORDINATOR_H_
