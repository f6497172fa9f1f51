// Bearer-token check.
#include "rpc/grpc_status.h"

#include "common/token_compare.h"

namespace hat {

absl::Status CheckBearerToken(const grpc::ServerContext& ctx, const std::string& expected) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing 'authorization: Bearer <token>' metadata");
  }
  const absl::string_view given(it->second.data(), it->second.size());
  if (expected.empty() || !TokenMatches(given, BearerValue(expected))) {
    return absl::UnauthenticatedError("invalid token");
  }
  return absl::OkStatus();
}

}  // namespace hat
