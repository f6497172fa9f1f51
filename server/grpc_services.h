// The gRPC face of the Coordinator: FleetService for agents, JobService for users. Handlers are
// thin: check the caller's token, bound the wait by the call's deadline, call the Coordinator,
// convert its absl::Status with ToGrpcStatus().
#ifndef HATFLEET_SERVER_GRPC_SERVICES_H_
#define HATFLEET_SERVER_GRPC_SERVICES_H_

#include <string>

#include "hat/v1/fleet_service.grpc.pb.h"
#include "hat/v1/job_service.grpc.pb.h"
#include "server/coordinator.h"

namespace hat {

class FleetServiceImpl final : public v1::FleetService::Service {
 public:
  // `fleet_token` is what agents must present ("authorization: Bearer <token>").
  FleetServiceImpl(Coordinator* coordinator, std::string fleet_token)
      : coordinator_(coordinator), token_(std::move(fleet_token)) {}

  grpc::Status RegisterAgent(grpc::ServerContext* ctx, const v1::RegisterAgentRequest* req,
                             v1::RegisterAgentResponse* resp) override;
  grpc::Status Heartbeat(grpc::ServerContext* ctx, const v1::HeartbeatRequest* req,
                         v1::HeartbeatResponse* resp) override;
  grpc::Status LeaseTask(grpc::ServerContext* ctx, const v1::LeaseTaskRequest* req,
                         v1::LeaseTaskResponse* resp) override;
  grpc::Status ReportResult(grpc::ServerContext* ctx, const v1::ReportResultRequest* req,
                            v1::ReportResultResponse* resp) override;
  grpc::Status ReleaseLease(grpc::ServerContext* ctx, const v1::ReleaseLeaseRequest* req,
                            v1::ReleaseLeaseResponse* resp) override;

 private:
  Coordinator* coordinator_;
  std::string token_;
};

class JobServiceImpl final : public v1::JobService::Service {
 public:
  JobServiceImpl(Coordinator* coordinator, std::string admin_token)
      : coordinator_(coordinator), token_(std::move(admin_token)) {}

  grpc::Status SubmitJob(grpc::ServerContext* ctx, const v1::SubmitJobRequest* req,
                         v1::SubmitJobResponse* resp) override;
  grpc::Status GetJob(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                      v1::Job* resp) override;
  grpc::Status ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* req,
                        v1::ListJobsResponse* resp) override;
  grpc::Status WatchJob(grpc::ServerContext* ctx, const v1::WatchJobRequest* req,
                        grpc::ServerWriter<v1::Job>* writer) override;
  grpc::Status CancelJob(grpc::ServerContext* ctx, const v1::CancelJobRequest* req,
                         v1::Job* resp) override;
  grpc::Status ListAgents(grpc::ServerContext* ctx, const v1::ListAgentsRequest* req,
                          v1::ListAgentsResponse* resp) override;
  grpc::Status Export(grpc::ServerContext* ctx, const v1::ExportRequest* req,
                      grpc::ServerWriter<v1::ExportChunk>* writer) override;
  grpc::Status GetPredictor(grpc::ServerContext* ctx, const v1::GetPredictorRequest* req,
                            v1::StoredPredictor* resp) override;
  grpc::Status ListPredictors(grpc::ServerContext* ctx, const v1::ListPredictorsRequest* req,
                              v1::ListPredictorsResponse* resp) override;
  grpc::Status ListArtifacts(grpc::ServerContext* ctx, const v1::ListArtifactsRequest* req,
                             v1::ListArtifactsResponse* resp) override;
  grpc::Status UploadArtifact(grpc::ServerContext* ctx,
                              grpc::ServerReader<v1::UploadArtifactRequest>* reader,
                              v1::Artifact* resp) override;
  grpc::Status DownloadArtifact(grpc::ServerContext* ctx, const v1::DownloadArtifactRequest* req,
                                grpc::ServerWriter<v1::ArtifactChunk>* writer) override;

 private:
  Coordinator* coordinator_;
  std::string token_;
};

}  // namespace hat

#endif  // HATFLEET_SERVER_GRPC_SERVICES_H_
