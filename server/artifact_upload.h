// ArtifactUpload: one upload of an artifact file, streamed to a temporary file in the artifacts
// directory while its SHA-256 is computed. Finish() accepts it only when the bytes that arrived
// have the size and checksum the client declared and, for a SuperTransformer checkpoint, the
// file is a readable hatfleet checkpoint; anything else (a short, damaged or foreign upload, or
// one abandoned half-way) is refused with the reason and leaves no file behind.
#ifndef HATFLEET_SERVER_ARTIFACT_UPLOAD_H_
#define HATFLEET_SERVER_ARTIFACT_UPLOAD_H_

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/sha256.h"
#include "hat/v1/artifact.pb.h"

namespace hat {

// Largest artifact accepted (a WMT SuperTransformer checkpoint with optimizer state is ~2 GB).
inline constexpr int64_t kMaxArtifactBytes = int64_t{16} << 30;

class ArtifactUpload {
 public:
  // Checks `header` (kind, size, sha256, filename: INVALID_ARGUMENT naming the field) and opens
  // the temporary file in `dir`.
  static absl::StatusOr<std::unique_ptr<ArtifactUpload>> Begin(const std::string& dir,
                                                               const v1::Artifact& header);
  ~ArtifactUpload();  // removes the temporary file unless Finish() succeeded

  // INVALID_ARGUMENT once more bytes arrive than the header declared.
  absl::Status Append(absl::string_view bytes);
  // The checked file (to be installed with Coordinator::AddArtifact) and its header, with the
  // space a checkpoint was trained on filled in.
  absl::StatusOr<std::pair<std::string, v1::Artifact>> Finish();

 private:
  ArtifactUpload(std::string path, v1::Artifact header);
  std::string path_;
  v1::Artifact header_;
  std::ofstream out_;
  Sha256 sha_;
  int64_t received_ = 0;
  bool kept_ = false;
};

}  // namespace hat

#endif  // HATFLEET_SERVER_ARTIFACT_UPLOAD_H_
