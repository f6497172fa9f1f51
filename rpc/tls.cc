// TLS credentials from files.
#include "rpc/tls.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace hat {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const std::string& cert_file, const std::string& key_file, const std::string& client_ca) {
  if (cert_file.empty() && key_file.empty()) {
    if (!client_ca.empty()) {
      return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  if (cert_file.empty() || key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both --tls-cert and --tls-key");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  HAT_ASSIGN_OR_RETURN(pair.cert_chain, ReadFileToString(cert_file));
  HAT_ASSIGN_OR_RETURN(pair.private_key, ReadFileToString(key_file));
  options.pem_key_cert_pairs.push_back(pair);
  if (!client_ca.empty()) {
    HAT_ASSIGN_OR_RETURN(options.pem_root_certs, ReadFileToString(client_ca));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const std::string& ca_file, const std::string& cert_file, const std::string& key_file) {
  if (ca_file.empty()) {
    if (!cert_file.empty() || !key_file.empty()) {
      return absl::InvalidArgumentError("a client certificate needs --tls-ca too");
    }
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  HAT_ASSIGN_OR_RETURN(options.pem_root_certs, ReadFileToString(ca_file));
  if (!cert_file.empty()) {
    HAT_ASSIGN_OR_RETURN(options.pem_cert_chain, ReadFileToString(cert_file));
    HAT_ASSIGN_OR_RETURN(options.pem_private_key, ReadFileToString(key_file));
  }
  return grpc::SslCredentials(options);
}

bool IsLoopbackAddress(const std::string& address) {
  absl::string_view a = address;
  if (absl::ConsumePrefix(&a, "unix:") || absl::ConsumePrefix(&a, "unix-abstract:")) return true;
  if (!absl::ConsumePrefix(&a, "ipv4:")) absl::ConsumePrefix(&a, "ipv6:");
  absl::string_view host = a;
  if (absl::ConsumePrefix(&host, "[")) {
    host = host.substr(0, host.find(']'));
  } else if (const size_t colon = host.rfind(':'); colon != absl::string_view::npos) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host == "::1" || absl::StartsWith(host, "127.");
}

}  // namespace hat
