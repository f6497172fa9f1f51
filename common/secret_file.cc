// ReadSecretFile; see secret_file.h.
#include "common/secret_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/file_util.h"

namespace hat {

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::FailedPreconditionError(absl::StrCat(
        path, ": mode ", mode, " lets every user ", (st.st_mode & S_IROTH) != 0 ? "read" : "change",
        " this secret; make it private (chmod 600 ", path, ") or pass it another way"));
  }
  absl::StatusOr<std::string> contents = ReadFileToString(path, 4096);
  if (!contents.ok()) return contents.status();
  std::string secret(absl::StripAsciiWhitespace(*contents));
  if (secret.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": holds no secret (the file is empty)"));
  }
  return secret;
}

}  // namespace hat
