// Corpus names and their resolution under the server's corpora root; see corpus_root.h.
#include "server/corpus_root.h"

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status_macros.h"

namespace hat {
namespace {

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    const int err = errno;
    const std::string why = std::strerror(err);
    if (err == ENOENT || err == ENOTDIR) return absl::NotFoundError(absl::StrCat(path, ": ", why));
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", why));
  }
  return std::string(resolved);
}

}  // namespace

absl::Status CheckCorpusName(const std::string& field, const std::string& name) {
  if (name.empty() || name.size() > 200) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": must name a corpus under the server's --corpora-dir (1 to 200 characters)"));
  }
  if (name.front() == '/') {
    return absl::InvalidArgumentError(absl::StrCat(
        field, "='", name, "': an absolute path; name the corpus relative to --corpora-dir"));
  }
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == "." || part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(
          field, "='", name, "': empty, '.' and '..' parts are not allowed in corpus names"));
    }
    for (char c : part) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
        return absl::InvalidArgumentError(
            absl::StrCat(field, "='", name, "': only letters, digits, '.', '_', '-' and '/'"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ResolveCorpusDir(const std::string& root, const std::string& name) {
  HAT_RETURN_IF_ERROR(CheckCorpusName("corpus", name));
  if (root.empty()) {
    return absl::FailedPreconditionError(
        "this server has no corpora: start hat-server with --corpora-dir DIR");
  }
  HAT_ASSIGN_OR_RETURN(std::string real_root, RealPath(root));
  absl::StatusOr<std::string> real = RealPath(absl::StrCat(real_root, "/", name));
  if (absl::IsNotFound(real.status())) {
    return absl::NotFoundError(absl::StrCat("corpus '", name, "' does not exist under ", root));
  }
  HAT_RETURN_IF_ERROR(real.status());
  if (*real != real_root && !absl::StartsWith(*real, real_root + "/")) {
    return absl::PermissionDeniedError(absl::StrCat(
        "corpus '", name, "' leads out of the corpora directory (a symbolic link to ", *real, ")"));
  }
  return *real;
}

}  // namespace hat
