// `hatctl agents list`, `hatctl jobs submit|list|get|watch|cancel`, `hatctl dataset export`,
// `hatctl predictor list|download`.
// Every command takes --server (HAT_SERVER), --token (HAT_TOKEN) or --token-file, TLS options,
// --timeout and --json.
#include "cli/remote_commands.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "cli/cli_output.h"
#include "cli/remote_client.h"
#include "common/builtin_spaces.h"
#include "common/config_io.h"
#include "common/design_space_io.h"
#include "common/file_util.h"
#include "common/job_names.h"
#include "common/proto_conversions.h"
#include "common/status_macros.h"
#include "hat/v1/job_service.grpc.pb.h"
#include "measure/measure_proto.h"
#include "predictor/latency_predictor.h"
#include "rpc/grpc_status.h"
#include "rpc/tls.h"

namespace hat::cli {
namespace {

const char* AgentStateName(v1::AgentState s) {
  switch (s) {
    case v1::AGENT_STATE_IDLE:
      return "idle";
    case v1::AGENT_STATE_MEASURING:
      return "measuring";
    case v1::AGENT_STATE_LOST:
      return "lost";
    case v1::AGENT_STATE_LEFT:
      return "left";
    default:
      return "unknown";
  }
}

void PrintJobLine(const v1::Job& job) {
  const v1::JobProgress& p = job.progress();
  std::cout << absl::StrFormat(
      "%-12s %-10s %6d/%-6d failed %-4d %s\n", job.job_id(), JobStateName(job.state()), p.done(),
      p.total(), p.failed(),
      job.spec().has_latency_dataset()
          ? absl::StrCat("latency-dataset ", job.spec().latency_dataset().device_class())
      : job.spec().has_predictor_training()
          ? absl::StrCat("predictor ", job.spec().predictor_training().device_class(), " ",
                         job.spec().predictor_training().model())
      : job.spec().has_supernet_training()
          ? absl::StrCat("supernet ", job.spec().supernet_training().space_name(), " on ",
                         job.spec().supernet_training().corpus())
      : job.spec().has_search()
          ? absl::StrCat("search on ", job.spec().search().supernet_artifact())
          : std::string("job"));
}

// The device around an agent's newest measurement: "61.2 C 1500 MHz throttled", "-" when the
// host exposes none of it.
std::string ConditionText(const v1::DeviceCondition& c) {
  std::vector<std::string> parts;
  if (c.has_temperature()) parts.push_back(absl::StrFormat("%.1f C", c.temperature_c_after()));
  if (c.has_frequency()) parts.push_back(absl::StrCat(c.cpu_freq_khz_after() / 1000, " MHz"));
  if (c.throttled()) parts.push_back("throttled");
  return parts.empty() ? "-" : absl::StrJoin(parts, " ");
}

absl::Status AgentsList(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  v1::ListAgentsRequest req;
  req.set_device_class(o.device_class);
  v1::ListAgentsResponse resp;
  HAT_RETURN_IF_ERROR(c.Check(c.stub().ListAgents(c.Context().get(), req, &resp)));
  if (o.json) {
    std::cout << ToJson(resp) << "\n";
    return absl::OkStatus();
  }
  std::cout << absl::StrFormat("%-14s %-14s %-10s %8s %9s  %-22s %s\n", "agent", "device_class",
                               "state", "measured", "throttled", "condition", "hardware");
  for (const v1::Agent& a : resp.agents()) {
    std::cout << absl::StrFormat(
        "%-14s %-14s %-10s %8d %9d  %-22s %s, %d threads%s\n", a.agent_id(), a.device_class(),
        AgentStateName(a.state()), a.measurements_done(), a.measurements_throttled(),
        ConditionText(a.last_condition()), a.hardware().cpu_model(), a.hardware().threads(),
        a.hardware().emulated() ? " (emulated, latency meaningless)" : "");
  }
  return absl::OkStatus();
}

absl::Status Submit(const RemoteOptions& o) {
  v1::SubmitJobRequest req;
  v1::LatencyDatasetJobSpec* spec = req.mutable_spec()->mutable_latency_dataset();
  if (BuiltinSpace(o.space).ok()) {
    spec->set_space_name(o.space);
  } else {
    HAT_ASSIGN_OR_RETURN(DesignSpace space, ResolveDesignSpace(o.space));
    ToProto(space, spec->mutable_design_space());
  }
  spec->set_device_class(o.device_class);
  if ((o.samples > 0) == !o.config_files.empty()) {
    return absl::InvalidArgumentError(
        "give --samples N (sampled configs) or --config FILE (these configs), not both");
  }
  if (!o.config_files.empty()) {
    HAT_ASSIGN_OR_RETURN(DesignSpace space, ResolveDesignSpace(o.space));
    for (const std::string& file : o.config_files) {
      HAT_ASSIGN_OR_RETURN(SubTransformerConfig config, LoadConfigInSpace(file, space));
      ToProto(config, spec->add_configs());
    }
  }
  spec->set_num_configs(o.samples);
  spec->set_seed(o.seed);
  spec->set_repeats(o.repeats);  // the server checks the range and the strategy
  if (o.strategy == "random") {
    spec->set_strategy(v1::LatencyDatasetJobSpec::STRATEGY_RANDOM);
  } else if (o.strategy == "uncertainty") {
    spec->set_strategy(v1::LatencyDatasetJobSpec::STRATEGY_UNCERTAINTY);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--strategy=", o.strategy, ": expected random or uncertainty"));
  }
  HAT_ASSIGN_OR_RETURN(MeasurementProtocol protocol, MeasurementProtocol::FromName(o.protocol));
  if (o.runs > 0) protocol.min_runs = protocol.max_runs = o.runs;
  if (o.warmup >= 0) protocol.warmup_runs = o.warmup;
  HAT_RETURN_IF_ERROR(protocol.Validate());
  ToProto(protocol, spec->mutable_protocol());
  spec->mutable_protocol()->set_threads(0);  // each agent's own thread setting
  return SubmitAndPrint(o, std::move(req));
}

absl::Status SubmitPredictor(const RemoteOptions& o) {
  v1::SubmitJobRequest req;
  v1::PredictorTrainingJobSpec* spec = req.mutable_spec()->mutable_predictor_training();
  spec->set_device_class(o.device_class);
  spec->set_model(o.model);
  spec->set_seed(o.seed);
  spec->set_max_train_rows(o.train_rows);
  spec->set_include_throttled(o.include_throttled);
  return SubmitAndPrint(o, std::move(req));
}

absl::Status SubmitSupernet(const RemoteOptions& o) {
  v1::SubmitJobRequest req;
  v1::SupernetTrainingJobSpec* spec = req.mutable_spec()->mutable_supernet_training();
  spec->set_space_name(o.space);
  spec->set_corpus(o.corpus);
  spec->set_steps(static_cast<int32_t>(std::min<int64_t>(o.steps, INT32_MAX)));
  spec->set_seed(o.seed);
  spec->set_threads(o.threads);
  spec->set_save_every(o.save_every);
  spec->set_max_tokens(o.max_tokens);
  spec->set_warmup(o.warmup_updates);
  spec->set_lr(o.lr);
  spec->set_valid_sentences(o.valid_sentences);
  spec->set_vocab_size(o.vocab_size);
  spec->set_workers(o.workers);
  return SubmitAndPrint(o, std::move(req));  // the server checks every field
}

absl::Status PredictorList(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  v1::ListPredictorsRequest req;
  req.set_device_class(o.device_class);
  v1::ListPredictorsResponse resp;
  HAT_RETURN_IF_ERROR(c.Check(c.stub().ListPredictors(c.Context().get(), req, &resp)));
  if (o.json) {
    std::cout << ToJson(resp) << "\n";
    return absl::OkStatus();
  }
  // The accuracy columns are on the held-out test rows; their count says how much they mean.
  std::cout << absl::StrFormat("%-14s %7s %-12s %-12s %6s %6s %10s %8s %7s\n", "device_class",
                               "version", "model", "job", "rows", "test", "rmse_ms", "mape_%",
                               "tau");
  bool few = false;
  for (const v1::StoredPredictor& p : resp.predictors()) {
    const v1::PredictorAccuracy& a = p.predictor().accuracy();
    few = few || a.test_rows() < 20;
    std::cout << absl::StrFormat(
        "%-14s %7d %-12s %-12s %6d %6d %10.2f %8.2f %7.3f\n", p.device_class(), p.version(),
        PredictorModelName(p.predictor().model()), p.job_id(), p.measurements(), a.test_rows(),
        a.test_rmse_ms(), a.test_mape_pct(), a.test_kendall_tau());
  }
  if (few) {
    std::cout << "(rmse, mape and tau are measured on the `test` rows held out of the fit; with "
                 "fewer than 20 they are rough)\n";
  }
  return absl::OkStatus();
}

absl::Status PredictorDownload(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  v1::GetPredictorRequest req;
  req.set_device_class(o.device_class);
  req.set_version(o.version);
  v1::StoredPredictor stored;
  HAT_RETURN_IF_ERROR(c.Check(c.stub().GetPredictor(c.Context().get(), req, &stored)));
  // Checked like a file from disk before it is written, so a bad record never lands as a file.
  HAT_ASSIGN_OR_RETURN(LatencyPredictor predictor, LatencyPredictor::FromProto(stored.predictor()));
  HAT_RETURN_IF_ERROR(predictor.Save(o.out));
  if (o.json) {
    v1::StoredPredictor summary = stored;
    summary.mutable_predictor()->clear_mlp();
    summary.mutable_predictor()->clear_linear_members();
    std::cout << ToJson(summary) << "\n";
  } else {
    std::cout << absl::StrFormat("%s version %d (%s) written to %s\n", stored.device_class(),
                                 stored.version(), PredictorModelName(stored.predictor().model()),
                                 o.out);
  }
  return absl::OkStatus();
}

absl::Status List(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  v1::ListJobsRequest req;
  v1::ListJobsResponse all;
  do {
    v1::ListJobsResponse page;
    HAT_RETURN_IF_ERROR(c.Check(c.stub().ListJobs(c.Context().get(), req, &page)));
    for (const v1::Job& j : page.jobs()) *all.add_jobs() = j;
    req.set_page_token(page.next_page_token());
  } while (!req.page_token().empty());
  if (o.json) {
    std::cout << ToJson(all) << "\n";
    return absl::OkStatus();
  }
  for (const v1::Job& j : all.jobs()) PrintJobLine(j);
  return absl::OkStatus();
}

absl::Status Get(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  HAT_ASSIGN_OR_RETURN(v1::Job job, c.GetJob(o.job_id));
  if (o.json) {
    std::cout << ToJson(job) << "\n";
  } else {
    PrintJobLine(job);
    if (!job.error().empty()) std::cout << "error: " << job.error() << "\n";
  }
  return absl::OkStatus();
}

// Exit code 0 when the job succeeded, 1 otherwise.
absl::StatusOr<int> Watch(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  v1::WatchJobRequest req;
  req.set_job_id(o.job_id);
  auto ctx = c.Context(-1);
  std::unique_ptr<grpc::ClientReader<v1::Job>> reader = c.stub().WatchJob(ctx.get(), req);
  v1::Job job;
  bool any = false;
  while (reader->Read(&job)) {
    any = true;
    const v1::JobProgress& p = job.progress();
    if (o.json) {
      google::protobuf::util::JsonPrintOptions options;
      options.preserve_proto_field_names = true;
      std::string line;
      (void)google::protobuf::util::MessageToJsonString(job, &line, options);
      std::cout << line << std::endl;
    } else {
      // The phase says what the job is doing ("iteration 3/30: best loss ...", "training: loss
      // 4.2, ...", "re-measuring 2 winners ..."), when the job gives one.
      const std::string& phase = p.phase();
      PrintProgress(job.job_id(), static_cast<int>(p.done() + p.failed()),
                    static_cast<int>(p.total()), p.rate_per_s(), std::max(0.0, p.eta_s()),
                    phase.empty() || job.state() != v1::JOB_STATE_RUNNING
                        ? std::string(JobStateName(job.state()))
                        : absl::StrCat(JobStateName(job.state()), ": ", phase));
    }
  }
  HAT_RETURN_IF_ERROR(c.Check(reader->Finish()));
  if (!any) return absl::UnavailableError("the server sent no update");
  if (!o.json) {
    std::cout << job.job_id() << " " << JobStateName(job.state());
    if (!job.error().empty()) std::cout << ": " << job.error();
    std::cout << "\n";
  }
  return job.state() == v1::JOB_STATE_SUCCEEDED ? kExitOk : kExitFailure;
}

absl::Status Cancel(const RemoteOptions& o) {
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  v1::CancelJobRequest req;
  req.set_job_id(o.job_id);
  v1::Job job;
  HAT_RETURN_IF_ERROR(c.Check(c.stub().CancelJob(c.Context().get(), req, &job)));
  if (o.json) {
    std::cout << ToJson(job) << "\n";
  } else {
    PrintJobLine(job);
  }
  return absl::OkStatus();
}

// `dataset export` (a device class) and `jobs export` (a job's results): to --out, written
// atomically as it streams, or to stdout.
absl::Status Export(const RemoteOptions& o, v1::ExportRequest req) {
  if (o.format == "hat-csv") {
    req.set_format(v1::EXPORT_FORMAT_HAT_CSV);
  } else if (o.format == "full") {
    req.set_format(v1::EXPORT_FORMAT_FULL);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--format=", o.format, ": expected hat-csv or full"));
  }
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  auto ctx = c.Context(-1);
  std::unique_ptr<grpc::ClientReader<v1::ExportChunk>> reader = c.stub().Export(ctx.get(), req);
  v1::ExportChunk chunk;
  if (o.out.empty()) {
    while (reader->Read(&chunk)) std::cout << chunk.data();
    return c.Check(reader->Finish());
  }
  v1::Artifact received;  // an export declares no size: written as it arrives
  HAT_RETURN_IF_ERROR(ReceiveFile(
      [&](std::string* data, v1::Artifact*) {
        if (!reader->Read(&chunk)) return false;
        *data = std::move(*chunk.mutable_data());
        return true;
      },
      [&] { return c.Check(reader->Finish()); }, o.out, &received));
  std::cerr << "hatctl: wrote " << received.size_bytes() << " bytes to " << o.out << "\n";
  return absl::OkStatus();
}

}  // namespace

void AddRemoteCommands(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<RemoteOptions>();
  auto run = [exit_code](absl::Status s) { *exit_code = ReportError(s); };

  CLI::App* agents = app.add_subcommand("agents", "The fleet (needs hat-server)");
  agents->require_subcommand(1);
  CLI::App* agents_list = agents->add_subcommand("list", "List registered agents");
  AddConnectionFlags(agents_list, o.get());
  agents_list->add_option("--device-class", o->device_class, "Only this device class");
  agents_list->callback([o, run] { run(AgentsList(*o)); });

  CLI::App* jobs = app.add_subcommand("jobs", "Submit and follow jobs (needs hat-server)");
  jobs->require_subcommand(1);
  CLI::App* submit = jobs->add_subcommand("submit", "Submit a job");
  submit->require_subcommand(1);
  CLI::App* dataset_job = submit->add_subcommand(
      "latency-dataset",
      "Measure sampled or given SubTransformers on a device class; prints the job id");
  AddConnectionFlags(dataset_job, o.get());
  dataset_job->add_option("--space", o->space, "Design space (built-in name or file)")->required();
  dataset_job->add_option("--device-class", o->device_class, "Device class to measure on")
      ->required();
  dataset_job->add_option("--samples", o->samples, "Number of sampled configs");
  dataset_job->add_option("--config", o->config_files,
                          "Measure this config (HAT YAML or hatfleet JSON; repeatable) instead "
                          "of sampled ones");
  dataset_job->add_option("--seed", o->seed, "Sampling seed")->capture_default_str();
  dataset_job->add_option("--protocol", o->protocol, "default or hat")->capture_default_str();
  dataset_job
      ->add_option("--strategy", o->strategy,
                   "random (uniform samples, HAT) or uncertainty (after a random fifth, "
                   "half of each batch where the predictor is least sure)")
      ->capture_default_str();
  dataset_job
      ->add_option("--repeats", o->repeats,
                   "Measure every config this many times, pass by pass (random strategy); "
                   "predictor fits combine the repeats and remove the host drift they show")
      ->capture_default_str();
  dataset_job->add_option("--runs", o->runs, "Fixed number of timed runs per config");
  dataset_job->add_option("--warmup", o->warmup, "Warm-up runs per config");
  dataset_job->add_option("--idempotency-key", o->idempotency_key,
                          "Resubmitting with the same key returns the same job");
  dataset_job->callback([o, run] { run(Submit(*o)); });

  CLI::App* predictor_job = submit->add_subcommand(
      "predictor", "Train a latency predictor on a device class's measurements; prints the job id");
  AddConnectionFlags(predictor_job, o.get());
  predictor_job->add_option("--device-class", o->device_class, "Device class")->required();
  predictor_job->add_option("--model", o->model, "default (cost-linear) or hat-mlp")
      ->capture_default_str();
  predictor_job->add_option("--seed", o->seed, "Seed of the split and the training")
      ->capture_default_str();
  predictor_job->add_option("--train-rows", o->train_rows,
                            "Train on at most N rows (0: 80% of the measurements)");
  predictor_job->add_flag("--include-throttled", o->include_throttled,
                          "Train on measurements of a throttled device too (left out by default)");
  predictor_job->add_option("--idempotency-key", o->idempotency_key,
                            "Resubmitting with the same key returns the same job");
  predictor_job->callback([o, run] { run(SubmitPredictor(*o)); });

  CLI::App* supernet_job = submit->add_subcommand(
      "supernet",
      "Train a SuperTransformer on the server; prints the job id (the result is an artifact)");
  AddConnectionFlags(supernet_job, o.get());
  supernet_job->add_option("--space", o->space, "Built-in design space")->required();
  supernet_job->add_option("--corpus", o->corpus, "Corpus, relative to the server's --corpora-dir")
      ->required();
  supernet_job->add_option("--steps", o->steps, "Total updates")->required();
  supernet_job->add_option("--seed", o->seed, "Seed of batches, samples and dropout")
      ->capture_default_str();
  supernet_job->add_option("--threads", o->threads, "Intra-op threads of the job")
      ->capture_default_str();
  supernet_job->add_option("--save-every", o->save_every,
                           "Checkpoint every N updates (0: the server's 100)");
  supernet_job->add_option("--max-tokens", o->max_tokens, "Tokens per batch (0: 4096)");
  supernet_job->add_option("--warmup", o->warmup_updates, "Warm-up updates (0: 4000)");
  supernet_job->add_option("--lr", o->lr, "Peak learning rate (0: 5e-4)");
  supernet_job->add_option("--valid-sentences", o->valid_sentences,
                           "Validation subset at the end (0: the whole split)");
  supernet_job->add_option("--vocab-size", o->vocab_size, "Joint BPE pieces (0: 10000)");
  supernet_job->add_option("--workers", o->workers,
                           "Data-parallel ranks on the server's machine, each --threads (0: 1)");
  supernet_job->add_option("--idempotency-key", o->idempotency_key,
                           "Resubmitting with the same key returns the same job");
  supernet_job->callback([o, run] { run(SubmitSupernet(*o)); });

  CLI::App* list = jobs->add_subcommand("list", "List jobs");
  AddConnectionFlags(list, o.get());
  list->callback([o, run] { run(List(*o)); });

  CLI::App* get = jobs->add_subcommand("get", "Show a job");
  AddConnectionFlags(get, o.get());
  get->add_option("id", o->job_id, "Job id")->required();
  get->callback([o, run] { run(Get(*o)); });

  CLI::App* watch = jobs->add_subcommand(
      "watch", "Follow a job until it ends (exit 0 succeeded, 1 failed or cancelled)");
  AddConnectionFlags(watch, o.get());
  watch->add_option("id", o->job_id, "Job id")->required();
  watch->callback([o, exit_code] {
    absl::StatusOr<int> code = Watch(*o);
    *exit_code = code.ok() ? *code : ReportError(code.status());
  });

  CLI::App* cancel = jobs->add_subcommand("cancel", "Cancel a job");
  AddConnectionFlags(cancel, o.get());
  cancel->add_option("id", o->job_id, "Job id")->required();
  cancel->callback([o, run] { run(Cancel(*o)); });

  CLI::App* dataset = app.add_subcommand("dataset", "Latency datasets (needs hat-server)");
  dataset->require_subcommand(1);
  CLI::App* export_cmd = dataset->add_subcommand("export", "Export a device class's measurements");
  AddConnectionFlags(export_cmd, o.get());
  export_cmd->add_option("--device-class", o->device_class, "Device class")->required();
  export_cmd->add_option("--format", o->format, "hat-csv or full")->capture_default_str();
  export_cmd->add_option("--out", o->out, "Write to this file (default: stdout)");
  export_cmd->callback([o, run] {
    v1::ExportRequest req;
    req.set_device_class(o->device_class);
    run(Export(*o, req));
  });

  CLI::App* export_job = jobs->add_subcommand(
      "export",
      "Save a job's results: a dataset's rows, a predictor, a SuperTransformer checkpoint");
  AddConnectionFlags(export_job, o.get());
  export_job->add_option("id", o->job_id, "Job id")->required();
  export_job->add_option("--out", o->out, "Write to this file (default: stdout)");
  export_job->add_option("--format", o->format, "Dataset jobs: hat-csv or full")
      ->capture_default_str();
  export_job->callback([o, run] {
    v1::ExportRequest req;
    req.set_job_id(o->job_id);
    run(Export(*o, req));
  });

  // Stored predictors, beside the local `predictor fit|predict` (predictor_commands.cc).
  CLI::App* predictor = app.get_subcommand("predictor");
  CLI::App* predictor_list =
      predictor->add_subcommand("list", "Predictors the server trained (needs hat-server)");
  AddConnectionFlags(predictor_list, o.get());
  predictor_list->add_option("--device-class", o->device_class, "Only this device class");
  predictor_list->callback([o, run] { run(PredictorList(*o)); });
  CLI::App* download = predictor->add_subcommand(
      "download", "Save a stored predictor to a file for `predictor predict` (needs hat-server)");
  AddConnectionFlags(download, o.get());
  download->add_option("--device-class", o->device_class, "Device class")->required();
  download->add_option("--version", o->version, "Version (0: the latest)")->capture_default_str();
  download->add_option("--out", o->out, "File to write")->required();
  download->callback([o, run] { run(PredictorDownload(*o)); });
}

}  // namespace hat::cli
