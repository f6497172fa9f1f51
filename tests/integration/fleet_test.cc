// The fleet end to end, as real processes on loopback: hat-server, hat-agent, hatctl.
// Timeouts below only bound how long a broken build may hang a test; no assertion is about
// speed.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "hat/v1/fleet_service.grpc.pb.h"
#include "hat/v1/job_service.grpc.pb.h"
#include "measure/device_condition.h"
#include "rpc/grpc_status.h"
#include "rpc/tls.h"
#include "tests/support/fake_sysfs.h"
#include "tests/support/polling.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"

namespace hat {
namespace {

using ::hat::testing::ReadAll;
using ::hat::testing::Subprocess;
using ::hat::testing::WaitFor;
using ::testing::HasSubstr;

constexpr char kFleetToken[] = "fleet-secret-123";
constexpr char kAdminToken[] = "admin-secret-456";

class FleetTest : public ::testing::Test {
 protected:
  // Starts hat-server on `port` (0: any) and waits until it answers.
  void StartServer(int port = 0, std::vector<std::string> extra = {}) {
    const std::string port_file = dir_.File("port");
    std::remove(port_file.c_str());
    std::vector<std::string> argv = {HAT_SERVER_PATH,
                                     "--data-dir=" + dir_.File("data"),
                                     "--listen=127.0.0.1:" + std::to_string(port),
                                     "--port_file=" + port_file,
                                     std::string("--fleet_token=") + kFleetToken,
                                     std::string("--admin_token=") + kAdminToken,
                                     "--heartbeat_seconds=0.3",
                                     "--lost_after_seconds=1.5",
                                     "--lease_seconds=3",
                                     "--recovery_grace_seconds=15"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<Subprocess>(argv, dir_.File("server.log"));
    ASSERT_TRUE(WaitFor([&] { return !ReadAll(port_file).empty() || !server_->running(); }, 60))
        << server_->Log();
    ASSERT_TRUE(server_->running()) << server_->Log();
    port_ = std::stoi(ReadAll(port_file));
    stub_ =
        v1::JobService::NewStub(grpc::CreateChannel(Address(), grpc::InsecureChannelCredentials()));
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }

  std::unique_ptr<Subprocess> StartAgent(const std::string& name, const std::string& device_class,
                                         const std::string& token = kFleetToken,
                                         std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {HAT_AGENT_PATH, "--server=" + Address(),
                                     "--device_class=" + device_class, "--token=" + token};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Subprocess>(argv, dir_.File(name + ".log"));
  }

  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& token = kAdminToken) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (!token.empty()) ctx->AddMetadata(kAuthorizationKey, BearerValue(token));
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return ctx;
  }

  // A latency-dataset job on the tiny space; `runs` timed runs per config (HAT preset).
  grpc::Status Submit(int configs, int runs, const std::string& device_class, v1::Job* job,
                      const std::string& token = kAdminToken) {
    v1::SubmitJobRequest req;
    auto* spec = req.mutable_spec()->mutable_latency_dataset();
    spec->set_space_name("tiny");
    spec->set_device_class(device_class);
    spec->set_num_configs(configs);
    spec->set_seed(5);
    spec->mutable_protocol()->set_preset(v1::PROTOCOL_PRESET_HAT);
    spec->mutable_protocol()->set_warmup_runs(1);
    spec->mutable_protocol()->set_min_runs(runs);
    spec->mutable_protocol()->set_max_runs(runs);
    v1::SubmitJobResponse resp;
    grpc::Status s = stub_->SubmitJob(Ctx(token).get(), req, &resp);
    *job = resp.job();
    return s;
  }

  v1::Job GetJob(const std::string& id) {
    v1::GetJobRequest req;
    req.set_job_id(id);
    v1::Job job;
    EXPECT_TRUE(stub_->GetJob(Ctx().get(), req, &job).ok());
    return job;
  }

  bool WaitJobEnded(const std::string& id, double seconds) {
    return WaitFor(
        [&] {
          const v1::JobState s = GetJob(id).state();
          return s == v1::JOB_STATE_SUCCEEDED || s == v1::JOB_STATE_FAILED ||
                 s == v1::JOB_STATE_CANCELLED;
        },
        seconds);
  }

  // The device class's export in `format`, as the server streams it.
  std::string Export(const std::string& device_class, v1::ExportFormat format) {
    v1::ExportRequest req;
    req.set_device_class(device_class);
    req.set_format(format);
    auto ctx = Ctx();
    auto reader = stub_->Export(ctx.get(), req);
    std::string data;
    v1::ExportChunk chunk;
    while (reader->Read(&chunk)) data += chunk.data();
    EXPECT_TRUE(reader->Finish().ok());
    return data;
  }

  // Lines of the device class's full export: one JSON object per stored measurement. Tests count
  // measurements with it: HAT's CSV merges a config's measurements into one row, so a duplicate
  // would not show there.
  std::vector<std::string> FullExportRows(const std::string& device_class) {
    std::vector<std::string> rows;
    std::stringstream ss(Export(device_class, v1::EXPORT_FORMAT_FULL));
    std::string line;
    while (std::getline(ss, line)) rows.push_back(line);
    return rows;
  }

  // Expects `rows` (full export lines) to be `tasks` measurements of distinct tasks: no (job,
  // task index) measured twice.
  static void ExpectEachTaskOnce(const std::vector<std::string>& rows, size_t tasks) {
    std::set<std::string> seen;
    for (const std::string& row : rows) {
      const nlohmann::json j = nlohmann::json::parse(row);
      const std::string task =
          j.at("job_id").get<std::string>() + " " + j.at("task_id").get<std::string>();
      EXPECT_TRUE(seen.insert(task).second) << "measured twice: " << task;
    }
    EXPECT_EQ(rows.size(), tasks);
  }

  // Runs hatctl against the server with the admin token; (exit code, stdout and stderr).
  std::pair<int, std::string> Hatctl(const std::string& args, const std::string& log_name) {
    Subprocess p({"/bin/sh", "-c",
                  std::string(HATCTL_PATH) + " " + args + " --server " + Address() + " --token " +
                      kAdminToken},
                 dir_.File(log_name));
    const int code = p.Wait();
    return {code, p.Log()};
  }

  // Certificates made with openssl for one test, in the test's directory: a CA (ca.pem), a
  // server certificate for 127.0.0.1 (server.pem, server.key) and a client certificate
  // (client.pem, client.key) signed by it, and a client certificate signed by another CA
  // (stranger.pem, stranger.key).
  void MakeCertificates() {
    auto certificate = [](const std::string& name, const std::string& subject,
                          const std::string& ca, const std::string& extensions) {
      return "openssl req -newkey rsa:2048 -nodes -subj " + subject + " -keyout " + name +
             ".key -out " + name + ".csr && openssl x509 -req -in " + name + ".csr -CA " + ca +
             ".pem -CAkey " + ca + ".key -CAcreateserial -days 1 " + extensions + " -out " + name +
             ".pem";
    };
    auto authority = [](const std::string& name) {
      return "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + name + " -keyout " +
             name + ".key -out " + name + ".pem";
    };
    const std::string script =
        "cd '" + dir_.path() + "' && printf 'subjectAltName=IP:127.0.0.1' > san.ext && " +
        authority("ca") + " && " +
        certificate("server", "/CN=127.0.0.1", "ca", "-extfile san.ext") + " && " +
        certificate("client", "/CN=client", "ca", "") + " && " + authority("other-ca") + " && " +
        certificate("stranger", "/CN=client", "other-ca", "");
    Subprocess certs({"/bin/sh", "-c", script}, dir_.File("openssl.log"));
    ASSERT_EQ(certs.Wait(), 0) << certs.Log();
  }

  v1::ListAgentsResponse Agents() {
    v1::ListAgentsResponse resp;
    EXPECT_TRUE(stub_->ListAgents(Ctx().get(), v1::ListAgentsRequest(), &resp).ok());
    return resp;
  }

  hat::testing::TempDir dir_;
  std::unique_ptr<Subprocess> server_;
  int port_ = 0;
  std::unique_ptr<v1::JobService::Stub> stub_;
};

TEST_F(FleetTest, ThreeAgentsCompleteAThirtyConfigJobWithThirtyMeasurements) {
  StartServer();
  auto a = StartAgent("a1", "tiny-cpu"), b = StartAgent("a2", "tiny-cpu"),
       c = StartAgent("a3", "tiny-cpu");
  v1::Job job;
  ASSERT_TRUE(Submit(30, 2, "tiny-cpu", &job).ok());
  ASSERT_TRUE(WaitJobEnded(job.job_id(), 300)) << server_->Log();
  const v1::Job done = GetJob(job.job_id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error();
  EXPECT_EQ(done.progress().done(), 30);
  ExpectEachTaskOnce(FullExportRows("tiny-cpu"), 30);
  int64_t measured = 0;
  const v1::ListAgentsResponse agents = Agents();
  for (const v1::Agent& agent : agents.agents()) measured += agent.measurements_done();
  EXPECT_EQ(measured, 30);
  EXPECT_EQ(Agents().agents_size(), 3);
}

TEST_F(FleetTest, AgentKilledMidLeaseHasItsTaskReleasedAndCompletedOnce) {
  StartServer();
  auto victim = StartAgent("victim", "tiny-cpu");
  v1::Job job;
  ASSERT_TRUE(Submit(4, 150, "tiny-cpu", &job).ok());  // long enough to catch it measuring
  ASSERT_TRUE(WaitFor(
      [&] {
        const v1::ListAgentsResponse agents = Agents();
        for (const v1::Agent& a : agents.agents()) {
          if (a.state() == v1::AGENT_STATE_MEASURING) return true;
        }
        return false;
      },
      120))
      << victim->Log();
  victim->Kill(SIGKILL);
  victim->Wait();
  auto rescuer = StartAgent("rescuer", "tiny-cpu");
  ASSERT_TRUE(WaitJobEnded(job.job_id(), 300)) << server_->Log();
  const v1::Job done = GetJob(job.job_id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error();
  ExpectEachTaskOnce(FullExportRows("tiny-cpu"), 4);
  bool lost = false;
  const v1::ListAgentsResponse agents = Agents();
  for (const v1::Agent& a : agents.agents()) lost = lost || a.state() == v1::AGENT_STATE_LOST;
  EXPECT_TRUE(lost) << "the killed agent should be marked lost";
}

TEST_F(FleetTest, ServerKilledMidJobFinishesAfterRestartKeepingEveryMeasurement) {
  StartServer();
  auto a = StartAgent("a1", "tiny-cpu"), b = StartAgent("a2", "tiny-cpu");
  v1::Job job;
  ASSERT_TRUE(Submit(16, 60, "tiny-cpu", &job).ok());
  ASSERT_TRUE(WaitFor([&] { return GetJob(job.job_id()).progress().done() >= 4; }, 300));
  // What the store held before the kill (more may be stored before the kill lands).
  const std::vector<std::string> before = FullExportRows("tiny-cpu");
  ASSERT_GE(before.size(), 4u);
  server_->Kill(SIGKILL);
  server_->Wait();
  // Everything acknowledged before the kill is in the store: restart and read it back.
  const int port = port_;
  StartServer(port);
  const int64_t kept = GetJob(job.job_id()).progress().done();
  EXPECT_GE(kept, static_cast<int64_t>(before.size()));
  ASSERT_TRUE(WaitJobEnded(job.job_id(), 300)) << server_->Log();
  const v1::Job done = GetJob(job.job_id());
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error();
  EXPECT_EQ(done.progress().done(), 16);
  const std::vector<std::string> after = FullExportRows("tiny-cpu");
  ExpectEachTaskOnce(after, 16);
  // Every measurement stored before the kill is still there, byte for byte: none was lost, and
  // none was overwritten by a second measurement of its task after the restart.
  const std::set<std::string> kept_rows(after.begin(), after.end());
  for (const std::string& row : before) {
    EXPECT_EQ(kept_rows.count(row), 1u) << "lost or changed by the restart: " << row;
  }
}

TEST_F(FleetTest, WrongOrMissingTokensAreRefusedAndChangeNothing) {
  StartServer();
  v1::Job job;
  grpc::Status wrong = Submit(3, 1, "tiny-cpu", &job, "not-the-token");
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status missing = Submit(3, 1, "tiny-cpu", &job, "");
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::Status fleet_on_jobs = Submit(3, 1, "tiny-cpu", &job, kFleetToken);
  EXPECT_EQ(fleet_on_jobs.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(wrong.error_message(), ::testing::Not(HasSubstr(kAdminToken)));
  v1::ListJobsResponse jobs;
  ASSERT_TRUE(stub_->ListJobs(Ctx().get(), v1::ListJobsRequest(), &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 0);
  // An agent with the wrong token gives up with a clear message instead of retrying forever.
  auto agent = StartAgent("intruder", "tiny-cpu", "wrong");
  ASSERT_TRUE(WaitFor([&] { return !agent->running(); }, 60));
  EXPECT_NE(agent->Wait(), 0);
  EXPECT_THAT(agent->Log(), HasSubstr("invalid token"));
  EXPECT_EQ(Agents().agents_size(), 0);
  EXPECT_THAT(server_->Log(), ::testing::Not(HasSubstr(kAdminToken)));
}

TEST_F(FleetTest, OversizedAndMalformedRequestsGetClearErrorsAndTheServerKeepsServing) {
  StartServer(0, {"--max_message_bytes=1048576"});
  v1::SubmitJobRequest big;
  big.mutable_spec()->set_description(std::string(2 << 20, 'x'));
  v1::SubmitJobResponse resp;
  EXPECT_EQ(stub_->SubmitJob(Ctx().get(), big, &resp).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::Job job;
  grpc::Status too_many = Submit(1000000000, 1, "tiny-cpu", &job);
  EXPECT_EQ(too_many.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(too_many.error_message(), HasSubstr("num_configs=1000000000"));
  grpc::Status bad_class = Submit(1, 1, "has spaces", &job);
  EXPECT_EQ(bad_class.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(bad_class.error_message(), HasSubstr("device_class"));
  v1::GetJobRequest missing;
  missing.set_job_id("job-424242");
  v1::Job out;
  grpc::Status not_found = stub_->GetJob(Ctx().get(), missing, &out);
  EXPECT_EQ(not_found.error_code(), grpc::StatusCode::NOT_FOUND);
  // Still serving.
  ASSERT_TRUE(Submit(2, 1, "tiny-cpu", &job).ok());
  EXPECT_EQ(GetJob(job.job_id()).progress().total(), 2);
  EXPECT_TRUE(server_->running());
}

TEST_F(FleetTest, TlsServesAgentsAndHatctlAndRefusesPlaintext) {
  MakeCertificates();
  StartServer(0, {"--tls_cert=" + dir_.File("server.pem"), "--tls_key=" + dir_.File("server.key")});
  // The fixture's plaintext stub cannot talk to a TLS server.
  v1::ListJobsResponse jobs;
  EXPECT_FALSE(stub_->ListJobs(Ctx().get(), v1::ListJobsRequest(), &jobs).ok());
  Subprocess agent({HAT_AGENT_PATH, "--server=" + Address(), "--device-class=secure",
                    std::string("--token=") + kFleetToken, "--tls-ca=" + dir_.File("ca.pem")},
                   dir_.File("agent.log"));
  auto hatctl = [&](const std::string& args, const std::string& name) {
    return Hatctl(args + " --tls-ca " + dir_.File("ca.pem"), name);
  };
  auto [submit_code, submit_out] = hatctl(
      "jobs submit latency-dataset --space tiny --device-class secure --samples 2 --protocol hat "
      "--runs 1 --warmup 0",
      "submit.log");
  ASSERT_EQ(submit_code, 0) << submit_out;
  const std::string id = submit_out.substr(0, submit_out.find('\n'));
  auto [watch_code, watch_out] = hatctl("jobs watch " + id, "watch.log");
  EXPECT_EQ(watch_code, 0) << watch_out << agent.Log();
}

TEST_F(FleetTest, MutualTlsRefusesClientsWithoutACertificateOfItsCa) {
  MakeCertificates();
  StartServer(0, {"--tls_cert=" + dir_.File("server.pem"), "--tls_key=" + dir_.File("server.key"),
                  "--tls_client_ca=" + dir_.File("ca.pem")});
  // Clients trusting the server's CA: with no certificate, with one from another CA, with one
  // from the server's client CA.
  struct Client {
    std::string name, cert, key;
    std::unique_ptr<v1::JobService::Stub> jobs;
    std::unique_ptr<v1::FleetService::Stub> fleet;
  };
  std::vector<Client> clients;
  for (const auto& [name, file] : std::vector<std::pair<std::string, std::string>>{
           {"no certificate", ""}, {"another CA's certificate", "stranger"}, {"ours", "client"}}) {
    Client c;
    c.name = name;
    if (!file.empty()) {
      c.cert = dir_.File(file + ".pem");
      c.key = dir_.File(file + ".key");
    }
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        ChannelCredentials(dir_.File("ca.pem"), c.cert, c.key);
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    auto channel = grpc::CreateChannel(Address(), *credentials);
    c.jobs = v1::JobService::NewStub(channel);
    c.fleet = v1::FleetService::NewStub(channel);
    clients.push_back(std::move(c));
  }
  Client& ours = clients.back();
  for (size_t i = 0; i + 1 < clients.size(); ++i) {
    Client& refused = clients[i];
    SCOPED_TRACE(refused.name);
    v1::SubmitJobRequest submit;
    auto* spec = submit.mutable_spec()->mutable_latency_dataset();
    spec->set_space_name("tiny");
    spec->set_device_class("secure");
    spec->set_num_configs(1);
    v1::SubmitJobResponse submitted;
    // The handshake fails: no call reaches a service.
    EXPECT_EQ(refused.jobs->SubmitJob(Ctx().get(), submit, &submitted).error_code(),
              grpc::StatusCode::UNAVAILABLE);
    v1::RegisterAgentRequest reg;
    reg.set_device_class("secure");
    v1::RegisterAgentResponse registered;
    EXPECT_EQ(refused.fleet->RegisterAgent(Ctx(kFleetToken).get(), reg, &registered).error_code(),
              grpc::StatusCode::UNAVAILABLE);
    v1::ListJobsResponse listed;
    EXPECT_EQ(refused.jobs->ListJobs(Ctx().get(), v1::ListJobsRequest(), &listed).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  // The client with our certificate gets in, and finds that nothing changed.
  v1::ListJobsResponse jobs;
  ASSERT_TRUE(ours.jobs->ListJobs(Ctx().get(), v1::ListJobsRequest(), &jobs).ok());
  EXPECT_EQ(jobs.jobs_size(), 0);
  v1::ListAgentsResponse agents;
  ASSERT_TRUE(ours.jobs->ListAgents(Ctx().get(), v1::ListAgentsRequest(), &agents).ok());
  EXPECT_EQ(agents.agents_size(), 0);
  v1::RegisterAgentRequest reg;
  reg.set_device_class("secure");
  v1::RegisterAgentResponse registered;
  EXPECT_TRUE(ours.fleet->RegisterAgent(Ctx(kFleetToken).get(), reg, &registered).ok());
}

TEST_F(FleetTest, EmbeddedDefaultRunsAJobThroughHatctl) {
  StartServer(0, {"--local_agent", "--local_agent_device_class=here"});
  auto hatctl = [&](const std::string& args, const std::string& name) {
    return Hatctl(args, name);
  };
  auto [submit_code, submit_out] = hatctl(
      "jobs submit latency-dataset --space tiny --device-class here --samples 3 "
      "--protocol hat --runs 2 --warmup 1",
      "submit.log");
  ASSERT_EQ(submit_code, 0) << submit_out;
  const std::string id = submit_out.substr(0, submit_out.find('\n'));
  auto [watch_code, watch_out] = hatctl("jobs watch " + id, "watch.log");
  EXPECT_EQ(watch_code, 0) << watch_out;
  EXPECT_THAT(watch_out, HasSubstr(id + " succeeded"));
  auto [export_code, csv] =
      hatctl("dataset export --device-class here --format hat-csv", "csv.log");
  EXPECT_EQ(export_code, 0);
  EXPECT_THAT(csv, HasSubstr("encoder_embed_dim,encoder_layer_num"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
  auto [full_code, full] = hatctl("dataset export --device-class here --format full", "full.log");
  EXPECT_EQ(full_code, 0) << full;
  EXPECT_EQ(std::count(full.begin(), full.end(), '\n'), 3) << "one line per measurement";
  // Sampled or given configs, one of the two.
  auto [both_code, both] =
      hatctl("jobs submit latency-dataset --space tiny --device-class here --samples 3 --config " +
                 hat::testing::SourcePath("data/configs/transformer-tiny.yml"),
             "both.log");
  EXPECT_NE(both_code, 0);
  EXPECT_THAT(both, HasSubstr("give --samples N (sampled configs) or --config FILE"));
  auto [agents_code, agents] = hatctl("agents list --json", "agents.log");
  EXPECT_EQ(agents_code, 0);
  EXPECT_THAT(agents, HasSubstr("\"device_class\": \"here\""));
  // Graceful shutdown on SIGTERM.
  server_->Kill(SIGTERM);
  EXPECT_EQ(server_->Wait(), 0) << server_->Log();
}

TEST_F(FleetTest, PredictorJobTrainsOnStoredMeasurementsAndHatctlDownloadsIt) {
  StartServer(0, {"--local_agent", "--local_agent_device_class=here"});
  auto [submit_code, submit_out] = Hatctl(
      "jobs submit latency-dataset --space tiny --device-class here --samples 12 "
      "--protocol hat --runs 2 --warmup 1",
      "submit.log");
  ASSERT_EQ(submit_code, 0) << submit_out;
  const std::string dataset_job = submit_out.substr(0, submit_out.find('\n'));
  auto [watch_code, watch_out] = Hatctl("jobs watch " + dataset_job, "watch.log");
  ASSERT_EQ(watch_code, 0) << watch_out;

  auto [train_code, train_out] =
      Hatctl("jobs submit predictor --device-class here --seed 2", "train.log");
  ASSERT_EQ(train_code, 0) << train_out;
  const std::string predictor_job = train_out.substr(0, train_out.find('\n'));
  auto [fit_code, fit_out] = Hatctl("jobs watch " + predictor_job, "fit.log");
  ASSERT_EQ(fit_code, 0) << fit_out << server_->Log();
  const v1::Job done = GetJob(predictor_job);
  EXPECT_EQ(done.result().predictor_version(), 1);
  EXPECT_EQ(done.result().measurements(), 12);

  auto [list_code, list_out] = Hatctl("predictor list --json", "list.log");
  ASSERT_EQ(list_code, 0) << list_out;
  EXPECT_THAT(list_out, HasSubstr("\"device_class\": \"here\""));
  EXPECT_THAT(list_out, HasSubstr("\"job_id\": \"" + predictor_job + "\""));
  const std::string file = dir_.File("here.predictor");
  auto [get_code, get_out] =
      Hatctl("predictor download --device-class here --out " + file, "download.log");
  ASSERT_EQ(get_code, 0) << get_out;
  Subprocess predict({HATCTL_PATH, "predictor", "predict", "--predictor", file, "--space", "tiny",
                      "--sample", "4", "--json"},
                     dir_.File("predict.log"));
  EXPECT_EQ(predict.Wait(), 0) << predict.Log();
  EXPECT_THAT(predict.Log(), HasSubstr("\"latency_ms\""));
  auto [missing_code, missing_out] =
      Hatctl("predictor download --device-class elsewhere --out " + file, "missing.log");
  EXPECT_EQ(missing_code, 1);
  EXPECT_THAT(missing_out, HasSubstr("no predictor for device class 'elsewhere'"));
}

// `hatctl health` (what container probes run) needs no token, says SERVING while the server
// serves, and fails once it is gone.
TEST_F(FleetTest, HealthCheckAnswersWithoutATokenAndFailsWhenTheServerIsGone) {
  StartServer();
  Subprocess ok({HATCTL_PATH, "health", "--server", Address(), "--json"}, dir_.File("h1.log"));
  EXPECT_EQ(ok.Wait(), 0) << ok.Log();
  EXPECT_THAT(ok.Log(), HasSubstr("\"status\":\"SERVING\""));
  server_->Kill(SIGTERM);
  ASSERT_EQ(server_->Wait(), 0) << server_->Log();
  Subprocess gone({HATCTL_PATH, "health", "--server", Address(), "--timeout", "2"},
                  dir_.File("h2.log"));
  EXPECT_EQ(gone.Wait(), 1) << gone.Log();
  EXPECT_THAT(gone.Log(), HasSubstr("health check of " + Address()));
}

// A Raspberry Pi whose firmware says it is throttled, then a cool one, measuring for one device
// class: every stored measurement carries its device's condition and how it was timed, the
// throttled ones are flagged,
// and a predictor leaves them out unless asked to take them.
TEST_F(FleetTest, AThrottledDevicesMeasurementsAreFlaggedAndLeftOutOfPredictors) {
  StartServer();
  hat::testing::FakeSysfs hot(dir_.File("sys-hot")), cool(dir_.File("sys-cool"));
  hot.SetTemperature(0, 82.0);
  hot.SetCpu(0, 1000000, 1800000, "performance");
  hot.SetFirmwareThrottled(kFirmwareThrottled | kFirmwareThrottled << kFirmwareOccurredShift);
  cool.SetTemperature(0, 45.0);
  cool.SetCpu(0, 1800000, 1800000, "performance");
  cool.SetFirmwareThrottled(0);

  // Twelve configs on the hot device, then twelve on the cool one: each measures its own job.
  std::string hot_agent;
  for (const auto* sys : {&hot, &cool}) {
    const bool is_hot = sys == &hot;
    auto agent =
        StartAgent(is_hot ? "hot" : "cool", "pi4", kFleetToken, {"--sysfs-root=" + sys->root()});
    v1::Job job;
    ASSERT_TRUE(Submit(12, 1, "pi4", &job).ok());
    ASSERT_TRUE(WaitJobEnded(job.job_id(), 300)) << agent->Log();
    ASSERT_EQ(GetJob(job.job_id()).state(), v1::JOB_STATE_SUCCEEDED) << agent->Log();
    if (is_hot) {
      const v1::ListAgentsResponse agents = Agents();
      ASSERT_EQ(agents.agents_size(), 1);
      hot_agent = agents.agents(0).agent_id();
    }
    agent->Kill(SIGTERM);
    ASSERT_EQ(agent->Wait(), 0) << agent->Log();
  }

  const std::vector<std::string> rows = FullExportRows("pi4");
  ASSERT_EQ(rows.size(), 24u);
  int throttled = 0;
  for (const std::string& row : rows) {
    const nlohmann::json j = nlohmann::json::parse(row);
    const nlohmann::json& c = j.at("condition");
    const bool from_hot = j.at("agent_id") == hot_agent;
    EXPECT_EQ(j.value("timing", std::string()), "TIMING_METHOD_WALL_CLOCK") << row;
    EXPECT_EQ(c.value("throttled", false), from_hot) << row;
    EXPECT_EQ(c.value("temperature_c_after", 0.0), from_hot ? 82.0 : 45.0) << row;
    EXPECT_EQ(c.value("cpu_freq_khz_after", std::string()), from_hot ? "1000000" : "1800000");
    if (from_hot) {
      ++throttled;
      EXPECT_THAT(c.at("throttle_reasons").dump(), HasSubstr("throttled (get_throttled=0x40004)"));
    }
  }
  EXPECT_EQ(throttled, 12);
  const v1::ListAgentsResponse agents = Agents();
  ASSERT_EQ(agents.agents_size(), 2);
  for (const v1::Agent& a : agents.agents()) {
    const bool is_hot = a.agent_id() == hot_agent;
    EXPECT_EQ(a.last_condition().throttled(), is_hot);
    EXPECT_EQ(a.measurements_throttled(), is_hot ? 12 : 0);
    EXPECT_EQ(a.measurements_done(), 12);
  }
  const auto [list_code, list] = Hatctl("agents list", "agents.log");
  ASSERT_EQ(list_code, 0) << list;
  EXPECT_THAT(list, HasSubstr("82.0 C 1000 MHz throttled"));
  EXPECT_THAT(list, HasSubstr("45.0 C 1800 MHz"));

  // The predictor trains on the cool measurements, or on all of them when asked.
  for (const bool include : {false, true}) {
    auto [code, out] = Hatctl(std::string("jobs submit predictor --device-class pi4") +
                                  (include ? " --include-throttled" : ""),
                              include ? "predictor-all.log" : "predictor.log");
    ASSERT_EQ(code, 0) << out;
    const std::string id = out.substr(0, out.find('\n'));
    ASSERT_TRUE(WaitJobEnded(id, 120));
    const v1::Job done = GetJob(id);
    ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error();
    EXPECT_EQ(done.result().measurements(), include ? 24 : 12);
    v1::GetPredictorRequest req;
    req.set_device_class("pi4");
    v1::StoredPredictor stored;
    ASSERT_TRUE(stub_->GetPredictor(Ctx().get(), req, &stored).ok());
    EXPECT_EQ(stored.predictor().accuracy().throttled_left_out(), include ? 0 : 12);
    EXPECT_EQ(stored.predictor().accuracy().measurements(), include ? 24 : 12);
  }
}

// Tokens are secrets. hat-server makes its token files private; after a whole job with the
// server, an agent and hatctl taking tokens from files (and an intruder's guess refused), no log
// or output holds a token or the guess. A token file every user can read stops hat-server,
// hat-agent and hatctl, each saying which file and how to fix it.
TEST_F(FleetTest, TokensStayOutOfLogsAndWorldReadableTokenFilesAreRefused) {
  StartServer(0, {"--fleet_token=", "--admin_token="});  // tokens from DIR/*.token
  const std::string fleet_file = dir_.File("data/fleet.token");
  const std::string admin_file = dir_.File("data/admin.token");
  struct stat st;
  ASSERT_EQ(::stat(admin_file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string fleet(absl::StripAsciiWhitespace(ReadAll(fleet_file)));
  const std::string admin(absl::StripAsciiWhitespace(ReadAll(admin_file)));
  ASSERT_EQ(fleet.size(), 32u);
  ASSERT_EQ(admin.size(), 32u);
  const std::string guess = "guess-0f3a9c1d77e2";
  auto hatctl = [&](const std::string& args, const std::string& log) {
    Subprocess p(
        {"/bin/sh", "-c", std::string(HATCTL_PATH) + " " + args + " --server " + Address()},
        dir_.File(log));
    const int code = p.Wait();
    return std::make_pair(code, p.Log());
  };

  auto agent = StartAgent("agent", "tiny-cpu", "", {"--token_file=" + fleet_file});
  const auto [submit_code, submitted] = hatctl(
      "jobs submit latency-dataset --space tiny --device-class tiny-cpu --samples 3 --protocol "
      "hat --runs 2 --warmup 1 --token-file " +
          admin_file,
      "hatctl-submit.log");
  ASSERT_EQ(submit_code, 0) << submitted;
  const std::string job_id(absl::StripAsciiWhitespace(submitted));
  EXPECT_EQ(
      hatctl("jobs watch " + job_id + " --token-file " + admin_file, "hatctl-watch.log").first, 0);
  const auto [export_code, exported] =
      hatctl("dataset export --device-class tiny-cpu --format full --token-file " + admin_file,
             "hatctl-export.log");
  EXPECT_EQ(export_code, 0) << exported;
  EXPECT_EQ(std::count(exported.begin(), exported.end(), '\n'), 3) << exported;
  EXPECT_EQ(hatctl("agents list --token-file " + admin_file, "hatctl-agents.log").first, 0);
  EXPECT_NE(hatctl("jobs list --token " + guess, "hatctl-intruder.log").first, 0);
  agent->Kill(SIGTERM);
  EXPECT_EQ(agent->Wait(), 0) << agent->Log();
  server_->Kill(SIGTERM);
  EXPECT_EQ(server_->Wait(), 0) << server_->Log();
  int logs = 0;
  for (const char* log : {"server.log", "agent.log", "hatctl-submit.log", "hatctl-watch.log",
                          "hatctl-export.log", "hatctl-agents.log", "hatctl-intruder.log"}) {
    const std::string text = ReadAll(dir_.File(log));
    EXPECT_FALSE(text.empty()) << log;
    for (const std::string& secret : {fleet, admin, guess}) {
      EXPECT_THAT(text, ::testing::Not(HasSubstr(secret))) << log << " shows a token";
    }
    ++logs;
  }
  EXPECT_EQ(logs, 7);

  // The fleet token readable by every user: the server and an agent refuse to start.
  ASSERT_EQ(::chmod(fleet_file.c_str(), 0644), 0);
  Subprocess server({HAT_SERVER_PATH, "--data-dir=" + dir_.File("data"), "--listen=127.0.0.1:0"},
                    dir_.File("server-refused.log"));
  EXPECT_NE(server.Wait(), 0);
  EXPECT_THAT(server.Log(), HasSubstr(fleet_file + ": mode 0644 lets every user read"));
  EXPECT_THAT(server.Log(), HasSubstr("chmod 600 " + fleet_file));
  auto refused_agent = StartAgent("agent-refused", "tiny-cpu", "", {"--token_file=" + fleet_file});
  EXPECT_EQ(refused_agent->Wait(), 1);
  EXPECT_THAT(refused_agent->Log(), HasSubstr("--token-file " + fleet_file + ": mode 0644"));
  // The admin token likewise, for hatctl.
  ASSERT_EQ(::chmod(admin_file.c_str(), 0604), 0);
  const auto [code, out] = hatctl("jobs list --token-file " + admin_file, "hatctl-refused.log");
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, HasSubstr(admin_file + ": mode 0604 lets every user read"));
  for (const std::string& text : {server.Log(), refused_agent->Log(), out}) {
    EXPECT_THAT(text, ::testing::Not(HasSubstr(fleet)));
    EXPECT_THAT(text, ::testing::Not(HasSubstr(admin)));
  }
}

// hat-server on an address other machines reach, without TLS, warns that tokens would cross the
// network in clear text; on loopback it does not.
TEST_F(FleetTest, ClearTextBeyondLoopbackIsWarnedAbout) {
  StartServer();
  EXPECT_THAT(server_->Log(), ::testing::Not(HasSubstr("WARNING")));
  server_->Kill(SIGTERM);
  ASSERT_EQ(server_->Wait(), 0);
  StartServer(0, {"--listen=0.0.0.0:0"});
  EXPECT_THAT(server_->Log(),
              HasSubstr("WARNING: gRPC on 0.0.0.0:0 without TLS: tokens and data cross the "
                        "network in clear text"));
}

}  // namespace
}  // namespace hat
