// The coordinator's JobService half: submitting, listing, cancelling and watching jobs,
// exporting measurements, and the uncertainty-sampling rounds of latency-dataset jobs.
#include <algorithm>
#include <chrono>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "common/builtin_spaces.h"
#include "common/prng.h"
#include "common/proto_conversions.h"
#include "common/sampling.h"
#include "common/status_macros.h"
#include "measure/measure_proto.h"
#include "predictor/active_sampling.h"
#include "predictor/latency_predictor.h"
#include "search/sweep.h"
#include "server/coordinator.h"
#include "server/coordinator_helpers.h"
#include "server/corpus_root.h"
#include "server/dataset_export.h"
#include "server/predictor_job.h"
#include "server/search_options.h"
#include "server/storage/record_codec.h"

namespace hat {

using coordinator_internal::CheckName;
using coordinator_internal::Stamp;

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
    case v1::JobSpec::kSupernetTraining:
      return SubmitSupernetJob(req);
    case v1::JobSpec::kSearch:
      return SubmitSearchJob(req);
    case v1::JobSpec::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("spec: no job kind set");
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
  v1::JobSpec full = req.spec();
  *full.mutable_predictor_training() = spec;
  return SubmitServerJob(req, full, /*total=*/1);
}

absl::StatusOr<v1::Job> Coordinator::SubmitSupernetJob(const v1::SubmitJobRequest& req) {
  v1::SupernetTrainingJobSpec spec = req.spec().supernet_training();
  absl::StatusOr<DesignSpace> space = BuiltinSpace(spec.space_name());
  if (!space.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("supernet_training.space_name: ", space.status().message()));
  }
  HAT_RETURN_IF_ERROR(CheckCorpusName("supernet_training.corpus", spec.corpus()));
  auto check_range = [](const char* field, int64_t value, int64_t lo, int64_t hi) {
    if (value >= lo && value <= hi) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("supernet_training.", field, "=", value, ": must be in [", lo, ", ", hi, "]"));
  };
  HAT_RETURN_IF_ERROR(check_range("steps", spec.steps(), 1, 10000000));
  HAT_RETURN_IF_ERROR(check_range("threads", spec.threads(), 0, 256));
  HAT_RETURN_IF_ERROR(check_range("save_every", spec.save_every(), 0, 10000000));
  HAT_RETURN_IF_ERROR(check_range("max_tokens", spec.max_tokens(), 0, 1000000));
  HAT_RETURN_IF_ERROR(check_range("warmup", spec.warmup(), 0, 10000000));
  HAT_RETURN_IF_ERROR(check_range("valid_sentences", spec.valid_sentences(), 0, 10000000));
  HAT_RETURN_IF_ERROR(check_range("vocab_size", spec.vocab_size(), 0, 1000000));
  HAT_RETURN_IF_ERROR(check_range("workers", spec.workers(), 0, 64));
  if (!(spec.lr() >= 0 && spec.lr() < 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("supernet_training.lr=", spec.lr(), ": must be in [0, 1) (0: 5e-4)"));
  }
  // Defaults are filled in so the stored job says what ran.
  if (spec.threads() == 0) spec.set_threads(1);
  if (spec.save_every() == 0) spec.set_save_every(100);
  if (spec.max_tokens() == 0) spec.set_max_tokens(4096);
  if (spec.lr() == 0) spec.set_lr(5e-4);
  if (spec.warmup() == 0) spec.set_warmup(4000);
  if (spec.vocab_size() == 0) spec.set_vocab_size(10000);
  if (spec.workers() == 0) spec.set_workers(1);
  v1::JobSpec full = req.spec();
  *full.mutable_supernet_training() = spec;
  return SubmitServerJob(req, full, spec.steps());
}

absl::StatusOr<v1::Job> Coordinator::SubmitSearchJob(const v1::SubmitJobRequest& req) {
  v1::SearchJobSpec spec = req.spec().search();
  if (spec.supernet_artifact().empty()) {
    return absl::InvalidArgumentError(
        "search.supernet_artifact: name the SuperTransformer (hatctl artifacts list)");
  }
  absl::StatusOr<std::pair<v1::Artifact, std::string>> artifact =
      GetArtifact(spec.supernet_artifact());
  if (!artifact.ok()) return Annotate(artifact.status(), "search.supernet_artifact");
  if (artifact->first.kind() != v1::ARTIFACT_KIND_SUPERNET_CHECKPOINT) {
    return absl::InvalidArgumentError(
        absl::StrCat("search.supernet_artifact: ", spec.supernet_artifact(),
                     " is not a SuperTransformer checkpoint"));
  }
  if (!spec.corpus().empty()) HAT_RETURN_IF_ERROR(CheckCorpusName("search.corpus", spec.corpus()));
  std::vector<ConstraintSpec> constraints;
  for (int i = 0; i < spec.constraints_size(); ++i) {
    const v1::LatencyConstraintSpec& c = spec.constraints(i);
    const std::string field = absl::StrCat("search.constraints[", i, "]");
    HAT_RETURN_IF_ERROR(CheckName(field + ".device_class", c.device_class(), false));
    for (double limit : c.limits_ms()) {
      if (!(limit > 0) || limit > 1e9) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".limits_ms: ", limit, " is not a positive number of ms"));
      }
    }
    if (c.predictor_version() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".predictor_version: must be >= 0"));
    }
    // The predictor must exist now: a search cannot start without it.
    absl::StatusOr<v1::StoredPredictor> predictor =
        GetPredictor(c.device_class(), c.predictor_version());
    if (!predictor.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(field, ": ", predictor.status().message()));
    }
    constraints.push_back({c.device_class(), {c.limits_ms().begin(), c.limits_ms().end()}});
  }
  absl::StatusOr<std::vector<SweepPoint>> sweep = ExpandSweep(constraints);
  if (!sweep.ok()) return Annotate(sweep.status(), "search.constraints");
  // References: their shape now; their membership in the space when the job has loaded the
  // SuperTransformer (a built-in space can be checked now).
  constexpr int kMaxReferences = 16;
  if (spec.references_size() > kMaxReferences) {
    return absl::InvalidArgumentError(absl::StrCat("search.references: ", spec.references_size(),
                                                   " configs, at most ", kMaxReferences));
  }
  const absl::StatusOr<DesignSpace> builtin = BuiltinSpace(artifact->first.space_name());
  for (int i = 0; i < spec.references_size(); ++i) {
    const v1::NamedConfig& r = spec.references(i);
    const std::string field = absl::StrCat("search.references[", i, "]");
    HAT_RETURN_IF_ERROR(CheckName(field + ".name", r.name(), false));
    absl::StatusOr<SubTransformerConfig> config = FromProto(r.config());
    if (!config.ok()) return Annotate(config.status(), field);
    if (builtin.ok()) HAT_RETURN_IF_ERROR(Annotate(ValidateConfig(*config, *builtin), field));
  }
  if (spec.remeasure_repeats() < 0 || spec.remeasure_repeats() > kMaxMeasurementRepeats) {
    return absl::InvalidArgumentError(
        absl::StrCat("search.remeasure_repeats=", spec.remeasure_repeats(), ": must be in [0, ",
                     kMaxMeasurementRepeats, "] (0: 3)"));
  }
  if (spec.remeasure_repeats() == 0) spec.set_remeasure_repeats(3);
  if (spec.has_remeasure_protocol()) {
    absl::StatusOr<MeasurementProtocol> protocol = FromProto(spec.remeasure_protocol());
    if (!protocol.ok()) return Annotate(protocol.status(), "search.remeasure_protocol");
  }
  // HAT's settings where none is given; what is stored says what runs.
  if (spec.iterations() == 0) spec.set_iterations(30);
  if (spec.population() == 0 && spec.parents() == 0 && spec.mutations() == 0 &&
      spec.crossovers() == 0) {
    spec.set_population(125);
    spec.set_parents(25);
    spec.set_mutations(50);
    spec.set_crossovers(50);
  }
  if (spec.mutation_prob() == 0) spec.set_mutation_prob(0.3);
  if (spec.strategy().empty()) spec.set_strategy("evolution");
  if (spec.valid_sentences() == 0) spec.set_valid_sentences(500);
  if (spec.threads() == 0) spec.set_threads(2);
  HAT_ASSIGN_OR_RETURN(EvolutionOptions options, SearchOptions(spec));
  if (spec.valid_sentences() < 0 || spec.threads() < 0 || spec.threads() > 256) {
    return absl::InvalidArgumentError(
        "search.valid_sentences must be >= 0 and search.threads in [0, 256]");
  }
  v1::JobSpec full = req.spec();
  *full.mutable_search() = spec;
  const int64_t steps = options.Steps();
  return SubmitServerJob(req, full, static_cast<int64_t>(sweep->size()) * steps);
}

absl::StatusOr<v1::Job> Coordinator::SubmitServerJob(const v1::SubmitJobRequest& req,
                                                     const v1::JobSpec& spec, int64_t total) {
  absl::MutexLock lock(&mu_);
  if (const v1::Job* existing = FindByIdempotencyKey(req.idempotency_key())) return *existing;
  v1::ServerMeta meta = meta_;
  JobEntry entry;
  entry.job = NewJob(req, total, meta);
  *entry.job.mutable_spec() = spec;
  HAT_RETURN_IF_ERROR(WriteWithNewTasks(entry, {}, meta));
  jobs_[entry.job.job_id()] = entry;
  changed_.SignalAll();
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

  absl::MutexLock lock(&mu_);
  if (const v1::Job* existing = FindByIdempotencyKey(req.idempotency_key())) return *existing;
  v1::ServerMeta meta = meta_;
  JobEntry entry;
  entry.job = NewJob(req, active ? spec.num_configs() : static_cast<int64_t>(configs.size()), meta);
  ToProto(space, entry.job.mutable_spec()->mutable_latency_dataset()->mutable_design_space());
  ToProto(protocol, entry.job.mutable_spec()->mutable_latency_dataset()->mutable_protocol());
  HAT_RETURN_IF_ERROR(WriteWithNewTasks(entry, configs, meta));
  jobs_[entry.job.job_id()] = entry;
  changed_.SignalAll();
  return entry.job;
}

absl::StatusOr<v1::Job> Coordinator::GetJob(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
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
  absl::MutexLock lock(&mu_);
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
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) {
    return absl::NotFoundError(absl::StrCat("job '", job_id.substr(0, 80), "' does not exist"));
  }
  if (IsTerminal(it->second.job.state())) return it->second.job;
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
  // A server job's saved state is of no more use (its runner removes its work directory).
  if (IsServerJob(job.job.spec())) batch.Delete(Table::kJobCheckpoints, job_id);
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
  changed_.SignalAll();
  return job.job;
}

absl::StatusOr<std::pair<v1::Job, int64_t>> Coordinator::WaitJobChange(
    const std::string& job_id, int64_t known_version, int64_t deadline_ms,
    const std::function<bool()>& cancelled) {
  absl::MutexLock lock(&mu_);
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
    changed_.WaitWithTimeout(&mu_, absl::Milliseconds(std::max<int64_t>(1, wait)));
  }
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

absl::StatusOr<Coordinator::JobExport> Coordinator::ExportJob(const std::string& job_id,
                                                              v1::ExportFormat format) {
  HAT_ASSIGN_OR_RETURN(v1::Job job, GetJob(job_id));
  JobExport out;
  if (job.spec().has_latency_dataset()) {
    if (format != v1::EXPORT_FORMAT_HAT_CSV && format != v1::EXPORT_FORMAT_FULL) {
      return absl::InvalidArgumentError("format: expected HAT_CSV or FULL for a dataset job");
    }
    HAT_ASSIGN_OR_RETURN(std::vector<v1::MeasurementResult> rows,
                         ScanMeasurements(absl::StrCat(job.spec().latency_dataset().device_class(),
                                                       "/", job_id, "/")));
    HAT_ASSIGN_OR_RETURN(out.data, format == v1::EXPORT_FORMAT_HAT_CSV ? ExportHatCsv(rows)
                                                                       : ExportFullJsonLines(rows));
    out.filename = absl::StrCat(job_id, format == v1::EXPORT_FORMAT_HAT_CSV ? ".csv" : ".jsonl");
    return out;
  }
  if (job.state() != v1::JOB_STATE_SUCCEEDED) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, " has no results: it has not succeeded (state ",
                     v1::JobState_Name(job.state()), ")"));
  }
  if (job.spec().has_predictor_training()) {
    const std::string& device_class = job.spec().predictor_training().device_class();
    HAT_ASSIGN_OR_RETURN(v1::StoredPredictor stored,
                         GetPredictor(device_class, job.result().predictor_version()));
    out.data = stored.predictor().SerializeAsString();
    out.filename = absl::StrCat(device_class, "-v", stored.version(), ".predictor");
    return out;
  }
  if (!job.result().artifact_id().empty()) {
    HAT_ASSIGN_OR_RETURN(auto artifact, GetArtifact(job.result().artifact_id()));
    out.filename = artifact.first.filename();
    out.file = artifact.second;
    return out;
  }
  return absl::FailedPreconditionError(absl::StrCat("job ", job_id, " has nothing to export"));
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
// Uncertainty sampling

absl::Status Coordinator::AdvanceActiveSampling() {
  std::vector<SamplingRound> due;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, entry] : jobs_) {
      const v1::LatencyDatasetJobSpec& spec = entry.job.spec().latency_dataset();
      const int64_t have = static_cast<int64_t>(entry.task_keys.size());
      if (!entry.job.spec().has_latency_dataset() ||
          spec.strategy() != v1::LatencyDatasetJobSpec::STRATEGY_UNCERTAINTY ||
          IsTerminal(entry.job.state()) || entry.counts.ended < have ||
          have >= entry.job.progress().total()) {
        continue;
      }
      SamplingRound round{entry.job, have, {}};
      for (const std::string& key : entry.task_keys) {
        round.known.insert(tasks_.at(key).task().config().config_id());
      }
      due.push_back(std::move(round));
    }
  }
  // The fits run without the lock: agents keep leasing and reporting meanwhile.
  for (const SamplingRound& round : due) {
    HAT_ASSIGN_OR_RETURN(auto batch, ChooseSamplingBatch(round));
    absl::MutexLock lock(&mu_);
    HAT_RETURN_IF_ERROR(CommitSamplingRound(round, std::move(batch.first), batch.second));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::vector<SubTransformerConfig>, std::string>>
Coordinator::ChooseSamplingBatch(const SamplingRound& round) {
  const v1::Job& job = round.job;
  const v1::LatencyDatasetJobSpec& spec = job.spec().latency_dataset();
  HAT_ASSIGN_OR_RETURN(DesignSpace space, FromProto(spec.design_space()));
  const int64_t planned = job.progress().total();
  const int batch_size = static_cast<int>(
      std::min<int64_t>(ActiveBatchSize(static_cast<int>(planned)), planned - round.have));
  // Fresh candidates: never a config the job already has (measured or failed).
  std::set<uint64_t> known = round.known;
  const uint64_t round_seed = spec.seed() * 1000003 + static_cast<uint64_t>(round.have);
  std::vector<SubTransformerConfig> candidates;
  std::vector<std::array<double, kNumHatFeatures>> features;
  for (SubTransformerConfig& c : SampleConfigs(space, 20 * batch_size, round_seed)) {
    if (!known.insert(ConfigId(c)).second) continue;
    features.push_back(HatFeatures(c));
    candidates.push_back(std::move(c));
  }
  // What the job measured so far (measurements are immutable: no lock needed).
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
  return std::make_pair(std::move(batch),
                        absl::StrCat(how, " from ", dataset.rows.size(), " measurements"));
}

absl::Status Coordinator::CommitSamplingRound(const SamplingRound& round,
                                              std::vector<SubTransformerConfig> batch,
                                              const std::string& how) {
  auto it = jobs_.find(round.job.job_id());
  // Cancelled, or another round committed meanwhile: this batch is no longer wanted.
  if (it == jobs_.end() || IsTerminal(it->second.job.state()) ||
      static_cast<int64_t>(it->second.task_keys.size()) != round.have) {
    return absl::OkStatus();
  }
  JobEntry next = it->second;
  if (batch.empty()) {
    // The space has no configs left that the job has not tried: it ends with what it has.
    next.job.mutable_progress()->set_total(round.have);
  } else {
    next.job.mutable_progress()->set_phase(
        absl::StrCat("measuring: ", batch.size(), " more configs chosen ", how));
  }
  FillProgress(next.job, PlannedTasks(next), next.counts);
  v1::ServerMeta meta = meta_;
  HAT_RETURN_IF_ERROR(WriteWithNewTasks(next, batch, meta));
  it->second = std::move(next);
  ++it->second.version;
  changed_.SignalAll();
  return absl::OkStatus();
}

}  // namespace hat
