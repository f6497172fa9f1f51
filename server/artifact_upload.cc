// Artifact uploads; see artifact_upload.h.
#include "server/artifact_upload.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_macros.h"
#include "train/checkpoint.h"

namespace hat {
namespace {

absl::Status CheckHeader(const v1::Artifact& h) {
  if (h.kind() != v1::ARTIFACT_KIND_SUPERNET_CHECKPOINT) {
    return absl::InvalidArgumentError(
        absl::StrCat("header.kind=", v1::ArtifactKind_Name(h.kind()),
                     ": only SuperTransformer checkpoints (ARTIFACT_KIND_SUPERNET_CHECKPOINT) are "
                     "uploaded"));
  }
  if (h.size_bytes() < 1 || h.size_bytes() > kMaxArtifactBytes) {
    return absl::InvalidArgumentError(absl::StrCat("header.size_bytes=", h.size_bytes(),
                                                   ": must be in [1, ", kMaxArtifactBytes, "]"));
  }
  bool hex = h.sha256().size() == 64;
  for (char c : h.sha256()) hex = hex && (absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'));
  if (!hex) {
    return absl::InvalidArgumentError("header.sha256: must be 64 lowercase hex digits");
  }
  if (h.filename().size() > 200 || h.description().size() > 1024) {
    return absl::InvalidArgumentError(
        "header.filename or header.description: longer than 200 / 1024 characters");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ArtifactUpload>> ArtifactUpload::Begin(const std::string& dir,
                                                                      const v1::Artifact& header) {
  HAT_RETURN_IF_ERROR(CheckHeader(header));
  // Unique within the process; a leftover of a crashed server is overwritten or never read.
  static std::atomic<int64_t> counter{0};
  const std::string path =
      absl::StrFormat("%s/upload-%d-%d.partial", dir, static_cast<long>(::getpid()), ++counter);
  std::unique_ptr<ArtifactUpload> upload(new ArtifactUpload(path, header));
  upload->out_.open(path, std::ios::binary | std::ios::trunc);
  if (!upload->out_) {
    return absl::UnavailableError(absl::StrCat("cannot create ", path, " for the upload"));
  }
  return upload;
}

ArtifactUpload::ArtifactUpload(std::string path, v1::Artifact header)
    : path_(std::move(path)), header_(std::move(header)) {
  header_.clear_artifact_id();
  header_.clear_job_id();
  header_.clear_created_at();
  header_.clear_space_name();
}

ArtifactUpload::~ArtifactUpload() {
  if (out_.is_open()) out_.close();
  if (!kept_) std::remove(path_.c_str());
}

absl::Status ArtifactUpload::Append(absl::string_view bytes) {
  received_ += static_cast<int64_t>(bytes.size());
  if (received_ > header_.size_bytes()) {
    return absl::InvalidArgumentError(
        absl::StrCat("upload: more than the declared ", header_.size_bytes(), " bytes arrived"));
  }
  sha_.Update(bytes);
  out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out_) return absl::UnavailableError(absl::StrCat(path_, ": write failed (disk full?)"));
  return absl::OkStatus();
}

absl::StatusOr<std::pair<std::string, v1::Artifact>> ArtifactUpload::Finish() {
  out_.close();
  if (!out_) return absl::UnavailableError(absl::StrCat(path_, ": write failed (disk full?)"));
  if (received_ != header_.size_bytes()) {
    return absl::DataLossError(absl::StrCat("upload incomplete: ", received_, " of ",
                                            header_.size_bytes(), " bytes arrived; nothing kept"));
  }
  const std::string sha = sha_.HexDigest();
  if (sha != header_.sha256()) {
    return absl::DataLossError(absl::StrCat("upload damaged: its SHA-256 is ", sha,
                                            ", the client declared ", header_.sha256(),
                                            "; nothing kept"));
  }
  absl::StatusOr<CheckpointInfo> info = ReadCheckpointInfo(path_);
  if (!info.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "upload is not a hatfleet SuperTransformer checkpoint: ", info.status().message()));
  }
  header_.set_space_name(info->space.name);
  if (header_.description().empty()) {
    header_.set_description(absl::StrFormat("%s %s checkpoint, step %d (uploaded)",
                                            info->space.name, info->kind, info->step));
  }
  if (header_.filename().empty()) header_.set_filename("supernet.pt");
  kept_ = true;
  return std::make_pair(path_, header_);
}

}  // namespace hat
