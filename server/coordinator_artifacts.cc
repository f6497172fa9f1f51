// Artifacts: the files the server keeps (trained SuperTransformers, ...) under
// CoordinatorOptions::artifacts_dir, one file per artifact named by its id, with a record each in
// the store. A file is installed by a rename before its record is written; a record is never
// written for a file that is not in place.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "server/coordinator.h"
#include "server/coordinator_helpers.h"
#include "server/storage/record_codec.h"

namespace hat {

using coordinator_internal::ArtifactKey;
using coordinator_internal::CheckName;
using coordinator_internal::Stamp;

std::string Coordinator::ArtifactPath(const std::string& id) const {
  return absl::StrCat(options_.artifacts_dir, "/", id);
}

absl::StatusOr<std::string> Coordinator::InstallArtifact(const std::string& file,
                                                         v1::Artifact& header, int64_t now_ms,
                                                         v1::ServerMeta& meta, WriteBatch& batch) {
  header.set_artifact_id(absl::StrFormat("art-%06d", meta.next_artifact_number() + 1));
  meta.set_next_artifact_number(meta.next_artifact_number() + 1);
  *header.mutable_created_at() = Stamp(now_ms);
  std::string to = ArtifactPath(header.artifact_id());
  if (std::rename(file.c_str(), to.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot install ", file, " as ", to));
  }
  batch.Put(Table::kArtifacts, ArtifactKey(header.artifact_id()), EncodeRecord(header));
  return to;
}

absl::StatusOr<v1::Artifact> Coordinator::AddArtifact(v1::Artifact header,
                                                      const std::string& file) {
  if (options_.artifacts_dir.empty()) {
    return absl::FailedPreconditionError("this server keeps no artifacts (no artifacts directory)");
  }
  absl::MutexLock lock(&mu_);
  v1::ServerMeta meta = meta_;
  WriteBatch batch;
  HAT_ASSIGN_OR_RETURN(const std::string to, InstallArtifact(file, header, NowMs(), meta, batch));
  absl::Status written = PersistWithMeta(batch, meta);
  if (!written.ok()) {
    std::rename(to.c_str(), file.c_str());
    return written;
  }
  return header;
}

absl::StatusOr<v1::ListArtifactsResponse> Coordinator::ListArtifacts(v1::ArtifactKind kind) {
  v1::ListArtifactsResponse resp;
  absl::Status decode;
  // Records are written once and never changed: the store's own consistency is enough.
  HAT_RETURN_IF_ERROR(
      store_->Scan(Table::kArtifacts, "", [&](const std::string& k, const std::string& v) {
        v1::Artifact a;
        decode = DecodeRecord(v, "artifact " + k, &a);
        if (decode.ok() && (kind == v1::ARTIFACT_KIND_UNSPECIFIED || a.kind() == kind)) {
          *resp.add_artifacts() = std::move(a);
        }
        return decode.ok();
      }));
  HAT_RETURN_IF_ERROR(decode);
  return resp;
}

absl::StatusOr<std::pair<v1::Artifact, std::string>> Coordinator::GetArtifact(
    const std::string& id) {
  HAT_RETURN_IF_ERROR(CheckName("artifact_id", id, false));
  HAT_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                       store_->Get(Table::kArtifacts, ArtifactKey(id)));
  if (!bytes) return absl::NotFoundError(absl::StrCat("artifact '", id, "' does not exist"));
  v1::Artifact a;
  HAT_RETURN_IF_ERROR(DecodeRecord(*bytes, "artifact " + id, &a));
  return std::make_pair(std::move(a), ArtifactPath(id));
}

}  // namespace hat
