// hat-agent: measures SubTransformer latency for a hatfleet coordinator.
//
//   hat-agent --server ADDR --device-class NAME --token T [--device cpu|cuda] [--threads N]
//             [--host-group G] [--tls-ca F [--tls-cert F --tls-key F]] [--pin-cpus]
//             [--sysfs-root DIR]
//
// The token may come from HAT_FLEET_TOKEN or --token-file instead. SIGINT/SIGTERM: the
// measurement in hand is finished and reported, then the agent exits 0.
#include <signal.h>

#include <iostream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/strip.h"
#include "agent/agent.h"
#include "common/flag_names.h"
#include "common/secret_file.h"
#include "common/shutdown_signals.h"
#include "rpc/tls.h"

ABSL_FLAG(std::string, server, "127.0.0.1:7070", "Coordinator address");
ABSL_FLAG(std::string, device_class, "", "Device class this agent measures for (required)");
ABSL_FLAG(std::string, token, "", "Fleet token (or HAT_FLEET_TOKEN, or --token-file)");
ABSL_FLAG(std::string, token_file, "", "File holding the fleet token");
ABSL_FLAG(std::string, device, "cpu", "cpu or cuda");
ABSL_FLAG(int, threads, 1, "Intra-op threads for measuring");
ABSL_FLAG(std::string, host_group, "", "Agents sharing this name never measure at once");
ABSL_FLAG(bool, pin_cpus, false, "Pin to the last --threads CPUs");
ABSL_FLAG(bool, log_reports, false, "Log each measurement the coordinator acknowledged");
ABSL_FLAG(std::string, sysfs_root, "/sys",
          "Where to read temperature, CPU frequency and throttling (the host's /sys in a "
          "container that mounts it elsewhere)");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA of the server: connect with TLS");
ABSL_FLAG(std::string, tls_cert, "", "PEM client certificate (mutual TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM client key (mutual TLS)");

int main(int argc, char** argv) {
  const sigset_t signals = hat::BlockShutdownSignals();
  absl::SetProgramUsageMessage("hatfleet device agent: hat-agent --device-class NAME --token T");
  hat::NormalizeFlagNames(argc, argv);
  absl::ParseCommandLine(argc, argv);

  hat::AgentOptions o;
  o.device_class = absl::GetFlag(FLAGS_device_class);
  o.device = absl::GetFlag(FLAGS_device);
  o.threads = absl::GetFlag(FLAGS_threads);
  o.host_group = absl::GetFlag(FLAGS_host_group);
  o.pin_cpus = absl::GetFlag(FLAGS_pin_cpus);
  o.log_reports = absl::GetFlag(FLAGS_log_reports);
  o.sysfs_root = absl::GetFlag(FLAGS_sysfs_root);
  o.token = absl::GetFlag(FLAGS_token);
  if (o.token.empty() && std::getenv("HAT_FLEET_TOKEN")) o.token = std::getenv("HAT_FLEET_TOKEN");
  if (o.token.empty() && !absl::GetFlag(FLAGS_token_file).empty()) {
    absl::StatusOr<std::string> t = hat::ReadSecretFile(absl::GetFlag(FLAGS_token_file));
    if (!t.ok()) {
      std::cerr << "hat-agent: --token-file " << t.status().message() << "\n";
      return 1;
    }
    o.token = *std::move(t);
  }
  if (absl::Status s = o.Validate(); !s.ok()) {
    std::cerr << "hat-agent: " << s.message() << "\n";
    return 1;
  }
  auto creds = hat::ChannelCredentials(absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
                                       absl::GetFlag(FLAGS_tls_key));
  if (!creds.ok()) {
    std::cerr << "hat-agent: " << creds.status().message() << "\n";
    return 1;
  }
  hat::Agent agent(o, grpc::CreateChannel(absl::GetFlag(FLAGS_server), *creds));
  std::thread waiter([&] {
    const int sig = hat::WaitForShutdownSignal(signals);
    std::cerr << "hat-agent: signal " << sig << ", finishing the current measurement\n";
    agent.Stop();
  });
  waiter.detach();
  absl::Status s = agent.Run();
  if (!s.ok()) {
    std::cerr << "hat-agent: " << s.message() << "\n";
    return 1;
  }
  std::cerr << "hat-agent: stopped after " << agent.measurements_reported() << " measurements\n";
  return 0;
}
