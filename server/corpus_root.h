// Corpora for server-side training live under one directory given to hat-server at start
// (--corpora-dir). Clients name a corpus relative to it ("multi30k", "wmt/en-de"); they never
// give a server path, so a client cannot make the server read files outside that root.
#ifndef HATFLEET_SERVER_CORPUS_ROOT_H_
#define HATFLEET_SERVER_CORPUS_ROOT_H_

#include <string>

#include "absl/status/statusor.h"

namespace hat {

// A corpus name: '/'-separated parts of [A-Za-z0-9._-], none "." or "..", not absolute, at most
// 200 characters. INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckCorpusName(const std::string& field, const std::string& name);

// The real path of corpus `name` under `root`. FAILED_PRECONDITION when the server has no root,
// NOT_FOUND when the corpus does not exist, PERMISSION_DENIED when a symbolic link leads out of
// the root.
absl::StatusOr<std::string> ResolveCorpusDir(const std::string& root, const std::string& name);

}  // namespace hat

#endif  // HATFLEET_SERVER_CORPUS_ROOT_H_
