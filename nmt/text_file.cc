// Text corpora through zlib, which reads plain files as they are and gzip files decompressed.
#include "nmt/text_file.h"

#include <zlib.h>

#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"

namespace hat {

absl::StatusOr<std::vector<std::string>> ReadLines(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) return absl::UnavailableError(absl::StrCat(path, ": cannot open"));
  gzbuffer(file, 1 << 17);
  std::vector<std::string> lines;
  std::string current;
  char buffer[1 << 16];
  while (true) {
    const int n = gzread(file, buffer, sizeof(buffer));
    if (n < 0) {
      int code = 0;
      const std::string message = gzerror(file, &code);
      gzclose(file);
      return absl::DataLossError(
          absl::StrCat(path, ": corrupt after line ", lines.size(), ": ", message));
    }
    if (n == 0) break;
    for (int i = 0; i < n; ++i) {
      const char c = buffer[i];
      if (c == '\n') {
        if (!current.empty() && current.back() == '\r') current.pop_back();
        lines.push_back(std::move(current));
        current.clear();
      } else if (c == '\0') {
        gzclose(file);
        return absl::DataLossError(
            absl::StrCat(path, ":", lines.size() + 1, ": NUL byte (not a text file?)"));
      } else {
        current += c;
      }
    }
  }
  gzclose(file);
  if (!current.empty()) {
    if (current.back() == '\r') current.pop_back();
    lines.push_back(std::move(current));
  }
  return lines;
}

}  // namespace hat
