// `hatctl health`: asks hat-server's gRPC health service (grpc.health.v1.Health/Check) whether
// it is serving. Needs no token, so container probes and load balancers can run it; exit 0 when
// SERVING, 1 otherwise (NOT_SERVING while the server shuts down, or unreachable).
#ifndef HATFLEET_CLI_HEALTH_COMMAND_H_
#define HATFLEET_CLI_HEALTH_COMMAND_H_

#include <CLI/CLI.hpp>
#include <string>

#include "absl/status/statusor.h"

namespace hat::cli {

// The status name of a grpc.health.v1.HealthCheckResponse in wire format ("SERVING", ...);
// INVALID_ARGUMENT when the bytes are not one.
absl::StatusOr<std::string> ParseHealthCheckResponse(const std::string& wire);

void AddHealthCommand(CLI::App& app, int* exit_code);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_HEALTH_COMMAND_H_
