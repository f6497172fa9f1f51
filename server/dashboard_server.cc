// DashboardServer: routes, authentication and the protobuf-to-JSON answers of the HTTP side.
#include "server/dashboard_server.h"

#include <google/protobuf/util/json_util.h>
#include <httplib.h>

#include <chrono>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/job_names.h"
#include "hat/v1/job_service.pb.h"
#include "server/coordinator.h"
#include "server/dashboard_assets.h"
#include "server/metrics.h"

namespace hat {
namespace {

constexpr int kDefaultAgentPage = 100;
constexpr int kDefaultJobPage = 100;
constexpr int kDefaultBins = 30;

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:
      return 500;
  }
}

void SendJson(const google::protobuf::Message& message, int status, httplib::Response& res) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;  // scripts see 0 and "" rather than nothing
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) {
    res.status = 500;
    res.set_content("cannot convert the answer to JSON\n", "text/plain; charset=utf-8");
    return;
  }
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(json, "application/json");
}

void SendError(const absl::Status& status, httplib::Response& res) {
  v1::ApiError error;
  error.set_code(absl::StatusCodeToString(status.code()));
  error.set_message(std::string(status.message()));
  SendJson(error, HttpStatusOf(status.code()), res);
}

template <typename T>
void SendResult(const absl::StatusOr<T>& result, httplib::Response& res) {
  if (!result.ok()) return SendError(result.status(), res);
  SendJson(*result, 200, res);
}

// The integer query parameter `name` (`fallback` when absent); INVALID_ARGUMENT names it.
absl::StatusOr<int> IntParam(const httplib::Request& req, const std::string& name, int fallback) {
  if (!req.has_param(name)) return fallback;
  const std::string value = req.get_param_value(name);
  int parsed = 0;
  if (!absl::SimpleAtoi(value, &parsed)) {
    return absl::InvalidArgumentError(
        absl::StrCat("query parameter ", name, "='", value.substr(0, 40), "': not an integer"));
  }
  return parsed;
}

absl::StatusOr<v1::JobState> StateParam(const httplib::Request& req) {
  if (!req.has_param("state")) return v1::JOB_STATE_UNSPECIFIED;
  const std::string value = req.get_param_value("state");
  if (std::optional<v1::JobState> state = JobStateFromName(value)) return *state;
  return absl::InvalidArgumentError(
      absl::StrCat("query parameter state='", value.substr(0, 40),
                   "': expected queued, running, succeeded, failed or cancelled"));
}

// The value of `name` in an application/x-www-form-urlencoded body ("" when absent), decoded by
// httplib's own form parser. Read from the body alone: req.params mixes in the query string.
std::string FormValue(const std::string& body, const std::string& name) {
  httplib::Params form;
  httplib::detail::parse_query_text(body, form);
  auto it = form.find(name);
  return it == form.end() ? "" : it->second;
}

absl::string_view AssetBody(absl::string_view name) {
  const DashboardAsset* asset = FindDashboardAsset(name);
  return asset == nullptr ? absl::string_view() : asset->body;
}

// The login form, with `message` (fixed text, never the user's input) above it.
std::string LoginPage(absl::string_view message) {
  return absl::StrReplaceAll(AssetBody("login.html"), {{"<!--MESSAGE-->", message}});
}

// Paths anyone may fetch: the login form and the static files (no fleet data in either).
bool IsPublic(const std::string& path) {
  return path == "/login" || absl::StartsWith(path, "/assets/") || path == "/favicon.ico";
}

std::pair<std::string, int> SplitHostPort(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return {"", -1};
  int port = -1;
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return {"", -1};
  }
  std::string host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return {host, port};
}

}  // namespace

DashboardServer::DashboardServer(const DashboardOptions& options, Coordinator* coordinator,
                                 ServerMetrics* metrics)
    : coordinator_(coordinator),
      metrics_(metrics),
      auth_(options.admin_token, options.viewer_token,
            [coordinator] { return coordinator->NowMs(); }) {}

absl::StatusOr<std::unique_ptr<DashboardServer>> DashboardServer::Start(
    const DashboardOptions& options, Coordinator* coordinator, ServerMetrics* metrics) {
  const auto [host, port] = SplitHostPort(options.listen);
  if (host.empty() || port < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("--http=", options.listen, ": expected HOST:PORT (port 0 picks one)"));
  }
  std::unique_ptr<DashboardServer> server(new DashboardServer(options, coordinator, metrics));
  if (!options.tls_cert.empty()) {
    auto https = std::make_unique<httplib::SSLServer>(
        options.tls_cert.c_str(), options.tls_key.c_str(),
        options.tls_client_ca.empty() ? nullptr : options.tls_client_ca.c_str());
    if (!https->is_valid()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--http: cannot serve HTTPS with --tls-cert=", options.tls_cert,
          " and --tls-key=", options.tls_key, " (unreadable, or not a matching PEM pair)"));
    }
    server->http_ = std::move(https);
    server->tls_ = true;
  } else {
    server->http_ = std::make_unique<httplib::Server>();
  }
  server->Route();
  if (port == 0) {
    server->port_ = server->http_->bind_to_any_port(host);
  } else if (server->http_->bind_to_port(host, port)) {
    server->port_ = port;
  }
  if (server->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("--http: cannot listen on ", options.listen));
  }
  httplib::Server* http = server->http_.get();
  server->thread_ = std::thread([http] { http->listen_after_bind(); });
  // stop() before the accept loop runs would be lost (and Stop() would wait forever): return
  // once it runs.
  for (int i = 0; i < 5000 && !http->is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!http->is_running()) return absl::InternalError("--http: the HTTP server did not start");
  return server;
}

DashboardServer::~DashboardServer() { Stop(); }

void DashboardServer::Stop() {
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

void DashboardServer::Route() {
  httplib::Server& s = *http_;
  s.set_payload_max_length(64 << 10);  // the login form is the only body this side reads
  // Small JSON answers on kept-alive connections: without this, Nagle's algorithm and delayed
  // ACKs add about 40 ms to each (measured with bench/dashboard_load_bench).
  s.set_tcp_nodelay(true);
  s.set_read_timeout(10);
  s.set_write_timeout(10);

  // Authentication before any route: a request without a valid token or session sees a 401 and
  // nothing of the fleet.
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (IsPublic(req.path)) return httplib::Server::HandlerResponse::Unhandled;
    const DashboardRole role =
        auth_.Authenticate(req.get_header_value("Authorization"), req.get_header_value("Cookie"));
    if (role != DashboardRole::kNone) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"hatfleet\"");
    res.set_header("Cache-Control", "no-store");
    if (absl::StartsWith(req.path, "/api/") || req.path == "/metrics") {
      SendError(absl::UnauthenticatedError(
                    "send 'Authorization: Bearer <admin or viewer token>' or log in at /login"),
                res);
      res.status = 401;
    } else {
      res.set_content(LoginPage(""), "text/html; charset=utf-8");
    }
    return httplib::Server::HandlerResponse::Handled;
  });

  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_content(std::string(AssetBody("index.html")), "text/html; charset=utf-8");
  });
  s.Get("/login", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(LoginPage(""), "text/html; charset=utf-8");
  });
  s.Post("/login", [this](const httplib::Request& req, httplib::Response& res) {
    // Only from the form's body: a token in a URL would end up in histories and logs.
    if (req.target.find('?') != std::string::npos) {
      res.status = 400;
      res.set_content(LoginPage("<p class=\"error\">The token goes in the form, never in the "
                                "address.</p>"),
                      "text/html; charset=utf-8");
      return;
    }
    const DashboardRole role = auth_.RoleOfToken(FormValue(req.body, "token"));
    const std::string session = role == DashboardRole::kNone ? "" : auth_.StartSession(role);
    if (session.empty()) {
      res.status = 401;
      res.set_content(LoginPage("<p class=\"error\">That token is not valid here.</p>"),
                      "text/html; charset=utf-8");
      return;
    }
    res.set_header("Set-Cookie",
                   absl::StrCat(DashboardAuth::kCookieName, "=", session,
                                "; Path=/; HttpOnly; SameSite=Strict", tls_ ? "; Secure" : ""));
    res.set_redirect("/", 303);
  });
  s.Post("/logout", [this](const httplib::Request& req, httplib::Response& res) {
    auth_.EndSession(req.get_header_value("Cookie"));
    res.set_header("Set-Cookie", absl::StrCat(DashboardAuth::kCookieName,
                                              "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
    res.set_redirect("/login", 303);
  });
  s.Get(R"(/assets/([a-z0-9._-]+))", [](const httplib::Request& req, httplib::Response& res) {
    const DashboardAsset* asset = FindDashboardAsset(req.matches[1].str());
    if (asset == nullptr || absl::EndsWith(asset->name, ".html")) {
      res.status = 404;
      return;
    }
    res.set_header("Cache-Control", "max-age=3600");
    res.set_content(std::string(asset->body), std::string(asset->content_type));
  });

  // --- The JSON API ---
  s.Get("/api/v1/summary", [this](const httplib::Request&, httplib::Response& res) {
    SendJson(coordinator_->Summary(), 200, res);
  });
  s.Get("/api/v1/agents", [this](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<int> page_size = IntParam(req, "page_size", kDefaultAgentPage);
    if (!page_size.ok()) return SendError(page_size.status(), res);
    v1::ListAgentsRequest list;
    list.set_device_class(req.get_param_value("device_class"));
    list.set_page_size(*page_size);
    list.set_page_token(req.get_param_value("page_token"));
    SendResult(coordinator_->ListAgents(list), res);
  });
  s.Get("/api/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<int> page_size = IntParam(req, "page_size", kDefaultJobPage);
    if (!page_size.ok()) return SendError(page_size.status(), res);
    absl::StatusOr<v1::JobState> state = StateParam(req);
    if (!state.ok()) return SendError(state.status(), res);
    v1::ListJobsRequest list;
    list.set_page_size(*page_size);
    list.set_page_token(req.get_param_value("page_token"));
    list.set_state_filter(*state);
    SendResult(coordinator_->ListJobs(list), res);
  });
  s.Get(R"(/api/v1/jobs/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    SendResult(coordinator_->GetJob(req.matches[1].str()), res);
  });
  s.Get("/api/v1/predictors", [this](const httplib::Request& req, httplib::Response& res) {
    SendResult(coordinator_->ListPredictors(req.get_param_value("device_class")), res);
  });
  s.Get(R"(/api/v1/predictors/([^/]+)/([0-9]+))",
        [this](const httplib::Request& req, httplib::Response& res) {
          int64_t version = 0;
          if (!absl::SimpleAtoi(req.matches[2].str(), &version)) {
            return SendError(absl::InvalidArgumentError("predictor version: not a number"), res);
          }
          absl::StatusOr<v1::StoredPredictor> p =
              coordinator_->GetPredictor(req.matches[1].str(), version);
          if (p.ok()) {  // the weights are for hatctl, not for pages
            p->mutable_predictor()->clear_mlp();
            p->mutable_predictor()->clear_linear_members();
          }
          SendResult(p, res);
        });
  s.Get(R"(/api/v1/datasets/([^/]+)/histogram)",
        [this](const httplib::Request& req, httplib::Response& res) {
          absl::StatusOr<int> bins = IntParam(req, "bins", kDefaultBins);
          if (!bins.ok()) return SendError(bins.status(), res);
          SendResult(coordinator_->LatencyDistribution(req.matches[1].str(), *bins), res);
        });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_->Scrape(), "text/plain; version=0.0.4; charset=utf-8");
  });
}

}  // namespace hat
