// The dashboard's HTTP side in process: a DashboardServer on loopback over a Coordinator on the
// memory store, driven with cpp-httplib's client. Checks who gets in (every route, every kind of
// credential), that the JSON API is the protobuf messages (parsed back with protobuf's JSON
// parser and compared with what the coordinator answers), paging, and that /metrics counts what
// the fleet did.
#include <gmock/gmock.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "hat/v1/job_service.grpc.pb.h"
#include "rpc/grpc_status.h"
#include "server/dashboard_server.h"
#include "server/grpc_services.h"
#include "server/metrics.h"
#include "tests/server/coordinator_test_fixture.h"
#include "tests/support/prometheus_text.h"
#include "tests/support/status_matchers.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::hat::testing::Sample;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAdminToken[] = "admin-token-for-the-dashboard-0001";
constexpr char kViewerToken[] = "viewer-token-for-the-dashboard-0002";
// A device class name that must not appear in any page shown without a token.
constexpr char kSecretClass[] = "secret-class-7f3a";

template <typename T>
T ParseJson(const std::string& body) {
  T message;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(body, &message).ok()) << body;
  return message;
}

class DashboardTest : public CoordinatorTest {
 protected:
  void SetUp() override {
    CoordinatorOptions o = Options();
    o.on_measurement_stored = [this](const std::string& device_class,
                                     const v1::MeasurementResult& result) {
      metrics_.ObserveMeasurement(device_class, result);
    };
    ASSERT_OK_AND_ASSIGN(c_, Coordinator::Open(NewMemoryStore(), o));
    metrics_.SetCoordinator(c_.get());
    DashboardOptions d;
    d.listen = "127.0.0.1:0";
    d.admin_token = kAdminToken;
    d.viewer_token = kViewerToken;
    ASSERT_OK_AND_ASSIGN(dashboard_, DashboardServer::Start(d, c_.get(), &metrics_));
    client_ = std::make_unique<httplib::Client>("127.0.0.1", dashboard_->port());
  }
  void TearDown() override { dashboard_.reset(); }

  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    return client_->Get(path.c_str(), headers);
  }
  httplib::Result GetWithCookie(const std::string& path, const std::string& cookie) {
    return client_->Get(path.c_str(), {{"Cookie", cookie}});
  }
  // Logs in with `token`; returns the "name=value" of the session cookie ("" when refused).
  std::string LogIn(const std::string& token) {
    httplib::Result r = client_->Post("/login", httplib::Params{{"token", token}});
    EXPECT_TRUE(r);
    if (!r || r->status != 303) return "";
    const std::string set_cookie = r->get_header_value("Set-Cookie");
    return std::string(absl::StrSplit(set_cookie, ';').begin()->data(), set_cookie.find(';'));
  }

  ServerMetrics metrics_{""};
  std::unique_ptr<DashboardServer> dashboard_;
  std::unique_ptr<httplib::Client> client_;
};

// Every route that shows the fleet, with an agent, a job and measurements in it.
std::vector<std::string> FleetRoutes() {
  return {"/",
          "/api/v1/summary",
          "/api/v1/agents",
          "/api/v1/jobs",
          "/api/v1/jobs/job-000001",
          "/api/v1/predictors",
          "/api/v1/predictors/secret-class-7f3a/1",
          "/api/v1/datasets/secret-class-7f3a/histogram",
          "/metrics"};
}

TEST_F(DashboardTest, EveryRouteRefusesWithoutAValidTokenAndShowsNothingOfTheFleet) {
  const std::string agent = Register(kSecretClass);
  Submit(2, kSecretClass);
  ASSERT_OK_AND_ASSIGN(v1::LeaseTaskResponse lease, Lease(agent));
  ASSERT_OK(Report(agent, lease).status());
  for (const std::string& path : FleetRoutes()) {
    for (const std::string& token : {std::string(), std::string("wrong-token"),
                                     std::string(kAdminToken) + "x", std::string("Bearer")}) {
      httplib::Result r = Get(path, token);
      ASSERT_TRUE(r) << path;
      EXPECT_EQ(r->status, 401) << path << " with '" << token << "'";
      EXPECT_THAT(r->body, Not(HasSubstr(kSecretClass))) << path;
      EXPECT_THAT(r->body, Not(HasSubstr(agent))) << path;
    }
    // The token must be sent as a bearer token: in the query string it is ignored, never logged.
    httplib::Result query = client_->Get((path + "?token=" + kAdminToken).c_str());
    ASSERT_TRUE(query);
    EXPECT_EQ(query->status, 401) << path;
  }
  // The API's 401 says how to get in, in protobuf's JSON mapping of ApiError.
  httplib::Result r = Get("/api/v1/summary", "");
  const v1::ApiError error = ParseJson<v1::ApiError>(r->body);
  EXPECT_EQ(error.code(), "UNAUTHENTICATED");
  EXPECT_THAT(error.message(), HasSubstr("Authorization: Bearer"));
  // The login form is the page a browser gets, and it holds no fleet data.
  httplib::Result page = Get("/", "");
  EXPECT_THAT(page->body, HasSubstr("<form method=\"post\" action=\"/login\""));
}

TEST_F(DashboardTest, AdminAndViewerTokensBothOpenEveryRoute) {
  const std::string agent = Register(kSecretClass);
  Submit(2, kSecretClass);
  ASSERT_OK_AND_ASSIGN(v1::LeaseTaskResponse lease, Lease(agent));
  ASSERT_OK(Report(agent, lease).status());
  for (const std::string& token : {kAdminToken, kViewerToken}) {
    for (const std::string& path : FleetRoutes()) {
      httplib::Result r = Get(path, token);
      ASSERT_TRUE(r) << path;
      // No predictor was trained: that route answers 404 with the API's error, the rest 200.
      const int want = absl::StrContains(path, "/predictors/") ? 404 : 200;
      EXPECT_EQ(r->status, want) << path << ": " << r->body;
    }
  }
  EXPECT_THAT(Get("/api/v1/agents", kViewerToken)->body, HasSubstr(agent));
}

TEST_F(DashboardTest, LoginGivesASessionCookieThatIsNotTheTokenAndLogoutEndsIt) {
  Register(kSecretClass);
  EXPECT_EQ(LogIn("not-the-token"), "");
  httplib::Result refused = client_->Post("/login", httplib::Params{{"token", "nope"}});
  EXPECT_EQ(refused->status, 401);
  EXPECT_FALSE(refused->has_header("Set-Cookie"));
  EXPECT_THAT(refused->body, HasSubstr("not valid"));
  EXPECT_THAT(refused->body, Not(HasSubstr("nope")));  // the input is never echoed

  // A token in the address is refused even when right: it would stay in histories and logs.
  httplib::Result in_url =
      client_->Post((std::string("/login?token=") + kViewerToken).c_str(), "", "text/plain");
  EXPECT_EQ(in_url->status, 400);
  EXPECT_FALSE(in_url->has_header("Set-Cookie"));
  const std::string cookie = LogIn(kViewerToken);
  ASSERT_THAT(cookie, HasSubstr("hat_session="));
  EXPECT_THAT(cookie, Not(HasSubstr(kViewerToken)));
  httplib::Result page = GetWithCookie("/", cookie);
  EXPECT_EQ(page->status, 200);
  EXPECT_THAT(page->body, HasSubstr("<canvas id=\"pareto-chart\">"));
  EXPECT_THAT(page->body, Not(HasSubstr(kViewerToken)));
  EXPECT_EQ(GetWithCookie("/api/v1/summary", cookie)->status, 200);
  // A forged session id opens nothing.
  EXPECT_EQ(GetWithCookie("/api/v1/summary", "hat_session=00ff")->status, 401);

  httplib::Result out = client_->Post("/logout", {{"Cookie", cookie}}, "", "text/plain");
  EXPECT_EQ(out->status, 303);
  EXPECT_EQ(GetWithCookie("/api/v1/summary", cookie)->status, 401);
}

TEST_F(DashboardTest, TokensWithCharactersAFormEncodesStillLogIn) {
  DashboardOptions d;
  d.listen = "127.0.0.1:0";
  d.admin_token = "p@ss w+rd&x=1%";
  ASSERT_OK_AND_ASSIGN(auto other, DashboardServer::Start(d, c_.get(), &metrics_));
  httplib::Client client("127.0.0.1", other->port());
  EXPECT_EQ(client.Post("/login", httplib::Params{{"token", d.admin_token}})->status, 303);
  EXPECT_EQ(client.Post("/login", httplib::Params{{"token", "p@ss w+rd"}})->status, 401);
}

// With the gRPC side's certificate the dashboard speaks HTTPS only, with the same token rules;
// with a client CA it also wants a client certificate (mutual TLS).
TEST_F(DashboardTest, ServesHttpsWithTheServersCertificate) {
  hat::testing::TempDir dir;
  const std::string script =
      "cd '" + dir.path() +
      "' && printf 'subjectAltName=IP:127.0.0.1' > san.ext"
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ca -keyout ca.key"
      " -out ca.pem"
      " && openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key"
      " -out server.csr && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key"
      " -CAcreateserial -days 1 -extfile san.ext -out server.pem"
      " && openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout client.key"
      " -out client.csr && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key"
      " -CAcreateserial -days 1 -out client.pem";
  hat::testing::Subprocess certs({"/bin/sh", "-c", script}, dir.File("openssl.log"));
  ASSERT_EQ(certs.Wait(), 0) << certs.Log();
  Register(kSecretClass);

  DashboardOptions d;
  d.listen = "127.0.0.1:0";
  d.admin_token = kAdminToken;
  d.tls_cert = dir.File("server.pem");
  d.tls_key = dir.File("server.key");
  ASSERT_OK_AND_ASSIGN(auto https, DashboardServer::Start(d, c_.get(), &metrics_));
  httplib::SSLClient client("127.0.0.1", https->port());
  client.set_ca_cert_path(dir.File("ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  httplib::Result anonymous = client.Get("/api/v1/summary");
  ASSERT_TRUE(anonymous) << httplib::to_string(anonymous.error());
  EXPECT_EQ(anonymous->status, 401);
  httplib::Result admin =
      client.Get("/api/v1/summary", {{"Authorization", std::string("Bearer ") + kAdminToken}});
  ASSERT_TRUE(admin);
  EXPECT_EQ(admin->status, 200);
  EXPECT_THAT(admin->body, HasSubstr(kSecretClass));
  // The session cookie is marked Secure: a browser never sends it over plain HTTP.
  httplib::Result login = client.Post("/login", httplib::Params{{"token", kAdminToken}});
  ASSERT_TRUE(login);
  EXPECT_THAT(login->get_header_value("Set-Cookie"), HasSubstr("; Secure"));
  // Plain HTTP to the HTTPS port gets nothing.
  httplib::Client plain("127.0.0.1", https->port());
  httplib::Result cleartext =
      plain.Get("/api/v1/summary", {{"Authorization", std::string("Bearer ") + kAdminToken}});
  EXPECT_TRUE(!cleartext || cleartext->status != 200);

  // Mutual TLS: without a client certificate the handshake fails; with one it passes.
  d.tls_client_ca = dir.File("ca.pem");
  ASSERT_OK_AND_ASSIGN(auto mutual, DashboardServer::Start(d, c_.get(), &metrics_));
  httplib::SSLClient stranger("127.0.0.1", mutual->port());
  stranger.set_ca_cert_path(dir.File("ca.pem").c_str());
  EXPECT_FALSE(stranger.Get("/api/v1/summary"));
  httplib::SSLClient known("127.0.0.1", mutual->port(), dir.File("client.pem"),
                           dir.File("client.key"));
  known.set_ca_cert_path(dir.File("ca.pem").c_str());
  httplib::Result with_cert =
      known.Get("/api/v1/summary", {{"Authorization", std::string("Bearer ") + kAdminToken}});
  ASSERT_TRUE(with_cert) << httplib::to_string(with_cert.error());
  EXPECT_EQ(with_cert->status, 200);

  // Files that are not a certificate and its key are refused at start, naming them.
  d.tls_key = dir.File("ca.key");  // not server.pem's key
  d.tls_client_ca.clear();
  absl::StatusOr<std::unique_ptr<DashboardServer>> mismatched =
      DashboardServer::Start(d, c_.get(), &metrics_);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_THAT(mismatched.status().message(), HasSubstr("ca.key"));
}

TEST_F(DashboardTest, SessionsExpire) {
  const std::string cookie = LogIn(kAdminToken);
  EXPECT_EQ(GetWithCookie("/api/v1/summary", cookie)->status, 200);
  now_ms_ += DashboardAuth::kSessionLifetimeMs + 1;
  EXPECT_EQ(GetWithCookie("/api/v1/summary", cookie)->status, 401);
}

TEST_F(DashboardTest, StaticAssetsAreServedWithoutATokenAndIncludeChartJs) {
  httplib::Result chart = client_->Get("/assets/chart.min.js");
  ASSERT_TRUE(chart);
  EXPECT_EQ(chart->status, 200);
  EXPECT_GT(chart->body.size(), 100000u);  // Chart.js itself, embedded at build time
  EXPECT_THAT(chart->body, HasSubstr("Chart.js v3"));
  EXPECT_EQ(client_->Get("/assets/dashboard.js")->status, 200);
  EXPECT_EQ(client_->Get("/assets/index.html")->status, 404);  // pages are not assets
  EXPECT_EQ(client_->Get("/assets/nothing.js")->status, 404);
}

TEST_F(DashboardTest, JobsAndAgentsAreTheProtobufMessagesInJson) {
  const std::string agent = Register("cpu");
  const std::string job = Submit(3, "cpu");
  ASSERT_OK_AND_ASSIGN(v1::LeaseTaskResponse lease, Lease(agent));
  ASSERT_OK(Report(agent, lease).status());

  const auto got_job = ParseJson<v1::Job>(Get("/api/v1/jobs/" + job, kAdminToken)->body);
  ASSERT_OK_AND_ASSIGN(v1::Job want_job, c_->GetJob(job));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(got_job, want_job))
      << got_job.DebugString() << "\nvs\n"
      << want_job.DebugString();

  const auto agents = ParseJson<v1::ListAgentsResponse>(Get("/api/v1/agents", kAdminToken)->body);
  ASSERT_EQ(agents.agents_size(), 1);
  EXPECT_EQ(agents.agents(0).agent_id(), agent);
  EXPECT_EQ(agents.agents(0).measurements_done(), 1);

  const auto summary = ParseJson<v1::FleetSummary>(Get("/api/v1/summary", kAdminToken)->body);
  ASSERT_EQ(summary.classes_size(), 1);
  EXPECT_EQ(summary.classes(0).device_class(), "cpu");
  EXPECT_EQ(summary.classes(0).agents_idle(), 1);
  EXPECT_EQ(summary.classes(0).tasks_done(), 1);
  EXPECT_EQ(summary.classes(0).tasks_queued(), 2);
  EXPECT_EQ(summary.jobs_running(), 1);

  httplib::Result missing = Get("/api/v1/jobs/job-999999", kAdminToken);
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(ParseJson<v1::ApiError>(missing->body).message(), HasSubstr("job-999999"));
  httplib::Result bad_state = Get("/api/v1/jobs?state=sleeping", kAdminToken);
  EXPECT_EQ(bad_state->status, 400);
  EXPECT_THAT(ParseJson<v1::ApiError>(bad_state->body).message(), HasSubstr("state='sleeping'"));
}

TEST_F(DashboardTest, AgentsComeInPagesThatCoverTheFleetOnce) {
  std::set<std::string> registered;
  for (int i = 0; i < 250; ++i) registered.insert(Register(i % 2 == 0 ? "even" : "odd"));
  std::set<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    std::string path = "/api/v1/agents?page_size=100";
    if (!token.empty()) path += "&page_token=" + token;
    httplib::Result r = Get(path, kViewerToken);
    ASSERT_EQ(r->status, 200) << r->body;
    const auto page = ParseJson<v1::ListAgentsResponse>(r->body);
    EXPECT_LE(page.agents_size(), 100);
    for (const v1::Agent& a : page.agents()) {
      EXPECT_TRUE(seen.insert(a.agent_id()).second) << a.agent_id() << " on two pages";
    }
    token = page.next_page_token();
    ++pages;
  } while (!token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, registered);

  const auto odd = ParseJson<v1::ListAgentsResponse>(
      Get("/api/v1/agents?device_class=odd&page_size=1000", kViewerToken)->body);
  EXPECT_EQ(odd.agents_size(), 125);
  for (const v1::Agent& a : odd.agents()) EXPECT_EQ(a.device_class(), "odd");

  for (const std::string& bad : {"page_size=5000", "page_size=-1", "page_size=ten"}) {
    httplib::Result r = Get("/api/v1/agents?" + bad, kViewerToken);
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_THAT(ParseJson<v1::ApiError>(r->body).message(), HasSubstr("page_size")) << bad;
  }
}

TEST_F(DashboardTest, LatencyHistogramCountsEveryStoredMeasurement) {
  const std::string agent = Register("cpu");
  Submit(5, "cpu");
  const std::vector<double> latencies = {10, 11, 12, 30, 50};
  for (double ms : latencies) {
    ASSERT_OK_AND_ASSIGN(v1::LeaseTaskResponse lease, Lease(agent));
    ASSERT_OK(Report(agent, lease, ms).status());
  }
  const auto h = ParseJson<v1::LatencyHistogram>(
      Get("/api/v1/datasets/cpu/histogram?bins=4", kViewerToken)->body);
  EXPECT_EQ(h.measurements(), 5);
  EXPECT_DOUBLE_EQ(h.min_ms(), 10);
  EXPECT_DOUBLE_EQ(h.max_ms(), 50);
  EXPECT_DOUBLE_EQ(h.median_ms(), 12);
  ASSERT_EQ(h.counts_size(), 4);  // bins of 10 ms from 10: [10,20) [20,30) [30,40) [40,50]
  EXPECT_EQ(h.counts(0), 3);
  EXPECT_EQ(h.counts(1), 0);
  EXPECT_EQ(h.counts(2), 1);
  EXPECT_EQ(h.counts(3), 1);
  EXPECT_EQ(Get("/api/v1/datasets/cpu/histogram?bins=0", kViewerToken)->status, 400);
}

TEST_F(DashboardTest, MetricsCountWhatTheFleetDid) {
  const std::string a = Register("cpu");
  const std::string b = Register("cpu");
  Register("gpu");
  Submit(4, "cpu");
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(v1::LeaseTaskResponse lease, Lease(a));
    ASSERT_OK(Report(a, lease).status());
  }
  ASSERT_OK_AND_ASSIGN(v1::LeaseTaskResponse held, Lease(b));  // b holds the last task
  ASSERT_FALSE(held.lease_id().empty());

  std::string text = Get("/metrics", kViewerToken)->body;
  EXPECT_EQ(Sample(text, R"(hat_agents{device_class="cpu",state="idle"})"), 1);
  EXPECT_EQ(Sample(text, R"(hat_agents{device_class="cpu",state="measuring"})"), 1);
  EXPECT_EQ(Sample(text, R"(hat_agents{device_class="gpu",state="idle"})"), 1);
  EXPECT_EQ(Sample(text, R"(hat_tasks{device_class="cpu",state="leased"})"), 1);
  EXPECT_EQ(Sample(text, R"(hat_tasks{device_class="cpu",state="queued"})"), 0);
  EXPECT_EQ(Sample(text, R"(hat_tasks_ended_total{device_class="cpu",outcome="done"})"), 3);
  EXPECT_EQ(Sample(text, R"(hat_measurement_duration_seconds_count{device_class="cpu"})"), 3);
  EXPECT_EQ(Sample(text, R"(hat_jobs{kind="latency_dataset",state="running"})"), 1);
  EXPECT_EQ(Sample(text, R"(hat_lease_expiries_total{device_class="cpu"})"), 0);
  // Leases are written without a sync of their own: fewer syncs than writes, and some.
  EXPECT_GT(Sample(text, "hat_store_syncs_total"), 0);
  EXPECT_GT(Sample(text, "hat_store_writes_total"), Sample(text, "hat_store_syncs_total"));

  // b goes silent: its lease expires once it is lost.
  now_ms_ += 6000;
  ASSERT_OK(c_->Heartbeat([&] {
                v1::HeartbeatRequest r;
                r.set_agent_id(a);
                return r;
              }())
                .status());
  ASSERT_OK(c_->Tick());
  text = Get("/metrics", kViewerToken)->body;
  EXPECT_EQ(Sample(text, R"(hat_lease_expiries_total{device_class="cpu"})"), 1);
  EXPECT_EQ(Sample(text, R"(hat_agents{device_class="cpu",state="lost"})"), 1);
  EXPECT_EQ(Sample(text, R"(hat_tasks{device_class="cpu",state="queued"})"), 1);
}

// RPC counts and latencies come from the gRPC interceptor: a real server on loopback.
TEST_F(DashboardTest, MetricsCountRpcsByMethodAndStatusCode) {
  JobServiceImpl jobs(c_.get(), kAdminToken);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&jobs);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<RpcMetricsInterceptorFactory>(&metrics_));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  ASSERT_NE(server, nullptr);
  auto stub = v1::JobService::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    ctx.AddMetadata(kAuthorizationKey, BearerValue(kAdminToken));
    v1::ListJobsResponse resp;
    ASSERT_TRUE(stub->ListJobs(&ctx, v1::ListJobsRequest(), &resp).ok());
  }
  for (int i = 0; i < 2; ++i) {
    grpc::ClientContext ctx;  // no token
    v1::ListJobsResponse resp;
    EXPECT_EQ(stub->ListJobs(&ctx, v1::ListJobsRequest(), &resp).error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  server->Shutdown();
  const std::string text = Get("/metrics", kAdminToken)->body;
  EXPECT_EQ(Sample(text, R"(hat_rpcs_total{code="OK",method="/hat.v1.JobService/ListJobs"})"), 3)
      << text;
  EXPECT_EQ(
      Sample(text,
             R"(hat_rpcs_total{code="UNAUTHENTICATED",method="/hat.v1.JobService/ListJobs"})"),
      2);
  EXPECT_EQ(Sample(text, R"(hat_rpc_duration_seconds_count{method="/hat.v1.JobService/ListJobs"})"),
            5);
}

}  // namespace
}  // namespace hat
