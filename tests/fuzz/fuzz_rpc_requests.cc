// Every RPC of hat-server's two services with requests made from fuzz bytes: the first byte
// picks the RPC, the rest is parsed as its request message (bytes that do not parse are what
// gRPC itself refuses before a handler runs). The requests go through an in-process gRPC server
// to the real handlers and coordinator (over an in-memory store), with the right token, so they
// reach the validation behind the token check. The server lives across inputs, as a real one
// lives across requests; it starts with an agent holding a lease on a job's task, and an idle
// agent, for requests to name.
// Properties: no crash, no hang; every answer is OK or a refusal with a message, never
// UNKNOWN (an exception or an unmapped error escaping a handler).
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "hat/v1/fleet_service.grpc.pb.h"
#include "hat/v1/job_service.grpc.pb.h"
#include "rpc/grpc_status.h"
#include "server/coordinator.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/in_process_services.h"

namespace hat {
namespace {

constexpr char kFleetToken[] = "fleet-token-fuzz";
constexpr char kAdminToken[] = "admin-token-fuzz";

class FuzzedServer {
 public:
  FuzzedServer() {
    artifacts_ = std::filesystem::temp_directory_path() /
                 ("hatfleet-fuzz-artifacts-" + std::to_string(::getpid()));
    std::filesystem::create_directories(artifacts_);
    CoordinatorOptions options;
    options.now_unix_ms = [this] { return now_ms_.load(); };
    options.artifacts_dir = artifacts_.string();
    auto services = testing::InProcessServices::Start(options, kFleetToken, kAdminToken);
    FUZZ_CHECK(services.ok(), "the coordinator and its services start");
    services_ = *std::move(services);
    fleet_ = &services_->fleet();
    jobs_ = &services_->jobs();
    Coordinator& c = services_->coordinator();
    v1::RegisterAgentRequest reg;
    reg.set_device_class("cpu");
    FUZZ_CHECK(c.RegisterAgent(reg).ok(), "an agent registers");
    FUZZ_CHECK(c.RegisterAgent(reg).ok(), "a second agent registers");
    v1::SubmitJobRequest job;
    auto* spec = job.mutable_spec()->mutable_latency_dataset();
    spec->set_space_name("tiny");
    spec->set_device_class("cpu");
    spec->set_num_configs(2);
    FUZZ_CHECK(c.SubmitJob(job).ok(), "a job is submitted");
  }
  ~FuzzedServer() {
    services_.reset();
    std::error_code error;
    std::filesystem::remove_all(artifacts_, error);
  }

  // Sends `bytes` as the request of RPC number `rpc` (modulo their count).
  void Call(uint8_t rpc, const std::string& bytes) {
    now_ms_ += 1000;  // leases expire, agents go quiet, as time passes between requests
    switch (rpc % 17) {
      case 0:
        Unary(fleet_, &v1::FleetService::Stub::RegisterAgent, kFleetToken, bytes);
        break;
      case 1:
        Unary(fleet_, &v1::FleetService::Stub::Heartbeat, kFleetToken, bytes);
        break;
      case 2:
        Unary(fleet_, &v1::FleetService::Stub::LeaseTask, kFleetToken, bytes);
        break;
      case 3:
        Unary(fleet_, &v1::FleetService::Stub::ReportResult, kFleetToken, bytes);
        break;
      case 4:
        Unary(fleet_, &v1::FleetService::Stub::ReleaseLease, kFleetToken, bytes);
        break;
      case 5:
        Unary(jobs_, &v1::JobService::Stub::SubmitJob, kAdminToken, bytes);
        break;
      case 6:
        Unary(jobs_, &v1::JobService::Stub::GetJob, kAdminToken, bytes);
        break;
      case 7:
        Unary(jobs_, &v1::JobService::Stub::ListJobs, kAdminToken, bytes);
        break;
      case 8:
        Unary(jobs_, &v1::JobService::Stub::CancelJob, kAdminToken, bytes);
        break;
      case 9:
        Unary(jobs_, &v1::JobService::Stub::ListAgents, kAdminToken, bytes);
        break;
      case 10:
        Unary(jobs_, &v1::JobService::Stub::GetPredictor, kAdminToken, bytes);
        break;
      case 11:
        Unary(jobs_, &v1::JobService::Stub::ListPredictors, kAdminToken, bytes);
        break;
      case 12:
        Unary(jobs_, &v1::JobService::Stub::ListArtifacts, kAdminToken, bytes);
        break;
      case 13:
        ServerStream<v1::WatchJobRequest, v1::Job>(
            bytes, [this](grpc::ClientContext* ctx, const v1::WatchJobRequest& req) {
              return jobs_->WatchJob(ctx, req);
            });
        break;
      case 14:
        ServerStream<v1::ExportRequest, v1::ExportChunk>(
            bytes, [this](grpc::ClientContext* ctx, const v1::ExportRequest& req) {
              return jobs_->Export(ctx, req);
            });
        break;
      case 15:
        ServerStream<v1::DownloadArtifactRequest, v1::ArtifactChunk>(
            bytes, [this](grpc::ClientContext* ctx, const v1::DownloadArtifactRequest& req) {
              return jobs_->DownloadArtifact(ctx, req);
            });
        break;
      case 16:
        Upload(bytes);
        break;
    }
  }

 private:
  static std::unique_ptr<grpc::ClientContext> Context(const char* token) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->AddMetadata(kAuthorizationKey, BearerValue(token));
    // Long polls (LeaseTask, WatchJob) wait at most this long; no valid request waits longer.
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    return ctx;
  }

  static void CheckAnswer(const grpc::Status& status) {
    FUZZ_CHECK(status.error_code() != grpc::StatusCode::UNKNOWN,
               "handlers map every error to a status code");
    FUZZ_CHECK(status.ok() || status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
                   status.error_code() == grpc::StatusCode::CANCELLED ||
                   !status.error_message().empty(),
               "a refusal says why");
  }

  template <typename Stub, typename Request, typename Response>
  void Unary(Stub* stub,
             grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
             const char* token, const std::string& bytes) {
    Request request;
    if (!request.ParseFromString(bytes)) return;
    Response response;
    CheckAnswer((stub->*method)(Context(token).get(), request, &response));
  }

  // Reads up to 16 messages of the server stream `open` starts, then cancels it.
  template <typename Request, typename Response, typename Open>
  void ServerStream(const std::string& bytes, const Open& open) {
    Request request;
    if (!request.ParseFromString(bytes)) return;
    auto ctx = Context(kAdminToken);
    std::unique_ptr<grpc::ClientReader<Response>> reader = open(ctx.get(), request);
    Response message;
    int read = 0;
    while (read < 16 && reader->Read(&message)) ++read;
    if (read == 16) ctx->TryCancel();
    CheckAnswer(reader->Finish());
  }

  // The upload stream: the bytes split at 0xFF bytes, each piece one request message.
  void Upload(const std::string& bytes) {
    auto ctx = Context(kAdminToken);
    v1::Artifact artifact;
    auto writer = jobs_->UploadArtifact(ctx.get(), &artifact);
    size_t start = 0;
    while (start <= bytes.size()) {
      const size_t end = std::min(bytes.find('\xff', start), bytes.size());
      v1::UploadArtifactRequest piece;
      if (piece.ParseFromString(bytes.substr(start, end - start)) && !writer->Write(piece)) break;
      start = end + 1;
    }
    writer->WritesDone();
    CheckAnswer(writer->Finish());
  }

  std::filesystem::path artifacts_;
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
  std::unique_ptr<testing::InProcessServices> services_;
  v1::FleetService::Stub* fleet_ = nullptr;
  v1::JobService::Stub* jobs_ = nullptr;
};

}  // namespace
}  // namespace hat

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hat::FuzzedServer* server = new hat::FuzzedServer();  // lives until exit, as a server
  if (size == 0) return 0;
  server->Call(data[0], std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
