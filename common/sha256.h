// SHA-256 of bytes and files (OpenSSL's), as lowercase hex: the checksum artifacts carry, so a
// download can be checked against what the server stored and an upload against what the client
// sent.
#ifndef HATFLEET_COMMON_SHA256_H_
#define HATFLEET_COMMON_SHA256_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hat {

// Incremental: Update() with the pieces, then HexDigest() once.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view bytes);
  // 64 lowercase hex digits. Ends the computation.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// The file's size and SHA-256, read in chunks (files of any size). NOT_FOUND or UNAVAILABLE
// naming the file when it cannot be read.
struct FileDigest {
  int64_t size = 0;
  std::string sha256;
};
absl::StatusOr<FileDigest> DigestFile(const std::string& path);

}  // namespace hat

#endif  // HATFLEET_COMMON_SHA256_H_
