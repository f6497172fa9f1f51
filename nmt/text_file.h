// Reading text corpora: one sentence per line, plain or gzip-compressed (detected from the
// content, not the name), with a clear error for what cannot be used.
#ifndef HATFLEET_NMT_TEXT_FILE_H_
#define HATFLEET_NMT_TEXT_FILE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace hat {

// Every line of `path` without its line ending (LF or CRLF). NOT_FOUND when the file does not
// exist; DATA_LOSS for a corrupt gzip stream or a NUL byte (a binary file), naming the line.
absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path);

}  // namespace hat

#endif  // HATFLEET_NMT_TEXT_FILE_H_
