// Bearer-token check.
#include "rpc/grpc_status.h"

namespace hat {

absl::Status CheckBearerToken(const grpc::ServerContext& ctx, const std::string& expected) {
  const auto& metadata = ctx.client_metadata();
  auto it = metadata.find(kAuthorizationKey);
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("missing 'authorization: Bearer <token>' metadata");
  }
  const std::string given(it->second.data(), it->second.size());
  const std::string want = BearerValue(expected);
  unsigned char diff = given.size() == want.size() ? 0 : 1;
  for (size_t i = 0; i < want.size(); ++i) {
    diff |= static_cast<unsigned char>(want[i] ^ (i < given.size() ? given[i] : 0));
  }
  if (diff != 0 || expected.empty()) return absl::UnauthenticatedError("invalid token");
  return absl::OkStatus();
}

}  // namespace hat
