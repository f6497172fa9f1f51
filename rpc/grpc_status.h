// absl::Status <-> grpc::Status (the codes are the same numbers) and bearer-token metadata.
#ifndef HATFLEET_RPC_GRPC_STATUS_H_
#define HATFLEET_RPC_GRPC_STATUS_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/status.h"

namespace hat {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

// The metadata key and value a client sends its token in.
inline constexpr char kAuthorizationKey[] = "authorization";
inline std::string BearerValue(const std::string& token) { return "Bearer " + token; }

// OK when the call carries "authorization: Bearer <expected>"; UNAUTHENTICATED otherwise. The
// comparison takes the same time wherever the tokens differ, and no token is ever echoed.
absl::Status CheckBearerToken(const grpc::ServerContext& ctx, const std::string& expected);

}  // namespace hat

#endif  // HATFLEET_RPC_GRPC_STATUS_H_
