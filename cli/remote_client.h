// The pieces every command that talks to hat-server shares: the connection flags (--server,
// --token, --token-file, TLS, --timeout, --json), the JobService client that carries the token
// and deadline, and JSON output of protobuf messages.
#ifndef HATFLEET_CLI_REMOTE_CLIENT_H_
#define HATFLEET_CLI_REMOTE_CLIENT_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hat/v1/artifact.pb.h"
#include "hat/v1/job_service.grpc.pb.h"

namespace hat::cli {

struct RemoteOptions {
  std::string server;
  std::string token;
  std::string token_file;
  std::string tls_ca, tls_cert, tls_key;
  double timeout_s = 30;
  bool json = false;
  // Command arguments.
  std::string job_id;
  std::string device_class;
  std::string space;
  int samples = 0;
  std::vector<std::string> config_files;  // latency-dataset: measure these configs
  uint64_t seed = 1;
  std::string protocol = "default";
  int runs = 0;
  int warmup = -1;
  std::string idempotency_key;
  std::string format = "hat-csv";
  std::string out;
  std::string model = "default";
  int train_rows = 0;
  bool include_throttled = false;
  int64_t version = 0;
  std::string strategy = "random";
  int repeats = 1;
  // SuperTransformer-training jobs.
  std::string corpus;
  int64_t steps = 0;
  int threads = 1;
  int save_every = 0;
  int max_tokens = 0;
  int warmup_updates = 0;
  double lr = 0;
  int valid_sentences = 0;
  int vocab_size = 0;
  int workers = 0;
  // Artifacts.
  std::string artifact_id;
  std::string file;
  std::string description;
};

void AddConnectionFlags(CLI::App* cmd, RemoteOptions* o);

// The server to talk to: --server, else HAT_SERVER, else 127.0.0.1:7070.
std::string ServerAddress(const RemoteOptions& o);

// A JobService client for the options' server and token.
class Client {
 public:
  // INVALID_ARGUMENT when no token is given anywhere.
  static absl::StatusOr<Client> Connect(const RemoteOptions& o);
  // A context carrying the token; `timeout_ms` < 0 means no deadline (streams).
  std::unique_ptr<grpc::ClientContext> Context(int64_t timeout_ms = 0) const;
  // A call's status as an absl::Status naming the server.
  absl::Status Check(const grpc::Status& s) const;
  // The job `job_id` (NOT_FOUND from the server when there is none).
  absl::StatusOr<v1::Job> GetJob(const std::string& job_id);
  v1::JobService::Stub& stub() { return *stub_; }

 private:
  std::shared_ptr<v1::JobService::Stub> stub_;
  std::string token_;
  std::string server_;
  int64_t timeout_ms_ = 30000;
};

// Submits `req` with the options' idempotency key; prints the job id (the job with --json).
absl::Status SubmitAndPrint(const RemoteOptions& o, v1::SubmitJobRequest req);

// Receives a streamed file into `out` atomically: written to `out`.partial, renamed when complete.
// `next(data, header)` gives the next chunk's bytes (and fills `header` when the chunk carries
// one) or returns false at the end; `finish` is the call's status, asked after the last chunk.
// When `header` declares a size, the bytes must have that size and SHA-256, else DATA_LOSS and
// nothing is written. On success `header` holds the size and SHA-256 received.
absl::Status ReceiveFile(const std::function<bool(std::string*, v1::Artifact*)>& next,
                         const std::function<absl::Status()>& finish, const std::string& out,
                         v1::Artifact* header);

// Downloads artifact `id` into `out` (ReceiveFile: checked, atomic) and returns its record.
absl::StatusOr<v1::Artifact> DownloadArtifactTo(Client& c, const std::string& id,
                                                const std::string& out);

// Indented JSON with the .proto field names.
std::string ToJson(const google::protobuf::Message& m);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_REMOTE_CLIENT_H_
