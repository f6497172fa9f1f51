// The device agent's loop; see agent.h.
#include "agent/agent.h"

#include <google/protobuf/util/time_util.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/builtin_spaces.h"
#include "common/proto_conversions.h"
#include "common/sampling.h"
#include "common/status_macros.h"
#include "engine/latency_workload.h"
#include "engine/runtime.h"
#include "measure/measure_proto.h"
#include "measure/measurer.h"
#include "rpc/grpc_status.h"

namespace hat {
namespace {

using google::protobuf::util::TimeUtil;

bool Retryable(absl::StatusCode code) {
  return code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded ||
         code == absl::StatusCode::kResourceExhausted || code == absl::StatusCode::kAborted ||
         code == absl::StatusCode::kInternal || code == absl::StatusCode::kUnknown;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Hostname() {
  char name[256] = {0};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

}  // namespace

absl::Status AgentOptions::Validate() const {
  if (device_class.empty()) return absl::InvalidArgumentError("--device-class is required");
  if (token.empty()) return absl::InvalidArgumentError("a fleet token is required (--token)");
  if (threads < 1 || threads > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--threads=", threads, ": must be in [1, 1024]"));
  }
  return CheckDevice(device);
}

Agent::Agent(AgentOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      device_probe_(options_.sysfs_root),
      stub_(v1::FleetService::NewStub(channel)) {}

Agent::~Agent() = default;

std::string Agent::agent_id() const {
  std::lock_guard<std::mutex> lock(mu_);
  return agent_id_;
}

void Agent::Stop() {
  stop_ = true;
  std::lock_guard<std::mutex> lock(mu_);
  if (inflight_ != nullptr) inflight_->TryCancel();
}

std::unique_ptr<grpc::ClientContext> Agent::NewContext(int64_t timeout_ms) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata(kAuthorizationKey, BearerValue(options_.token));
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(timeout_ms));
  return ctx;
}

void Agent::Backoff(int64_t& backoff_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(backoff_ms);
  while (!stop_ && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  backoff_ms = std::min(options_.max_backoff_ms, backoff_ms * 2);
}

absl::Status Agent::Register() {
  v1::RegisterAgentRequest req;
  req.set_device_class(options_.device_class);
  req.set_host_group(options_.host_group);
  req.set_hostname(Hostname());
  req.set_agent_version("hat-agent 0.1.0");
  req.set_previous_agent_id(agent_id());
  HAT_RETURN_IF_ERROR(ConfigureThreads(options_.threads));
  ToProto(DescribeRuntime(options_.device), req.mutable_hardware());
  int64_t backoff = 100;
  while (!stop_) {
    v1::RegisterAgentResponse resp;
    auto ctx = NewContext(options_.rpc_timeout_ms);
    absl::Status s = FromGrpcStatus(stub_->RegisterAgent(ctx.get(), req, &resp));
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      agent_id_ = resp.agent_id();
      heartbeat_interval_ms_ =
          std::max<int64_t>(100, resp.heartbeat_interval().seconds() * 1000 +
                                     resp.heartbeat_interval().nanos() / 1000000);
      need_register_ = false;
      std::cerr << "hat-agent: registered as " << agent_id_ << " (" << options_.device_class
                << ")\n";
      return absl::OkStatus();
    }
    if (!Retryable(s.code())) return Annotate(s, "registering");
    Backoff(backoff);
  }
  return absl::OkStatus();
}

void Agent::HeartbeatLoop() {
  while (!stop_) {
    int64_t interval;
    v1::HeartbeatRequest req;
    {
      std::lock_guard<std::mutex> lock(mu_);
      interval = heartbeat_interval_ms_;
      req.set_agent_id(agent_id_);
      req.set_lease_id(lease_id_);
    }
    if (!req.agent_id().empty() && !need_register_) {
      v1::HeartbeatResponse resp;
      auto ctx = NewContext(options_.rpc_timeout_ms);
      if (stub_->Heartbeat(ctx.get(), req, &resp).ok() && !resp.known()) need_register_ = true;
    }
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(interval);
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

absl::Status Agent::Run() {
  HAT_RETURN_IF_ERROR(options_.Validate());
  if (options_.pin_cpus) HAT_RETURN_IF_ERROR(PinToCpus(options_.threads));
  HAT_RETURN_IF_ERROR(Register());
  std::thread heartbeats([this] { HeartbeatLoop(); });
  absl::Status result;
  int64_t backoff = 100;
  int failures = 0;  // in a row
  while (!stop_) {
    if (need_register_) {
      result = Register();
      if (!result.ok()) break;
      continue;
    }
    absl::StatusOr<bool> round = LeaseAndMeasure();
    if (round.ok()) {
      backoff = 100;
      failures = 0;
      continue;
    }
    if (round.status().code() == absl::StatusCode::kNotFound) {
      need_register_ = true;  // the server forgot us (e.g. a fresh data directory)
      continue;
    }
    if (!Retryable(round.status().code()) && !stop_) {
      result = round.status();
      break;
    }
    // Said the first time and every tenth time in a row: the server is down, or up but unable
    // to store (a full disk); the agent keeps trying either way.
    if (failures++ % 10 == 0 && !stop_) {
      std::cerr << "hat-agent: " << round.status() << " (trying again)\n";
    }
    Backoff(backoff);
  }
  stop_ = true;
  heartbeats.join();
  return result;
}

absl::StatusOr<bool> Agent::LeaseAndMeasure() {
  v1::LeaseTaskRequest req;
  req.set_agent_id(agent_id());
  req.mutable_wait()->set_seconds(options_.lease_wait_ms / 1000);
  req.mutable_wait()->set_nanos((options_.lease_wait_ms % 1000) * 1000000);
  v1::LeaseTaskResponse resp;
  auto ctx = NewContext(options_.lease_wait_ms + options_.rpc_timeout_ms);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_) return false;
    inflight_ = ctx.get();
  }
  grpc::Status s = stub_->LeaseTask(ctx.get(), req, &resp);
  {
    std::lock_guard<std::mutex> lock(mu_);
    inflight_ = nullptr;
  }
  if (stop_ && !s.ok()) return false;
  HAT_RETURN_IF_ERROR(FromGrpcStatus(s));
  if (!resp.has_task()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease_id_ = resp.lease_id();
  }
  const v1::MeasurementResult result = Measure(resp.task());
  absl::Status reported = Report(resp.lease_id(), result);
  {
    std::lock_guard<std::mutex> lock(mu_);
    lease_id_.clear();
  }
  HAT_RETURN_IF_ERROR(reported);
  return true;
}

v1::MeasurementResult Agent::Measure(const v1::MeasurementTask& task) {
  v1::MeasurementResult result;
  result.set_task_id(task.task_id());
  result.set_job_id(task.job_id());
  result.set_agent_id(agent_id());
  result.set_device_class(options_.device_class);
  result.set_config_id(task.config().config_id());
  *result.mutable_started_at() = TimeUtil::MillisecondsToTimestamp(NowMs());
  auto fail = [&](const absl::Status& s) {
    result.set_error(std::string(s.message()));
    *result.mutable_finished_at() = TimeUtil::MillisecondsToTimestamp(NowMs());
    return result;
  };
  absl::StatusOr<DesignSpace> space =
      task.has_space() ? FromProto(task.space()) : BuiltinSpace(task.design_space());
  if (!space.ok()) return fail(space.status());
  absl::StatusOr<SubTransformerConfig> config = FromProto(task.config().config());
  if (!config.ok()) return fail(config.status());
  absl::StatusOr<MeasurementProtocol> protocol = FromProto(task.protocol());
  if (!protocol.ok()) return fail(protocol.status());
  if (task.protocol().threads() == 0) protocol->threads = options_.threads;
  if (absl::Status s = ConfigureThreads(protocol->threads); !s.ok()) return fail(s);

  const WorkloadShape shape{protocol->source_tokens, protocol->decoder_steps, protocol->beam};
  const std::string key =
      task.space().SerializeAsString() + task.design_space() +
      absl::StrCat("|", shape.source_tokens, "x", shape.decoder_steps, "x", shape.beam);
  auto engine = engines_.find(key);
  if (engine == engines_.end()) {
    engines_.clear();  // one space's drift reference in memory at a time
    absl::StatusOr<std::unique_ptr<LatencyWorkloadFactory>> created =
        LatencyWorkloadFactory::Create(*space, options_.device, options_.weights_seed);
    if (!created.ok()) return fail(created.status());
    SpaceEngine fresh;
    fresh.factory = *std::move(created);
    engine = engines_.emplace(key, std::move(fresh)).first;
  }
  SpaceEngine& e = engine->second;
  if (protocol->reference_runs > 0 && e.reference == nullptr) {
    absl::StatusOr<std::unique_ptr<TimedWorkload>> reference =
        e.factory->Create(SmallestConfig(*space), shape);
    if (!reference.ok()) return fail(reference.status());
    absl::StatusOr<double> baseline = CalibrateReference(**reference, protocol->warmup_runs, 10);
    if (!baseline.ok()) return fail(baseline.status());
    e.reference = *std::move(reference);
    e.reference_baseline_ms = *baseline;
  }
  absl::StatusOr<std::unique_ptr<TimedWorkload>> workload = e.factory->Create(*config, shape);
  if (!workload.ok()) return fail(workload.status());
  const DriftReference drift{e.reference.get(), e.reference_baseline_ms};
  const DeviceSnapshot before = device_probe_.Read();
  absl::StatusOr<ConfigMeasurement> m =
      MeasureWorkload(**workload, *protocol, Clock::Real(), e.reference ? &drift : nullptr);
  if (!m.ok()) return fail(m.status());
  ToProto(DeviceConditionProbe::Compare(before, device_probe_.Read()), result.mutable_condition());
  result.set_timing(ToProto(m->timing));
  result.set_drift_factor(m->drift_factor);
  result.set_reference_ms(m->reference_ms);
  result.set_reference_baseline_ms(m->reference_baseline_ms);
  ToProto(m->encoder, result.mutable_encoder());
  ToProto(m->decoder, result.mutable_decoder());
  result.set_total_ms(m->total_ms);
  ToProto(DescribeRuntime(options_.device), result.mutable_hardware());
  ToProto(*protocol, result.mutable_protocol());
  *result.mutable_finished_at() = TimeUtil::MillisecondsToTimestamp(NowMs());
  return result;
}

absl::Status Agent::Report(const std::string& lease_id, const v1::MeasurementResult& result) {
  v1::ReportResultRequest req;
  req.set_agent_id(agent_id());
  req.set_lease_id(lease_id);
  *req.mutable_result() = result;
  int64_t backoff = 100;
  int refusals = 0;
  // Keep trying after Stop() too, for a while: the measurement is worth delivering.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (true) {
    v1::ReportResultResponse resp;
    auto ctx = NewContext(options_.rpc_timeout_ms);
    absl::Status s = FromGrpcStatus(stub_->ReportResult(ctx.get(), req, &resp));
    if (s.ok()) {
      ++reported_;
      if (options_.log_reports) {
        std::cerr << "hat-agent: acknowledged " << result.task_id()
                  << (resp.stored() ? " (stored)\n" : " (already stored)\n");
      }
      return absl::OkStatus();
    }
    if (!Retryable(s.code())) return Annotate(s, "reporting " + result.task_id());
    if (stop_ && std::chrono::steady_clock::now() > give_up) return s;
    // Said the first time and every tenth: the measurement is kept and retried, but a user
    // watching the agent should see why nothing is being stored.
    if (refusals++ % 10 == 0) {
      std::cerr << "hat-agent: reporting " << result.task_id() << ": " << s
                << " (kept, trying again)\n";
    }
    // Backoff without the stop shortcut: sleep the interval plainly.
    std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
    backoff = std::min(options_.max_backoff_ms, backoff * 2);
  }
}

}  // namespace hat
