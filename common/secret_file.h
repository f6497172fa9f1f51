// Reading secrets (tokens) from files, refusing files other users can read or change.
#ifndef HATFLEET_COMMON_SECRET_FILE_H_
#define HATFLEET_COMMON_SECRET_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace hat {

// The secret in `path`, surrounding whitespace removed. FAILED_PRECONDITION when the file is
// readable or writable by every user (mode o+r or o+w: a token there is everyone's; the message
// says to chmod 600 it), INVALID_ARGUMENT when it holds nothing or is larger than 4 KiB, and
// ReadFileToString's errors otherwise. The secret itself never appears in a message.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace hat

#endif  // HATFLEET_COMMON_SECRET_FILE_H_
