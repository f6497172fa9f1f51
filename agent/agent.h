// Agent: the device agent's loop. Registers with the coordinator under a device class,
// heartbeats, long-polls for measurement tasks, measures each with the engine under the task's
// protocol, and reports the result (retrying until the coordinator acknowledges it: reports are
// idempotent). Survives the server going away: every call is retried with exponential backoff
// on UNAVAILABLE, and the agent registers again (keeping its id) when the server no longer
// knows it. Stop() finishes the measurement in hand, reports it, and returns.
//
// Used by hat-agent and by hat-server --local-agent (over an in-process channel).
#ifndef HATFLEET_AGENT_AGENT_H_
#define HATFLEET_AGENT_AGENT_H_

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "hat/v1/fleet_service.grpc.pb.h"
#include "measure/device_condition.h"

namespace hat {

class LatencyWorkloadFactory;
class TimedWorkload;

struct AgentOptions {
  std::string device_class;
  std::string host_group;      // agents sharing a host never measure at once
  std::string device = "cpu";  // cpu or cuda
  int threads = 1;             // intra-op threads unless the job's protocol sets them
  bool pin_cpus = false;
  std::string token;  // the fleet token
  int64_t lease_wait_ms = 10000;
  int64_t rpc_timeout_ms = 15000;
  int64_t max_backoff_ms = 10000;
  uint64_t weights_seed = 1;
  // Where temperature, frequency and throttling are read (measure/device_condition.h): "/sys",
  // or the host's /sys mounted elsewhere in a container.
  std::string sysfs_root = "/sys";
  // Logs each report the coordinator acknowledged ("acknowledged TASK (stored)" or "(already
  // stored)"): an audit trail that tests/chaos/chaos.py checks the store against.
  bool log_reports = false;

  absl::Status Validate() const;
};

class Agent {
 public:
  Agent(AgentOptions options, std::shared_ptr<grpc::Channel> channel);
  ~Agent();

  // Runs until Stop() or a non-retryable error (e.g. UNAUTHENTICATED), which it returns.
  absl::Status Run();
  // Asks Run() to return after the current measurement (if any) is reported. Thread-safe.
  void Stop();

  std::string agent_id() const;
  int64_t measurements_reported() const { return reported_.load(); }

 private:
  absl::Status Register();
  void HeartbeatLoop();
  // One lease-measure-report round; false when there was no task.
  absl::StatusOr<bool> LeaseAndMeasure();
  v1::MeasurementResult Measure(const v1::MeasurementTask& task);
  absl::Status Report(const std::string& lease_id, const v1::MeasurementResult& result);
  void Backoff(int64_t& backoff_ms);
  std::unique_ptr<grpc::ClientContext> NewContext(int64_t timeout_ms) const;

  const AgentOptions options_;
  const DeviceConditionProbe device_probe_;
  std::unique_ptr<v1::FleetService::Stub> stub_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> need_register_{true};
  std::atomic<int64_t> reported_{0};
  int64_t heartbeat_interval_ms_ = 5000;

  mutable std::mutex mu_;
  std::string agent_id_;
  std::string lease_id_;                     // the lease being measured, for heartbeats
  grpc::ClientContext* inflight_ = nullptr;  // the pending long poll, cancelled by Stop()
  // One design space's engine at a time: its factory, its drift reference and the reference's
  // baseline (calibrated when the space is first seen).
  struct SpaceEngine {
    std::unique_ptr<LatencyWorkloadFactory> factory;
    std::unique_ptr<TimedWorkload> reference;
    double reference_baseline_ms = 0;
  };
  std::map<std::string, SpaceEngine> engines_;
};

}  // namespace hat

#endif  // HATFLEET_AGENT_AGENT_H_
