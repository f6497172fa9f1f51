// hat-server: the hatfleet coordinator.
//
//   hat-server --data-dir DIR [--listen 127.0.0.1:7070] [--local-agent] [--corpora-dir DIR]
//              [--job-threads N] [--fleet-token T --admin-token T]
//              [--tls-cert F --tls-key F [--tls-client-ca F]]
//              [--http 127.0.0.1:8080 [--http-port-file F] [--viewer-token T]]
//
// DIR holds the RocksDB store (db/), artifact files (artifacts/), the work directories of
// running server jobs (jobs/) and prepared corpora (cache/).
//
// Tokens: from the flags, else HAT_FLEET_TOKEN / HAT_ADMIN_TOKEN, else DIR/fleet.token and
// DIR/admin.token (created with random tokens, mode 0600, on first start); the dashboard's
// read-only token likewise from --viewer-token, HAT_VIEWER_TOKEN or DIR/viewer.token. Tokens are
// never printed.
//
// --http serves the dashboard, its JSON API and /metrics (server/dashboard_server.h) with the
// same TLS files as the gRPC side. SIGINT/SIGTERM shut down in order: health NOT_SERVING, long
// polls woken, local agent stopped, RPCs drained, storage closed.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/agent.h"
#include "common/file_util.h"
#include "common/flag_names.h"
#include "common/secret_file.h"
#include "common/shutdown_signals.h"
#include "common/status_macros.h"
#include "rpc/tls.h"
#include "server/coordinator.h"
#include "server/dashboard_server.h"
#include "server/grpc_services.h"
#include "server/job_runner.h"
#include "server/metrics.h"
#include "server/predictor_job.h"
#include "server/search_job.h"
#include "server/storage/kv_store.h"
#include "server/supernet_job.h"

ABSL_FLAG(std::string, data_dir, "", "Directory of the RocksDB store and token files (required)");
ABSL_FLAG(std::string, listen, "127.0.0.1:7070", "Address to listen on (port 0 picks one)");
ABSL_FLAG(std::string, port_file, "", "Write the bound port to this file once serving");
ABSL_FLAG(std::string, fleet_token, "", "Token agents present (default: env or DIR/fleet.token)");
ABSL_FLAG(std::string, admin_token, "", "Token users present (default: env or DIR/admin.token)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve TLS");
ABSL_FLAG(std::string, tls_key, "", "PEM private key for --tls-cert");
ABSL_FLAG(std::string, tls_client_ca, "", "PEM CA: require client certificates (mutual TLS)");
ABSL_FLAG(bool, local_agent, false, "Also run an agent for this machine in-process");
ABSL_FLAG(std::string, local_agent_device_class, "local-cpu", "Device class of the local agent");
ABSL_FLAG(int, local_agent_threads, 1, "Intra-op threads of the local agent");
ABSL_FLAG(double, heartbeat_seconds, 5, "Heartbeat interval asked of agents");
ABSL_FLAG(double, lost_after_seconds, 20, "An agent silent this long is lost, its lease expires");
ABSL_FLAG(double, lease_seconds, 120, "Lease duration (heartbeats extend it)");
ABSL_FLAG(int, max_attempts, 3, "Leases of one config before it fails");
ABSL_FLAG(double, recovery_grace_seconds, 30,
          "After a restart, agents have this long to reconnect before they count as lost");
ABSL_FLAG(int, max_message_bytes, 16 << 20, "Largest request accepted");
ABSL_FLAG(int, job_threads, 1,
          "Server jobs (predictor and SuperTransformer training) that run at once");
ABSL_FLAG(std::string, http, "",
          "Serve the dashboard, its JSON API and /metrics on this HOST:PORT (empty: not at all)");
ABSL_FLAG(std::string, http_port_file, "", "Write the bound HTTP port to this file once serving");
ABSL_FLAG(std::string, viewer_token, "",
          "Read-only dashboard token (default: env HAT_VIEWER_TOKEN or DIR/viewer.token)");
ABSL_FLAG(std::string, corpora_dir, "",
          "Directory of the corpora SuperTransformer-training jobs may name (relative to it)");
ABSL_FLAG(std::string, hatctl, "",
          "hatctl binary for the other ranks of data-parallel SuperTransformer jobs (default: the "
          "one beside hat-server)");

namespace hat {
namespace {

struct ServerOptions {
  std::string data_dir, listen, port_file, fleet_token, admin_token, viewer_token;
  std::string http, http_port_file;
  std::string tls_cert, tls_key, tls_client_ca;
  bool local_agent = false;
  std::string local_agent_device_class;
  int local_agent_threads = 1;
  int job_threads = 1;
  std::string corpora_dir;
  std::string hatctl;
  CoordinatorOptions coordinator;
  int max_message_bytes = 0;

  absl::Status Validate() const {
    if (data_dir.empty()) return absl::InvalidArgumentError("--data-dir is required");
    if (coordinator.heartbeat_interval_ms < 100 ||
        coordinator.lost_after_ms < 2 * coordinator.heartbeat_interval_ms ||
        coordinator.lease_duration_ms < 1000) {
      return absl::InvalidArgumentError(
          "need --heartbeat-seconds >= 0.1, --lost-after-seconds >= 2 heartbeats, "
          "--lease-seconds >= 1");
    }
    if (coordinator.max_attempts < 1) return absl::InvalidArgumentError("--max-attempts >= 1");
    if (job_threads < 1 || job_threads > 64) {
      return absl::InvalidArgumentError(
          absl::StrCat("--job-threads=", job_threads, ": must be in [1, 64]"));
    }
    if (max_message_bytes < (1 << 16)) {
      return absl::InvalidArgumentError("--max-message-bytes must be at least 65536");
    }
    return absl::OkStatus();
  }
};

// The token from the flag, else the environment, else DIR/NAME.token (created if absent).
absl::StatusOr<std::string> ResolveToken(const std::string& flag, const char* env,
                                         const std::string& dir, const std::string& name) {
  if (!flag.empty()) return flag;
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') return std::string(v);
  const std::string path = absl::StrCat(dir, "/", name, ".token");
  absl::StatusOr<std::string> existing = ReadSecretFile(path);
  if (existing.ok()) return existing;
  if (existing.status().code() != absl::StatusCode::kNotFound) return existing.status();
  std::random_device rd;
  std::string token;
  for (int i = 0; i < 32; ++i) token += "0123456789abcdef"[rd() % 16];
  const mode_t old = ::umask(077);
  absl::Status written = WriteFileAtomically(path, token + "\n");
  ::umask(old);
  HAT_RETURN_IF_ERROR(written);
  std::cerr << "hat-server: created " << path << "\n";
  return token;
}

absl::Status Serve(ServerOptions o, const sigset_t& shutdown_signals) {
  HAT_RETURN_IF_ERROR(o.Validate());
  ::mkdir(o.data_dir.c_str(), 0700);
  HAT_ASSIGN_OR_RETURN(o.fleet_token,
                       ResolveToken(o.fleet_token, "HAT_FLEET_TOKEN", o.data_dir, "fleet"));
  HAT_ASSIGN_OR_RETURN(o.admin_token,
                       ResolveToken(o.admin_token, "HAT_ADMIN_TOKEN", o.data_dir, "admin"));
  if (!o.http.empty()) {
    HAT_ASSIGN_OR_RETURN(o.viewer_token,
                         ResolveToken(o.viewer_token, "HAT_VIEWER_TOKEN", o.data_dir, "viewer"));
  }
  for (const char* sub : {"/artifacts", "/jobs", "/cache"}) {
    const std::string dir = o.data_dir + sub;
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(absl::StrCat("cannot create ", dir));
    }
  }
  struct stat corpora;
  if (!o.corpora_dir.empty() &&
      (::stat(o.corpora_dir.c_str(), &corpora) != 0 || !S_ISDIR(corpora.st_mode))) {
    return absl::InvalidArgumentError(
        absl::StrCat("--corpora-dir=", o.corpora_dir, ": not a directory"));
  }
  o.coordinator.artifacts_dir = o.data_dir + "/artifacts";
  // Files an upload or a job was still writing when the server died never became artifacts.
  std::error_code listing;
  for (const auto& entry :
       std::filesystem::directory_iterator(o.coordinator.artifacts_dir, listing)) {
    if (entry.path().extension() == ".partial") {
      std::error_code removing;
      std::filesystem::remove(entry.path(), removing);
    }
  }
  ServerMetrics metrics(o.data_dir + "/db");
  o.coordinator.on_measurement_stored = [&metrics](const std::string& device_class,
                                                   const v1::MeasurementResult& result) {
    metrics.ObserveMeasurement(device_class, result);
  };
  HAT_ASSIGN_OR_RETURN(std::unique_ptr<KvStore> store, OpenRocksDbStore(o.data_dir + "/db"));
  HAT_ASSIGN_OR_RETURN(std::unique_ptr<Coordinator> coordinator,
                       Coordinator::Open(std::move(store), o.coordinator));
  metrics.SetCoordinator(coordinator.get());
  HAT_ASSIGN_OR_RETURN(auto credentials, ServerCredentials(o.tls_cert, o.tls_key, o.tls_client_ca));
  // Every RPC carries a token, so clear text beyond this machine gives them away. Warned, not
  // refused: a private network or a TLS-terminating proxy may make it acceptable.
  for (const auto& [what, address] : {std::pair<const char*, std::string>{"gRPC", o.listen},
                                      std::pair<const char*, std::string>{"HTTP", o.http}}) {
    if (o.tls_cert.empty() && !address.empty() && !IsLoopbackAddress(address)) {
      std::cerr << "hat-server: WARNING: " << what << " on " << address
                << " without TLS: tokens and data cross the network in clear text; pass "
                   "--tls-cert and --tls-key (docs/DEPLOY.md, TLS)\n";
    }
  }

  FleetServiceImpl fleet(coordinator.get(), o.fleet_token);
  JobServiceImpl jobs(coordinator.get(), o.admin_token);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(o.listen, credentials, &port);
  builder.SetMaxReceiveMessageSize(o.max_message_bytes);
  builder.RegisterService(&fleet);
  builder.RegisterService(&jobs);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  interceptors.push_back(std::make_unique<RpcMetricsInterceptorFactory>(&metrics));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", o.listen));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  std::cerr << "hat-server: serving on port " << port << " (data in " << o.data_dir << ")\n";
  if (!o.port_file.empty()) {
    HAT_RETURN_IF_ERROR(WriteFileAtomically(o.port_file, absl::StrCat(port, "\n")));
  }

  std::unique_ptr<DashboardServer> dashboard;
  if (!o.http.empty()) {
    DashboardOptions d{o.http,     o.admin_token, o.viewer_token,
                       o.tls_cert, o.tls_key,     o.tls_client_ca};
    HAT_ASSIGN_OR_RETURN(dashboard, DashboardServer::Start(d, coordinator.get(), &metrics));
    std::cerr << "hat-server: dashboard on http" << (o.tls_cert.empty() ? "" : "s") << " port "
              << dashboard->port() << "\n";
    if (!o.http_port_file.empty()) {
      HAT_RETURN_IF_ERROR(
          WriteFileAtomically(o.http_port_file, absl::StrCat(dashboard->port(), "\n")));
    }
  }

  std::atomic<bool> stopping{false};
  std::thread ticker([&] {
    while (!stopping) {
      absl::Status s = coordinator->Tick();
      if (!s.ok()) std::cerr << "hat-server: maintenance: " << s.message() << "\n";
      s = coordinator->AdvanceActiveSampling();
      if (!s.ok()) std::cerr << "hat-server: uncertainty sampling: " << s.message() << "\n";
      for (int i = 0; i < 10 && !stopping; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  });
  // Jobs the server executes itself, on --job-threads threads beside the fleet.
  JobRunner runner(coordinator.get(), {o.job_threads, o.data_dir + "/jobs"});
  runner.Add(std::make_unique<PredictorTrainingJob>());
  runner.Add(std::make_unique<SupernetTrainingJob>(
      SupernetJobOptions{o.corpora_dir, o.data_dir + "/cache", o.hatctl}));
  runner.Add(std::make_unique<SearchJob>(o.corpora_dir));
  runner.Start();
  std::unique_ptr<Agent> local;
  std::thread local_thread;
  if (o.local_agent) {
    AgentOptions a;
    a.device_class = o.local_agent_device_class;
    a.threads = o.local_agent_threads;
    a.token = o.fleet_token;
    a.host_group = "local";
    local = std::make_unique<Agent>(a, server->InProcessChannel(grpc::ChannelArguments()));
    local_thread = std::thread([&] {
      absl::Status s = local->Run();
      if (!s.ok()) std::cerr << "hat-server: local agent stopped: " << s.message() << "\n";
    });
  }

  // Wait for SIGINT or SIGTERM (blocked in every thread by main, so only this one sees them).
  const int sig = WaitForShutdownSignal(shutdown_signals);
  std::cerr << "hat-server: signal " << sig << ", shutting down\n";
  server->GetHealthCheckService()->SetServingStatus(false);
  coordinator->Shutdown();
  if (local) {
    local->Stop();
    local_thread.join();
  }
  if (dashboard) dashboard->Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  stopping = true;
  ticker.join();
  runner.Stop();
  return absl::OkStatus();
}

}  // namespace
}  // namespace hat

int main(int argc, char** argv) {
  // Block the shutdown signals before any thread starts; Serve() waits for them with sigwait.
  const sigset_t shutdown_signals = hat::BlockShutdownSignals();
  absl::SetProgramUsageMessage("hatfleet coordinator: hat-server --data-dir DIR [--local-agent]");
  hat::NormalizeFlagNames(argc, argv);
  absl::ParseCommandLine(argc, argv);
  hat::ServerOptions o;
  o.data_dir = absl::GetFlag(FLAGS_data_dir);
  o.listen = absl::GetFlag(FLAGS_listen);
  o.port_file = absl::GetFlag(FLAGS_port_file);
  o.fleet_token = absl::GetFlag(FLAGS_fleet_token);
  o.admin_token = absl::GetFlag(FLAGS_admin_token);
  o.viewer_token = absl::GetFlag(FLAGS_viewer_token);
  o.http = absl::GetFlag(FLAGS_http);
  o.http_port_file = absl::GetFlag(FLAGS_http_port_file);
  o.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  o.tls_key = absl::GetFlag(FLAGS_tls_key);
  o.tls_client_ca = absl::GetFlag(FLAGS_tls_client_ca);
  o.local_agent = absl::GetFlag(FLAGS_local_agent);
  o.local_agent_device_class = absl::GetFlag(FLAGS_local_agent_device_class);
  o.local_agent_threads = absl::GetFlag(FLAGS_local_agent_threads);
  o.coordinator.heartbeat_interval_ms =
      static_cast<int64_t>(absl::GetFlag(FLAGS_heartbeat_seconds) * 1000);
  o.coordinator.lost_after_ms =
      static_cast<int64_t>(absl::GetFlag(FLAGS_lost_after_seconds) * 1000);
  o.coordinator.lease_duration_ms = static_cast<int64_t>(absl::GetFlag(FLAGS_lease_seconds) * 1000);
  o.coordinator.max_attempts = absl::GetFlag(FLAGS_max_attempts);
  o.coordinator.recovery_grace_ms =
      static_cast<int64_t>(absl::GetFlag(FLAGS_recovery_grace_seconds) * 1000);
  o.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  o.job_threads = absl::GetFlag(FLAGS_job_threads);
  o.corpora_dir = absl::GetFlag(FLAGS_corpora_dir);
  o.hatctl = absl::GetFlag(FLAGS_hatctl);
  if (o.hatctl.empty()) {
    std::error_code ec;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    o.hatctl = ec ? "hatctl" : (self.parent_path() / "hatctl").string();
  }
  absl::Status s = hat::Serve(std::move(o), shutdown_signals);
  if (!s.ok()) {
    std::cerr << "hat-server: " << s.message() << "\n";
    return 1;
  }
  return 0;
}
