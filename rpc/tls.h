// TLS credentials from PEM files, for hat-server, hat-agent and hatctl.
#ifndef HATFLEET_RPC_TLS_H_
#define HATFLEET_RPC_TLS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace hat {

// Insecure when cert and key are empty; TLS with them; mutual TLS when `client_ca` is also given
// (clients must then present a certificate signed by it).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const std::string& cert_file, const std::string& key_file, const std::string& client_ca);

// Insecure when `ca_file` is empty; TLS trusting `ca_file` otherwise, presenting the client
// certificate when `cert_file` and `key_file` are given (mutual TLS).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file);

// Whether a listening address ("HOST:PORT", "[V6]:PORT", "unix:PATH") only takes connections
// from this machine: 127.0.0.0/8, ::1, localhost, or a Unix socket. Anything else (0.0.0.0, a
// LAN address, a name) may carry tokens across a network, where clear text is not safe.
bool IsLoopbackAddress(const std::string& address);

}  // namespace hat

#endif  // HATFLEET_RPC_TLS_H_
