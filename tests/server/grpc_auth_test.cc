// Token checks of every gRPC method, in process: FleetService and JobService over a Coordinator on
// the memory store. Each method is called with each token it must refuse; the call must fail
// with UNAUTHENTICATED and leave the coordinator's state (jobs, agents, measurements,
// predictors, artifacts) as it was. A table lists the methods; a test checks that it lists every
// method the services declare, so a new RPC fails here until it has a row.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "hat/v1/fleet_service.grpc.pb.h"
#include "hat/v1/job_service.grpc.pb.h"
#include "rpc/grpc_status.h"
#include "rpc/tls.h"
#include "server/coordinator.h"
#include "server/grpc_services.h"
#include "server/storage/kv_store.h"
#include "tests/support/in_process_services.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kFleetToken[] = "fleet-token-0123";
constexpr char kAdminToken[] = "admin-token-4567";

// An "authorization" header as a client sends it; `present` false: none at all.
struct Credential {
  std::string description;
  bool present = true;
  std::string value;
};

Credential Bearer(const std::string& token) {
  return {"token '" + token + "'", true, BearerValue(token)};
}

// Tokens a service must refuse: none, a wrong one, its own token without the "Bearer " scheme,
// and the other service's token.
std::vector<Credential> RefusedBy(const std::string& own_token, const std::string& other_token) {
  return {{"no authorization", false, ""},
          Bearer("wrong-token"),
          {"the right token without 'Bearer '", true, own_token},
          Bearer(other_token)};
}

class GrpcAuthTest;

// One RPC with a request that succeeds with the right token (see RightTokenPassesEveryRpc).
struct Rpc {
  std::string service;  // full name, e.g. "hat.v1.FleetService"
  std::string method;
  // Calls it with `ctx`. A streaming call returns OK once it received a message (and cancels).
  std::function<grpc::Status(GrpcAuthTest&, grpc::ClientContext&)> call;
  grpc::StatusCode with_right_token = grpc::StatusCode::OK;
};

class GrpcAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CoordinatorOptions options;
    options.now_unix_ms = [this] { return now_ms_.load(); };
    options.artifacts_dir = artifacts_.path();
    ASSERT_OK_AND_ASSIGN(services_,
                         hat::testing::InProcessServices::Start(options, kFleetToken, kAdminToken));

    // Something for every RPC to act on: a job of two configs, an agent measuring the first,
    // an idle agent the second could go to.
    v1::RegisterAgentRequest reg;
    reg.set_device_class("cpu");
    ASSERT_OK_AND_ASSIGN(auto holder, services_->coordinator().RegisterAgent(reg));
    holder_ = holder.agent_id();
    ASSERT_OK_AND_ASSIGN(auto idle, services_->coordinator().RegisterAgent(reg));
    idle_ = idle.agent_id();
    ASSERT_OK_AND_ASSIGN(v1::Job job, services_->coordinator().SubmitJob(JobRequest()));
    job_ = job.job_id();
    v1::LeaseTaskRequest lease;
    lease.set_agent_id(holder_);
    ASSERT_OK_AND_ASSIGN(lease_, services_->coordinator().LeaseTask(lease, now_ms_, nullptr));
    ASSERT_TRUE(lease_.has_task());
  }
  void TearDown() override { services_.reset(); }

  static v1::SubmitJobRequest JobRequest() {
    v1::SubmitJobRequest req;
    auto* spec = req.mutable_spec()->mutable_latency_dataset();
    spec->set_space_name("tiny");
    spec->set_device_class("cpu");
    spec->set_num_configs(2);
    return req;
  }

  // Everything a call could change, as text.
  std::string State() {
    std::string state;
    absl::StatusOr<v1::ListJobsResponse> jobs =
        services_->coordinator().ListJobs(v1::ListJobsRequest());
    EXPECT_TRUE(jobs.ok()) << jobs.status();
    if (jobs.ok()) absl::StrAppend(&state, jobs->DebugString());
    absl::StrAppend(&state, services_->coordinator().ListAgents("").DebugString());
    absl::StatusOr<std::string> measurements =
        services_->coordinator().ExportDataset("cpu", v1::EXPORT_FORMAT_FULL);
    EXPECT_TRUE(measurements.ok()) << measurements.status();
    if (measurements.ok()) absl::StrAppend(&state, *measurements);
    absl::StatusOr<v1::ListPredictorsResponse> predictors =
        services_->coordinator().ListPredictors("");
    EXPECT_TRUE(predictors.ok()) << predictors.status();
    if (predictors.ok()) absl::StrAppend(&state, predictors->DebugString());
    absl::StatusOr<v1::ListArtifactsResponse> artifacts =
        services_->coordinator().ListArtifacts({});
    EXPECT_TRUE(artifacts.ok()) << artifacts.status();
    if (artifacts.ok()) absl::StrAppend(&state, artifacts->DebugString());
    for (const auto& file : std::filesystem::directory_iterator(artifacts_.path())) {
      absl::StrAppend(&state, file.path().string(), "\n");
    }
    return state;
  }

  static std::unique_ptr<grpc::ClientContext> Context(const Credential& credential) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (credential.present) ctx->AddMetadata(kAuthorizationKey, credential.value);
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ctx;
  }

  // Reads a server stream's first message; OK when one came (the rest is cancelled).
  template <typename Message>
  static grpc::Status FirstMessage(grpc::ClientContext& ctx, grpc::ClientReader<Message>& reader) {
    Message message;
    if (reader.Read(&message)) {
      ctx.TryCancel();
      reader.Finish().IgnoreError();
      return grpc::Status::OK;
    }
    return reader.Finish();
  }

  // Every RPC of both services, with a request that would change something where the RPC can.
  std::vector<Rpc> Rpcs() {
    const std::string fleet = v1::FleetService::service_full_name();
    const std::string jobs = v1::JobService::service_full_name();
    return {
        {fleet, "RegisterAgent",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::RegisterAgentRequest req;
           req.set_device_class("cpu");
           v1::RegisterAgentResponse resp;
           return t.services_->fleet().RegisterAgent(&ctx, req, &resp);
         }},
        {fleet, "Heartbeat",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::HeartbeatRequest req;
           req.set_agent_id(t.holder_);
           req.set_lease_id(t.lease_.lease_id());
           v1::HeartbeatResponse resp;
           return t.services_->fleet().Heartbeat(&ctx, req, &resp);
         }},
        {fleet, "LeaseTask",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::LeaseTaskRequest req;
           req.set_agent_id(t.idle_);  // wait 0: answers at once
           v1::LeaseTaskResponse resp;
           return t.services_->fleet().LeaseTask(&ctx, req, &resp);
         }},
        {fleet, "ReportResult",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::ReportResultRequest req;
           req.set_agent_id(t.holder_);
           req.set_lease_id(t.lease_.lease_id());
           req.mutable_result()->set_task_id(t.lease_.task().task_id());
           req.mutable_result()->set_total_ms(7);
           v1::ReportResultResponse resp;
           return t.services_->fleet().ReportResult(&ctx, req, &resp);
         }},
        {fleet, "ReleaseLease",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::ReleaseLeaseRequest req;
           req.set_agent_id(t.holder_);
           req.set_lease_id(t.lease_.lease_id());
           v1::ReleaseLeaseResponse resp;
           return t.services_->fleet().ReleaseLease(&ctx, req, &resp);
         }},
        {jobs, "SubmitJob",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::SubmitJobResponse resp;
           return t.services_->jobs().SubmitJob(&ctx, JobRequest(), &resp);
         }},
        {jobs, "GetJob",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::GetJobRequest req;
           req.set_job_id(t.job_);
           v1::Job resp;
           return t.services_->jobs().GetJob(&ctx, req, &resp);
         }},
        {jobs, "ListJobs",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::ListJobsResponse resp;
           return t.services_->jobs().ListJobs(&ctx, v1::ListJobsRequest(), &resp);
         }},
        {jobs, "WatchJob",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::WatchJobRequest req;
           req.set_job_id(t.job_);
           auto reader = t.services_->jobs().WatchJob(&ctx, req);
           return FirstMessage(ctx, *reader);
         }},
        {jobs, "CancelJob",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::CancelJobRequest req;
           req.set_job_id(t.job_);
           v1::Job resp;
           return t.services_->jobs().CancelJob(&ctx, req, &resp);
         }},
        {jobs, "ListAgents",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::ListAgentsResponse resp;
           return t.services_->jobs().ListAgents(&ctx, v1::ListAgentsRequest(), &resp);
         }},
        {jobs, "Export",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::ExportRequest req;
           req.set_device_class("cpu");
           req.set_format(v1::EXPORT_FORMAT_FULL);
           auto reader = t.services_->jobs().Export(&ctx, req);
           return FirstMessage(ctx, *reader);
         }},
        {jobs, "GetPredictor",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::GetPredictorRequest req;
           req.set_device_class("cpu");
           v1::StoredPredictor resp;
           return t.services_->jobs().GetPredictor(&ctx, req, &resp);
         },
         grpc::StatusCode::NOT_FOUND},  // none trained: past the token check all the same
        {jobs, "ListPredictors",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::ListPredictorsResponse resp;
           return t.services_->jobs().ListPredictors(&ctx, v1::ListPredictorsRequest(), &resp);
         }},
        {jobs, "ListArtifacts",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::ListArtifactsResponse resp;
           return t.services_->jobs().ListArtifacts(&ctx, v1::ListArtifactsRequest(), &resp);
         }},
        {jobs, "UploadArtifact",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           const std::string bytes = "hello";
           Sha256 sha;
           sha.Update(bytes);
           v1::UploadArtifactRequest req;
           req.mutable_header()->set_kind(v1::ARTIFACT_KIND_SUPERNET_CHECKPOINT);
           req.mutable_header()->set_size_bytes(static_cast<int64_t>(bytes.size()));
           req.mutable_header()->set_sha256(sha.HexDigest());
           req.set_data(bytes);
           v1::Artifact resp;
           auto writer = t.services_->jobs().UploadArtifact(&ctx, &resp);
           writer->Write(req);
           writer->WritesDone();
           return writer->Finish();
         },
         grpc::StatusCode::INVALID_ARGUMENT},  // no checkpoint: past the token check all the same
        {jobs, "DownloadArtifact",
         [](GrpcAuthTest& t, grpc::ClientContext& ctx) {
           v1::DownloadArtifactRequest req;
           req.set_artifact_id("art-000001");
           auto reader = t.services_->jobs().DownloadArtifact(&ctx, req);
           return FirstMessage(ctx, *reader);
         },
         grpc::StatusCode::NOT_FOUND},
    };
  }

  hat::testing::TempDir artifacts_;
  std::atomic<int64_t> now_ms_{1'700'000'000'000};
  std::unique_ptr<hat::testing::InProcessServices> services_;
  std::string holder_, idle_, job_;
  v1::LeaseTaskResponse lease_;
};

TEST_F(GrpcAuthTest, TableCoversEveryRpcOfBothServices) {
  std::set<std::string> declared, listed;
  for (const char* name :
       {v1::FleetService::service_full_name(), v1::JobService::service_full_name()}) {
    const google::protobuf::ServiceDescriptor* service =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      declared.insert(absl::StrCat(name, ".", service->method(i)->name()));
    }
  }
  for (const Rpc& rpc : Rpcs()) listed.insert(absl::StrCat(rpc.service, ".", rpc.method));
  EXPECT_EQ(listed, declared) << "give every RPC a row in GrpcAuthTest::Rpcs()";
}

TEST_F(GrpcAuthTest, EveryRpcRefusesEveryOtherTokenAndChangesNothing) {
  for (const Rpc& rpc : Rpcs()) {
    const bool fleet = rpc.service == v1::FleetService::service_full_name();
    for (const Credential& credential :
         fleet ? RefusedBy(kFleetToken, kAdminToken) : RefusedBy(kAdminToken, kFleetToken)) {
      SCOPED_TRACE(rpc.method + " with " + credential.description);
      now_ms_ += 1000;  // so that a heartbeat let through would show in the agent's record
      const std::string before = State();
      auto ctx = Context(credential);
      const grpc::Status status = rpc.call(*this, *ctx);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << status.error_message();
      for (const char* token : {kFleetToken, kAdminToken}) {
        EXPECT_THAT(status.error_message(), Not(HasSubstr(token))) << "a token was echoed";
      }
      EXPECT_EQ(State(), before);
    }
  }
}

// The control: the same requests with the right token get past the check, so the refusals
// above are the token's doing.
TEST_F(GrpcAuthTest, RightTokenPassesEveryRpc) {
  for (const Rpc& rpc : Rpcs()) {
    const bool fleet = rpc.service == v1::FleetService::service_full_name();
    auto ctx = Context(Bearer(fleet ? kFleetToken : kAdminToken));
    const grpc::Status status = rpc.call(*this, *ctx);
    EXPECT_EQ(status.error_code(), rpc.with_right_token)
        << rpc.method << ": " << status.error_message();
  }
}

// Which listening addresses hat-server warns about serving without TLS.
TEST(LoopbackAddressTest, OnlyThisMachinesAddressesAreLoopback) {
  for (const char* local : {"127.0.0.1:7070", "127.1.2.3:0", "localhost:7070", "[::1]:7070",
                            "ipv4:127.0.0.1:7070", "unix:/run/hat.sock"}) {
    EXPECT_TRUE(IsLoopbackAddress(local)) << local;
  }
  for (const char* remote : {"0.0.0.0:7070", "[::]:7070", "10.0.0.5:7070", "hat-server:7070",
                             "128.0.0.1:7070", "localhost.example.com:7070", ":7070"}) {
    EXPECT_FALSE(IsLoopbackAddress(remote)) << remote;
  }
}

}  // namespace
}  // namespace hat
