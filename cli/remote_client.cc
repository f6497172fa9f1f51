// The shared hat-server client of hatctl's remote commands; see remote_client.h.
#include "cli/remote_client.h"

#include <google/protobuf/util/json_util.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "cli/cli_output.h"
#include "common/secret_file.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "rpc/grpc_status.h"
#include "rpc/tls.h"

namespace hat::cli {

void AddConnectionFlags(CLI::App* cmd, RemoteOptions* o) {
  cmd->add_option("--server", o->server,
                  "hat-server address (default: HAT_SERVER or 127.0.0.1:7070)");
  cmd->add_option("--token", o->token, "Admin token (default: HAT_TOKEN)");
  cmd->add_option("--token-file", o->token_file, "File holding the admin token");
  cmd->add_option("--tls-ca", o->tls_ca, "PEM CA of the server: connect with TLS");
  cmd->add_option("--tls-cert", o->tls_cert, "PEM client certificate (mutual TLS)");
  cmd->add_option("--tls-key", o->tls_key, "PEM client key (mutual TLS)");
  cmd->add_option("--timeout", o->timeout_s, "Seconds each call may take")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
}

std::string ServerAddress(const RemoteOptions& o) {
  if (!o.server.empty()) return o.server;
  return std::getenv("HAT_SERVER") ? std::getenv("HAT_SERVER") : "127.0.0.1:7070";
}

absl::StatusOr<Client> Client::Connect(const RemoteOptions& o) {
  Client c;
  const std::string server = ServerAddress(o);
  c.token_ = o.token;
  if (c.token_.empty() && std::getenv("HAT_TOKEN")) c.token_ = std::getenv("HAT_TOKEN");
  if (c.token_.empty() && !o.token_file.empty()) {
    HAT_ASSIGN_OR_RETURN(c.token_, ReadSecretFile(o.token_file));
  }
  if (c.token_.empty()) {
    return absl::InvalidArgumentError(
        "no admin token: pass --token, set HAT_TOKEN, or --token-file DATA_DIR/admin.token");
  }
  HAT_ASSIGN_OR_RETURN(auto creds, ChannelCredentials(o.tls_ca, o.tls_cert, o.tls_key));
  c.stub_ = v1::JobService::NewStub(grpc::CreateChannel(server, creds));
  c.server_ = server;
  c.timeout_ms_ = static_cast<int64_t>(o.timeout_s * 1000);
  return c;
}

std::unique_ptr<grpc::ClientContext> Client::Context(int64_t timeout_ms) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->AddMetadata(kAuthorizationKey, BearerValue(token_));
  const int64_t t = timeout_ms == 0 ? timeout_ms_ : timeout_ms;
  if (t > 0) ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(t));
  return ctx;
}

absl::Status Client::Check(const grpc::Status& s) const {
  return Annotate(FromGrpcStatus(s), server_);
}

absl::StatusOr<v1::Job> Client::GetJob(const std::string& job_id) {
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  v1::Job job;
  HAT_RETURN_IF_ERROR(Check(stub_->GetJob(Context().get(), req, &job)));
  return job;
}

std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.add_whitespace = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return "{}";
  return out;
}

absl::Status SubmitAndPrint(const RemoteOptions& o, v1::SubmitJobRequest req) {
  req.set_idempotency_key(o.idempotency_key);
  HAT_ASSIGN_OR_RETURN(Client c, Client::Connect(o));
  v1::SubmitJobResponse resp;
  HAT_RETURN_IF_ERROR(c.Check(c.stub().SubmitJob(c.Context().get(), req, &resp)));
  if (o.json) {
    std::cout << ToJson(resp.job()) << "\n";
  } else {
    std::cout << resp.job().job_id() << "\n";
  }
  return absl::OkStatus();
}

absl::Status ReceiveFile(const std::function<bool(std::string*, v1::Artifact*)>& next,
                         const std::function<absl::Status()>& finish, const std::string& out,
                         v1::Artifact* header) {
  const std::string partial = out + ".partial";
  std::ofstream file(partial, std::ios::binary | std::ios::trunc);
  if (!file) return absl::UnavailableError(absl::StrCat("cannot write ", partial));
  Sha256 sha;
  int64_t received = 0;
  std::string data;
  const auto start = std::chrono::steady_clock::now();
  while (next(&data, header)) {
    sha.Update(data);
    file.write(data.data(), static_cast<std::streamsize>(data.size()));
    received += static_cast<int64_t>(data.size());
    if (header->size_bytes() > 0) {
      const double seconds = std::max(
          1e-3, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      const double bytes_per_s = received / seconds;
      PrintProgress("download MiB", static_cast<int>(received >> 20),
                    static_cast<int>(std::max<int64_t>(1, header->size_bytes() >> 20)),
                    bytes_per_s / (1 << 20), (header->size_bytes() - received) / bytes_per_s, "");
    }
  }
  file.close();
  absl::Status finished = finish();
  const std::string digest = sha.HexDigest();
  if (finished.ok() && !file) finished = absl::UnavailableError(absl::StrCat("cannot write ", out));
  if (finished.ok() && header->size_bytes() > 0 &&
      (received != header->size_bytes() || digest != header->sha256())) {
    finished = absl::DataLossError(absl::StrCat(
        "download damaged: ", received, " bytes with SHA-256 ", digest, ", the server stored ",
        header->size_bytes(), " bytes with ", header->sha256(), "; nothing written"));
  }
  if (!finished.ok()) {
    std::remove(partial.c_str());
    return finished;
  }
  if (std::rename(partial.c_str(), out.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", partial, " to ", out));
  }
  header->set_size_bytes(received);
  header->set_sha256(digest);
  return absl::OkStatus();
}

absl::StatusOr<v1::Artifact> DownloadArtifactTo(Client& c, const std::string& id,
                                                const std::string& out) {
  v1::DownloadArtifactRequest req;
  req.set_artifact_id(id);
  auto ctx = c.Context(-1);
  auto reader = c.stub().DownloadArtifact(ctx.get(), req);
  v1::Artifact header;
  v1::ArtifactChunk chunk;
  HAT_RETURN_IF_ERROR(ReceiveFile(
      [&](std::string* data, v1::Artifact* h) {
        if (!reader->Read(&chunk)) return false;
        if (chunk.has_header()) *h = chunk.header();
        *data = std::move(*chunk.mutable_data());
        return true;
      },
      [&] { return c.Check(reader->Finish()); }, out, &header));
  return header;
}

}  // namespace hat::cli
