// Small file helpers that report failures as absl::Status naming the path and the reason.
#ifndef HATFLEET_COMMON_FILE_UTIL_H_
#define HATFLEET_COMMON_FILE_UTIL_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace hat {

// The whole file. NOT_FOUND when it does not exist, INVALID_ARGUMENT when it is larger than
// `max_bytes` or a directory, UNAVAILABLE on other read errors.
absl::StatusOr<std::string> ReadFileToString(const std::string& path, size_t max_bytes = 16 << 20);

// The file name without directory and last extension: "a/b/space0.yml" -> "space0".
std::string FileStem(const std::string& path);

// Writes `contents` to a temporary file beside `path`, fsyncs it and renames it over `path`, so
// readers see the old or the new file, never a partial one.
absl::Status WriteFileAtomically(const std::string& path, const std::string& contents);

}  // namespace hat

#endif  // HATFLEET_COMMON_FILE_UTIL_H_
