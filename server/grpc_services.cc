// gRPC handlers: authenticate, call the Coordinator, convert the status.
#include "server/grpc_services.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "rpc/grpc_status.h"

namespace hat {
namespace {

constexpr int64_t kMaxLeaseWaitMs = 30000;
constexpr size_t kExportChunkBytes = 1 << 20;

// Milliseconds until the call's deadline (or `cap`, whichever is sooner) as a wall-clock time.
int64_t DeadlineMs(const grpc::ServerContext& ctx, const Coordinator& c, int64_t cap_ms) {
  const int64_t now = c.NowMs();
  int64_t budget = cap_ms;
  const auto deadline = ctx.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    const int64_t left = std::chrono::duration_cast<std::chrono::milliseconds>(
                             deadline - std::chrono::system_clock::now())
                             .count();
    // Answer a little before the client gives up, so the empty lease still arrives.
    budget = std::min(budget, std::max<int64_t>(0, left - 200));
  }
  return now + budget;
}

#define HAT_AUTHORIZE(ctx, token)                                 \
  do {                                                            \
    absl::Status auth_status = CheckBearerToken(*(ctx), (token)); \
    if (!auth_status.ok()) return ToGrpcStatus(auth_status);      \
  } while (false)

template <typename T>
grpc::Status Assign(absl::StatusOr<T> result, T* out) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status FleetServiceImpl::RegisterAgent(grpc::ServerContext* ctx,
                                             const v1::RegisterAgentRequest* req,
                                             v1::RegisterAgentResponse* resp) {
  HAT_AUTHORIZE(ctx, token_);
  return Assign(coordinator_->RegisterAgent(*req), resp);
}

grpc::Status FleetServiceImpl::Heartbeat(grpc::ServerContext* ctx, const v1::HeartbeatRequest* req,
                                         v1::HeartbeatResponse* resp) {
  HAT_AUTHORIZE(ctx, token_);
  return Assign(coordinator_->Heartbeat(*req), resp);
}

grpc::Status FleetServiceImpl::LeaseTask(grpc::ServerContext* ctx, const v1::LeaseTaskRequest* req,
                                         v1::LeaseTaskResponse* resp) {
  HAT_AUTHORIZE(ctx, token_);
  const int64_t wait_ms = std::clamp<int64_t>(
      req->wait().seconds() * 1000 + req->wait().nanos() / 1000000, 0, kMaxLeaseWaitMs);
  return Assign(coordinator_->LeaseTask(*req, DeadlineMs(*ctx, *coordinator_, wait_ms),
                                        [ctx] { return ctx->IsCancelled(); }),
                resp);
}

grpc::Status FleetServiceImpl::ReportResult(grpc::ServerContext* ctx,
                                            const v1::ReportResultRequest* req,
                                            v1::ReportResultResponse* resp) {
  HAT_AUTHORIZE(ctx, token_);
  return Assign(coordinator_->ReportResult(*req), resp);
}

grpc::Status FleetServiceImpl::ReleaseLease(grpc::ServerContext* ctx,
                                            const v1::ReleaseLeaseRequest* req,
                                            v1::ReleaseLeaseResponse*) {
  HAT_AUTHORIZE(ctx, token_);
  return ToGrpcStatus(coordinator_->ReleaseLease(*req));
}

grpc::Status JobServiceImpl::SubmitJob(grpc::ServerContext* ctx, const v1::SubmitJobRequest* req,
                                       v1::SubmitJobResponse* resp) {
  HAT_AUTHORIZE(ctx, token_);
  absl::StatusOr<v1::Job> job = coordinator_->SubmitJob(*req);
  if (!job.ok()) return ToGrpcStatus(job.status());
  *resp->mutable_job() = *std::move(job);
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::GetJob(grpc::ServerContext* ctx, const v1::GetJobRequest* req,
                                    v1::Job* resp) {
  HAT_AUTHORIZE(ctx, token_);
  return Assign(coordinator_->GetJob(req->job_id()), resp);
}

grpc::Status JobServiceImpl::ListJobs(grpc::ServerContext* ctx, const v1::ListJobsRequest* req,
                                      v1::ListJobsResponse* resp) {
  HAT_AUTHORIZE(ctx, token_);
  return Assign(coordinator_->ListJobs(*req), resp);
}

grpc::Status JobServiceImpl::WatchJob(grpc::ServerContext* ctx, const v1::WatchJobRequest* req,
                                      grpc::ServerWriter<v1::Job>* writer) {
  HAT_AUTHORIZE(ctx, token_);
  int64_t version = 0;
  while (!ctx->IsCancelled()) {
    // Wake at least every second, so rate and ETA stay fresh and cancellation is noticed.
    absl::StatusOr<std::pair<v1::Job, int64_t>> change =
        coordinator_->WaitJobChange(req->job_id(), version, DeadlineMs(*ctx, *coordinator_, 1000),
                                    [ctx] { return ctx->IsCancelled(); });
    if (!change.ok()) return ToGrpcStatus(change.status());
    const bool ended = IsTerminal(change->first.state());
    if (change->second != version || ended) {
      if (!writer->Write(change->first)) break;  // the client went away
      version = change->second;
    }
    if (ended) break;
  }
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::CancelJob(grpc::ServerContext* ctx, const v1::CancelJobRequest* req,
                                       v1::Job* resp) {
  HAT_AUTHORIZE(ctx, token_);
  return Assign(coordinator_->CancelJob(req->job_id()), resp);
}

grpc::Status JobServiceImpl::ListAgents(grpc::ServerContext* ctx, const v1::ListAgentsRequest* req,
                                        v1::ListAgentsResponse* resp) {
  HAT_AUTHORIZE(ctx, token_);
  *resp = coordinator_->ListAgents(req->device_class());
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::GetPredictor(grpc::ServerContext* ctx,
                                          const v1::GetPredictorRequest* req,
                                          v1::StoredPredictor* resp) {
  HAT_AUTHORIZE(ctx, token_);
  return Assign(coordinator_->GetPredictor(req->device_class(), req->version()), resp);
}

grpc::Status JobServiceImpl::ListPredictors(grpc::ServerContext* ctx,
                                            const v1::ListPredictorsRequest* req,
                                            v1::ListPredictorsResponse* resp) {
  HAT_AUTHORIZE(ctx, token_);
  return Assign(coordinator_->ListPredictors(req->device_class()), resp);
}

grpc::Status JobServiceImpl::Export(grpc::ServerContext* ctx, const v1::ExportRequest* req,
                                    grpc::ServerWriter<v1::ExportChunk>* writer) {
  HAT_AUTHORIZE(ctx, token_);
  if (req->source_case() != v1::ExportRequest::kDeviceClass) {
    return ToGrpcStatus(absl::UnimplementedError(
        "export of a job's results comes with search jobs; export a device_class dataset"));
  }
  absl::StatusOr<std::string> data =
      coordinator_->ExportDataset(req->device_class(), req->format());
  if (!data.ok()) return ToGrpcStatus(data.status());
  const std::string filename = absl::StrCat(
      req->device_class(), req->format() == v1::EXPORT_FORMAT_HAT_CSV ? ".csv" : ".jsonl");
  size_t offset = 0;
  do {
    v1::ExportChunk chunk;
    if (offset == 0) chunk.set_filename(filename);
    chunk.set_data(data->substr(offset, kExportChunkBytes));
    offset += kExportChunkBytes;
    if (!writer->Write(chunk)) break;
  } while (offset < data->size());
  return grpc::Status::OK;
}

}  // namespace hat
