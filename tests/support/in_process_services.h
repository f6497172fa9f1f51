// hat-server's two gRPC services over a coordinator on an in-memory store, served in-process
// (no port): the real handlers, called through real stubs, for tests and fuzz targets.
// Link hat_server.
#ifndef HATFLEET_TESTS_SUPPORT_IN_PROCESS_SERVICES_H_
#define HATFLEET_TESTS_SUPPORT_IN_PROCESS_SERVICES_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "hat/v1/fleet_service.grpc.pb.h"
#include "hat/v1/job_service.grpc.pb.h"
#include "server/coordinator.h"
#include "server/grpc_services.h"
#include "server/storage/kv_store.h"

namespace hat::testing {

class InProcessServices {
 public:
  // The fleet service takes `fleet_token`, the job service `admin_token`.
  static absl::StatusOr<std::unique_ptr<InProcessServices>> Start(const CoordinatorOptions& options,
                                                                  const std::string& fleet_token,
                                                                  const std::string& admin_token) {
    std::unique_ptr<InProcessServices> s(new InProcessServices());
    absl::StatusOr<std::unique_ptr<Coordinator>> c = Coordinator::Open(NewMemoryStore(), options);
    if (!c.ok()) return c.status();
    s->coordinator_ = *std::move(c);
    s->fleet_service_ = std::make_unique<FleetServiceImpl>(s->coordinator_.get(), fleet_token);
    s->job_service_ = std::make_unique<JobServiceImpl>(s->coordinator_.get(), admin_token);
    grpc::ServerBuilder builder;
    builder.RegisterService(s->fleet_service_.get());
    builder.RegisterService(s->job_service_.get());
    s->server_ = builder.BuildAndStart();
    if (s->server_ == nullptr) return absl::InternalError("the in-process server did not start");
    auto channel = s->server_->InProcessChannel(grpc::ChannelArguments());
    s->fleet_ = v1::FleetService::NewStub(channel);
    s->jobs_ = v1::JobService::NewStub(channel);
    return s;
  }

  ~InProcessServices() {
    if (server_) server_->Shutdown();
    if (coordinator_) coordinator_->Shutdown();
  }

  Coordinator& coordinator() { return *coordinator_; }
  v1::FleetService::Stub& fleet() { return *fleet_; }
  v1::JobService::Stub& jobs() { return *jobs_; }

 private:
  InProcessServices() = default;

  std::unique_ptr<Coordinator> coordinator_;
  std::unique_ptr<FleetServiceImpl> fleet_service_;
  std::unique_ptr<JobServiceImpl> job_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::FleetService::Stub> fleet_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
};

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_SUPPORT_IN_PROCESS_SERVICES_H_
