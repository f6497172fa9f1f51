#include "server/coordinator_helpers.h"

#include <google/protobuf/util/time_util.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace hat::coordinator_internal {
namespace {

constexpr size_t kMaxNameLength = 64;

}  // namespace

absl::Status CheckName(const std::string& field, const std::string& value, bool allow_empty) {
  if (value.empty() && allow_empty) return absl::OkStatus();
  if (value.empty() || value.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be 1 to ", kMaxNameLength, " characters, got ", value.size()));
  }
  for (char c : value) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(field, "='", value.substr(0, kMaxNameLength),
                                                     "': only letters, digits, '.', '_', '-'"));
    }
  }
  return absl::OkStatus();
}

google::protobuf::Timestamp Stamp(int64_t unix_ms) {
  return google::protobuf::util::TimeUtil::MillisecondsToTimestamp(unix_ms);
}

std::string TaskKey(const std::string& job_id, int index) {
  return absl::StrFormat("%s/%06d", job_id, index);
}

std::string LeaseId(const std::string& task_key, int attempt) {
  return absl::StrCat(task_key, "#", attempt);
}

int LeaseAttempt(const std::string& lease_id, const std::string& task_key) {
  const std::string prefix = task_key + "#";
  int attempt = 0;
  if (!absl::StartsWith(lease_id, prefix) ||
      !absl::SimpleAtoi(absl::string_view(lease_id).substr(prefix.size()), &attempt) ||
      attempt < 1) {
    return 0;
  }
  // SimpleAtoi also reads "+2", " 2" and "02": only the id LeaseTask makes counts.
  return LeaseId(task_key, attempt) == lease_id ? attempt : 0;
}

std::string PredictorKey(const std::string& device_class, int64_t version) {
  return absl::StrFormat("%s/%012d", device_class, version);
}

std::string ArtifactKey(const std::string& artifact_id) { return artifact_id; }

}  // namespace hat::coordinator_internal
