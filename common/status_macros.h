// Early-return helpers for absl::Status, which Debian's Abseil (20220623) does not ship.
//
//   HAT_RETURN_IF_ERROR(expr);              // returns expr's status when it is not OK
//   HAT_ASSIGN_OR_RETURN(auto x, expr);     // x = *expr, or returns expr's status
#ifndef HATFLEET_COMMON_STATUS_MACROS_H_
#define HATFLEET_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define HAT_STATUS_CONCAT_INNER_(a, b) a##b
#define HAT_STATUS_CONCAT_(a, b) HAT_STATUS_CONCAT_INNER_(a, b)

#define HAT_RETURN_IF_ERROR(expr) \
  HAT_RETURN_IF_ERROR_IMPL_(HAT_STATUS_CONCAT_(hat_status_, __LINE__), expr)

// The status variable is named after the line, so that a nested use (inside a lambda passed to
// an outer one) does not shadow the outer variable.
#define HAT_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                          \
    ::absl::Status status = (expr);             \
    if (!status.ok()) return status;            \
  } while (false)

#define HAT_ASSIGN_OR_RETURN(lhs, expr) \
  HAT_ASSIGN_OR_RETURN_IMPL_(HAT_STATUS_CONCAT_(hat_statusor_, __LINE__), lhs, expr)

#define HAT_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr)    \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = *std::move(statusor)

namespace hat {

// Returns `status` with `prefix: ` in front of its message (same code). Each layer adds the
// object it was working on, so a message reads "space.yml: encoder-embed-choice[1]: ...".
inline absl::Status Annotate(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), std::string(prefix) + ": " + std::string(status.message()));
}

}  // namespace hat

#endif  // HATFLEET_COMMON_STATUS_MACROS_H_
