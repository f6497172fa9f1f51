// DistributedOptions: validation and torchrun's environment; see distributed_options.h.
#include "train/distributed_options.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace hat {

bool SplitHostPort(const std::string& text, std::string* host, int* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  *host = text.substr(0, colon);
  return absl::SimpleAtoi(text.substr(colon + 1), port) && *port > 0 && *port < 65536;
}

std::vector<std::string> DistributedOptions::Flags() const {
  return {"--world-size", std::to_string(world_size), "--rank", std::to_string(rank), "--master",
          master};
}

absl::Status DistributedOptions::Validate() const {
  if (world_size < 1 || world_size > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat("world_size=", world_size, ": must be in [1, 4096]"));
  }
  if (rank < 0 || rank >= world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("rank=", rank, ": must be in [0, world_size=", world_size, ")"));
  }
  std::string host;
  int port = 0;
  if (world_size > 1 && !SplitHostPort(master, &host, &port)) {
    return absl::InvalidArgumentError(
        absl::StrCat("master='", master, "': expected HOST:PORT (port 1-65535)"));
  }
  if (!(timeout_s > 0)) {
    return absl::InvalidArgumentError(absl::StrCat("timeout_s=", timeout_s, ": must be positive"));
  }
  return absl::OkStatus();
}

absl::StatusOr<DistributedOptions> DistributedOptions::FromEnvironment(DistributedOptions options) {
  auto number = [](const char* name, int* out) -> absl::Status {
    const char* value = std::getenv(name);
    if (value == nullptr) return absl::OkStatus();
    if (!absl::SimpleAtoi(value, out)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment ", name, "='", value, "': not an integer"));
    }
    return absl::OkStatus();
  };
  if (absl::Status s = number("WORLD_SIZE", &options.world_size); !s.ok()) return s;
  // A Kubernetes indexed Job numbers its pods in JOB_COMPLETION_INDEX: the rank, unless RANK says.
  if (absl::Status s = number("JOB_COMPLETION_INDEX", &options.rank); !s.ok()) return s;
  if (absl::Status s = number("RANK", &options.rank); !s.ok()) return s;
  const char* addr = std::getenv("MASTER_ADDR");
  const char* port = std::getenv("MASTER_PORT");
  if (addr != nullptr || port != nullptr) {
    std::string host;
    int old_port = 0;
    SplitHostPort(options.master, &host, &old_port);
    options.master = absl::StrCat(addr != nullptr ? addr : host, ":",
                                  port != nullptr ? port : std::to_string(old_port));
  }
  return options;
}

}  // namespace hat
