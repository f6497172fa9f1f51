// ServerMetrics: what hat-server exposes at /metrics in Prometheus' text format, through
// prometheus-cpp. Two kinds of figures:
//   - observed as they happen: RPCs by method and status code with their latency (a gRPC server
//     interceptor, RpcMetricsInterceptorFactory), measurement durations by device class (the
//     coordinator's on_measurement_stored hook);
//   - read from the coordinator at scrape time, so they equal its state exactly and survive
//     restarts: agents by state, tasks by state, lease expiries, jobs by kind and state, running
//     jobs' progress, search iterations and fitness evaluations, the store's size on disk.
#ifndef HATFLEET_SERVER_METRICS_H_
#define HATFLEET_SERVER_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>
#include <string>

#include "hat/v1/measurement.pb.h"

namespace prometheus {
class Registry;
template <typename T>
class Family;
class Counter;
class Histogram;
}  // namespace prometheus

namespace hat {

class Coordinator;

class ServerMetrics {
 public:
  // `db_dir`: the RocksDB directory whose size is reported (empty: not reported).
  explicit ServerMetrics(std::string db_dir);
  ~ServerMetrics();
  ServerMetrics(const ServerMetrics&) = delete;
  ServerMetrics& operator=(const ServerMetrics&) = delete;

  // The coordinator read at scrape time; set once it is open (scrapes before see no fleet).
  void SetCoordinator(Coordinator* coordinator) { coordinator_ = coordinator; }

  // `method` as gRPC names it ("/hat.v1.FleetService/LeaseTask"). Thread-safe.
  void ObserveRpc(const std::string& method, int status_code, double seconds);
  // A stored measurement: its wall time (started_at to finished_at). Thread-safe and cheap.
  void ObserveMeasurement(const std::string& device_class, const v1::MeasurementResult& result);

  // Every metric in Prometheus' text exposition format (version 0.0.4).
  std::string Scrape() const;

 private:
  std::string db_dir_;
  Coordinator* coordinator_ = nullptr;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* rpcs_;
  prometheus::Family<prometheus::Histogram>* rpc_seconds_;
  prometheus::Family<prometheus::Histogram>* measurement_seconds_;
};

// Creates one interceptor per RPC that reports the call's method, status code and duration to
// `metrics` (which must outlive the server).
class RpcMetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RpcMetricsInterceptorFactory(ServerMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override;

 private:
  ServerMetrics* metrics_;
};

}  // namespace hat

#endif  // HATFLEET_SERVER_METRICS_H_
