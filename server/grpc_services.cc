// gRPC handlers: authenticate, call the Coordinator, convert the status.
#include "server/grpc_services.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>

#include "absl/strings/str_cat.h"
#include "rpc/grpc_status.h"
#include "server/artifact_upload.h"

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

// Sends `path` in chunks through `send(bytes, first)` until it returns false (the client went
// away: not an error). An empty file is one empty chunk, so the header still travels.
absl::Status StreamFile(const std::string& path,
                        const std::function<bool(std::string, bool)>& send) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::DataLossError(absl::StrCat("cannot open ", path));
  std::string buffer(kExportChunkBytes, '\0');
  bool first = true;
  do {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize got = in.gcount();
    if (in.bad()) return absl::DataLossError(absl::StrCat("cannot read ", path));
    if (got == 0 && !first) break;
    if (!send(buffer.substr(0, static_cast<size_t>(got)), first)) break;
    first = false;
  } while (in);
  return absl::OkStatus();
}

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
  return Assign(coordinator_->ListAgents(*req), resp);
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
  Coordinator::JobExport data;
  if (req->source_case() == v1::ExportRequest::kDeviceClass) {
    absl::StatusOr<std::string> rows =
        coordinator_->ExportDataset(req->device_class(), req->format());
    if (!rows.ok()) return ToGrpcStatus(rows.status());
    data.data = *std::move(rows);
    data.filename = absl::StrCat(req->device_class(),
                                 req->format() == v1::EXPORT_FORMAT_HAT_CSV ? ".csv" : ".jsonl");
  } else if (req->source_case() == v1::ExportRequest::kJobId) {
    absl::StatusOr<Coordinator::JobExport> job =
        coordinator_->ExportJob(req->job_id(), req->format());
    if (!job.ok()) return ToGrpcStatus(job.status());
    data = *std::move(job);
  } else {
    return ToGrpcStatus(absl::InvalidArgumentError("source: give job_id or device_class"));
  }
  if (!data.file.empty()) {
    return ToGrpcStatus(StreamFile(data.file, [&](std::string bytes, bool first) {
      v1::ExportChunk chunk;
      if (first) chunk.set_filename(data.filename);
      chunk.set_data(std::move(bytes));
      return !ctx->IsCancelled() && writer->Write(chunk);
    }));
  }
  size_t offset = 0;
  do {
    v1::ExportChunk chunk;
    if (offset == 0) chunk.set_filename(data.filename);
    chunk.set_data(data.data.substr(offset, kExportChunkBytes));
    offset += kExportChunkBytes;
    if (!writer->Write(chunk)) break;
  } while (offset < data.data.size());
  return grpc::Status::OK;
}

grpc::Status JobServiceImpl::ListArtifacts(grpc::ServerContext* ctx,
                                           const v1::ListArtifactsRequest* req,
                                           v1::ListArtifactsResponse* resp) {
  HAT_AUTHORIZE(ctx, token_);
  return Assign(coordinator_->ListArtifacts(req->kind()), resp);
}

grpc::Status JobServiceImpl::UploadArtifact(grpc::ServerContext* ctx,
                                            grpc::ServerReader<v1::UploadArtifactRequest>* reader,
                                            v1::Artifact* resp) {
  HAT_AUTHORIZE(ctx, token_);
  if (coordinator_->artifacts_dir().empty()) {
    return ToGrpcStatus(absl::FailedPreconditionError("this server keeps no artifacts"));
  }
  v1::UploadArtifactRequest message;
  if (!reader->Read(&message) || !message.has_header()) {
    return ToGrpcStatus(
        absl::InvalidArgumentError("upload: the first message must carry the header"));
  }
  absl::StatusOr<std::unique_ptr<ArtifactUpload>> upload =
      ArtifactUpload::Begin(coordinator_->artifacts_dir(), message.header());
  if (!upload.ok()) return ToGrpcStatus(upload.status());
  do {
    absl::Status appended = (*upload)->Append(message.data());
    if (!appended.ok()) return ToGrpcStatus(appended);
  } while (reader->Read(&message));
  if (ctx->IsCancelled()) {
    return ToGrpcStatus(absl::CancelledError("upload: the client cancelled; nothing kept"));
  }
  absl::StatusOr<std::pair<std::string, v1::Artifact>> file = (*upload)->Finish();
  if (!file.ok()) return ToGrpcStatus(file.status());
  absl::StatusOr<v1::Artifact> added = coordinator_->AddArtifact(file->second, file->first);
  if (!added.ok()) std::remove(file->first.c_str());
  return Assign(std::move(added), resp);
}

grpc::Status JobServiceImpl::DownloadArtifact(grpc::ServerContext* ctx,
                                              const v1::DownloadArtifactRequest* req,
                                              grpc::ServerWriter<v1::ArtifactChunk>* writer) {
  HAT_AUTHORIZE(ctx, token_);
  absl::StatusOr<std::pair<v1::Artifact, std::string>> artifact =
      coordinator_->GetArtifact(req->artifact_id());
  if (!artifact.ok()) return ToGrpcStatus(artifact.status());
  return ToGrpcStatus(StreamFile(artifact->second, [&](std::string bytes, bool first) {
    v1::ArtifactChunk chunk;
    if (first) *chunk.mutable_header() = artifact->first;
    chunk.set_data(std::move(bytes));
    return !ctx->IsCancelled() && writer->Write(chunk);
  }));
}

}  // namespace hat
