// DashboardServer: hat-server's HTTP side (`--http ADDR`). It serves
//   /                 the dashboard (fleet, jobs, searches, predictors, datasets), a single page
//                     that polls the API below and draws its plots with Chart.js (embedded in
//                     the binary at build time: no page needs the internet);
//   /login, /logout   the token form that gives a browser a session cookie;
//   /api/v1/...       a read-only JSON API: protobuf messages through protobuf's JSON mapping;
//   /metrics          Prometheus' text format (ServerMetrics).
// Everything but the login form and the static assets needs the admin or the viewer token
// (DashboardAuth); without one the answer is 401 and shows nothing of the fleet. With a
// certificate it serves HTTPS only, like the gRPC side (and asks for client certificates when a
// client CA is given).
#ifndef HATFLEET_SERVER_DASHBOARD_SERVER_H_
#define HATFLEET_SERVER_DASHBOARD_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/dashboard_auth.h"

namespace httplib {
class Server;
}

namespace hat {

class Coordinator;
class ServerMetrics;

struct DashboardOptions {
  std::string listen;  // "host:port"; port 0 picks one
  std::string admin_token, viewer_token;
  std::string tls_cert, tls_key, tls_client_ca;  // PEM files; empty: plain HTTP
};

class DashboardServer {
 public:
  // Binds and starts serving on a thread of its own. `coordinator` and `metrics` must outlive
  // the server.
  static absl::StatusOr<std::unique_ptr<DashboardServer>> Start(const DashboardOptions& options,
                                                                Coordinator* coordinator,
                                                                ServerMetrics* metrics);
  ~DashboardServer();  // stops

  int port() const { return port_; }
  void Stop();

 private:
  DashboardServer(const DashboardOptions& options, Coordinator* coordinator,
                  ServerMetrics* metrics);
  void Route();

  Coordinator* coordinator_;
  ServerMetrics* metrics_;
  DashboardAuth auth_;
  bool tls_ = false;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace hat

#endif  // HATFLEET_SERVER_DASHBOARD_SERVER_H_
