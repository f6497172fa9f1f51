// `hatctl health`; see health_command.h.
#include "cli/health_command.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <future>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cli/cli_output.h"
#include "cli/remote_client.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/tls.h"

namespace hat::cli {
namespace {

// grpc.health.v1 is two tiny messages; Debian ships no generated code for them, so they are
// written by hand: HealthCheckRequest { string service = 1; }, HealthCheckResponse
// { ServingStatus status = 1; }.
std::string HealthCheckRequest(const std::string& service) {
  if (service.empty()) return "";
  std::string wire = "\x0a";  // field 1, length-delimited
  size_t n = service.size();
  while (n >= 0x80) {
    wire.push_back(static_cast<char>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  wire.push_back(static_cast<char>(n));
  return wire + service;
}

absl::Status RunHealth(const RemoteOptions& o, const std::string& service) {
  const std::string server = ServerAddress(o);
  HAT_ASSIGN_OR_RETURN(auto creds, ChannelCredentials(o.tls_ca, o.tls_cert, o.tls_key));
  grpc::GenericStub stub(grpc::CreateChannel(server, creds));
  const std::string request_bytes = HealthCheckRequest(service);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() +
                   std::chrono::milliseconds(static_cast<int64_t>(o.timeout_s * 1000)));
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status s) { done.set_value(std::move(s)); });
  const grpc::Status call = done.get_future().get();
  if (!call.ok()) {
    return Annotate(FromGrpcStatus(call), absl::StrCat("health check of ", server));
  }
  std::vector<grpc::Slice> slices;
  std::string wire;
  if (response.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices)
      wire.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  HAT_ASSIGN_OR_RETURN(std::string status, ParseHealthCheckResponse(wire));
  if (o.json) {
    std::cout << nlohmann::json{{"server", server}, {"service", service}, {"status", status}}.dump()
              << "\n";
  } else {
    std::cout << server << ": " << status << "\n";
  }
  if (status != "SERVING") {
    return absl::UnavailableError(absl::StrCat(server, " is ", status));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ParseHealthCheckResponse(const std::string& wire) {
  // Proto3 leaves a zero field out: empty bytes are status UNKNOWN.
  int status = 0;
  size_t i = 0;
  while (i < wire.size()) {
    const uint8_t tag = static_cast<uint8_t>(wire[i++]);
    if (tag != 0x08 || i >= wire.size()) {
      return absl::InvalidArgumentError("health check response: not a HealthCheckResponse");
    }
    status = 0;
    int shift = 0;
    while (i < wire.size() && shift < 35) {
      const uint8_t b = static_cast<uint8_t>(wire[i++]);
      status |= (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0) break;
    }
  }
  switch (status) {
    case 0:
      return std::string("UNKNOWN");
    case 1:
      return std::string("SERVING");
    case 2:
      return std::string("NOT_SERVING");
    case 3:
      return std::string("SERVICE_UNKNOWN");
    default:
      return absl::InvalidArgumentError(absl::StrCat("health check response: status ", status));
  }
}

void AddHealthCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<RemoteOptions>();
  auto service = std::make_shared<std::string>();
  o->timeout_s = 5;
  CLI::App* cmd = app.add_subcommand(
      "health",
      "Ask hat-server's gRPC health service whether it serves (no token; exit 0 when SERVING)");
  AddConnectionFlags(cmd, o.get());
  cmd->add_option("--service", *service, "Service name to ask about (default: the server)");
  cmd->callback([o, service, exit_code] { *exit_code = ReportError(RunHealth(*o, *service)); });
}

}  // namespace hat::cli
