// The dashboard end to end, in headless Chromium (Debian's chromium and chromium-driver, driven
// over the W3C WebDriver protocol with cpp-httplib): a hat-server with --http, two hat-agent
// processes, a latency dataset, a predictor, a SuperTransformer and a search job submitted with
// hatctl. The page is checked from inside (the DOM and the charts' data-points), not only by its
// screenshots, which are kept in build/test-artifacts/dashboard/. Then /metrics: it passes
// `promtool check metrics` and its counters equal what the fleet did (the full export has a line
// per measurement). Timeouts only bound how long a broken build may hang.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/free_port.h"
#include "tests/support/polling.h"
#include "tests/support/prometheus_text.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"
#include "tests/support/toy_corpus.h"
#include "tests/support/webdriver.h"

namespace hat {
namespace {

using ::hat::testing::ReadAll;
using ::hat::testing::Sample;
using ::hat::testing::Subprocess;
using ::hat::testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAdminToken[] = "dashboard-admin-token-9d2c71";
constexpr char kViewerToken[] = "dashboard-viewer-token-41be08";
constexpr char kFleetToken[] = "dashboard-fleet-token-0a55e3";
constexpr char kPromtool[] = "/usr/bin/promtool";

class DashboardBrowserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* tool : {hat::testing::kChromium, hat::testing::kChromedriver, kPromtool}) {
      ASSERT_TRUE(std::filesystem::exists(tool))
          << tool << " is missing: deploy/test.sh installs chromium, chromium-driver and "
          << "prometheus (deploy/setup.sh --with-test-tools)";
    }
    artifacts_ = std::string(HAT_TEST_ARTIFACTS_DIR) + "/dashboard";
    std::filesystem::create_directories(artifacts_);
    std::filesystem::create_directories(dir_.File("corpora/toy"));
    hat::testing::WriteToyCorpus(dir_.File("corpora/toy"));
    const std::string port_file = dir_.File("port"), http_port_file = dir_.File("http_port");
    server_ = std::make_unique<Subprocess>(
        std::vector<std::string>{
            HAT_SERVER_PATH, "--data-dir=" + dir_.File("data"), "--listen=127.0.0.1:0",
            "--port_file=" + port_file, "--http=127.0.0.1:0", "--http-port-file=" + http_port_file,
            std::string("--fleet_token=") + kFleetToken,
            std::string("--admin_token=") + kAdminToken,
            std::string("--viewer-token=") + kViewerToken, "--corpora-dir=" + dir_.File("corpora")},
        dir_.File("server.log"));
    ASSERT_TRUE(WaitFor(
        [&] {
          return (!ReadAll(port_file).empty() && !ReadAll(http_port_file).empty()) ||
                 !server_->running();
        },
        60))
        << server_->Log();
    ASSERT_TRUE(server_->running()) << server_->Log();
    port_ = std::stoi(ReadAll(port_file));
    http_port_ = std::stoi(ReadAll(http_port_file));
    for (int i = 0; i < 2; ++i) {
      agents_.push_back(std::make_unique<Subprocess>(
          std::vector<std::string>{HAT_AGENT_PATH, "--server=127.0.0.1:" + std::to_string(port_),
                                   "--device-class=local-cpu",
                                   std::string("--token=") + kFleetToken},
          dir_.File("agent-" + std::to_string(i) + ".log")));
    }
  }

  // hatctl's stdout (stderr to a log), and its exit code.
  std::pair<int, std::string> Hatctl(const std::string& args) {
    const std::string out = dir_.File("hatctl-" + std::to_string(++calls_) + ".out");
    Subprocess p({"/bin/sh", "-c",
                  std::string(HATCTL_PATH) + " " + args + " --server 127.0.0.1:" +
                      std::to_string(port_) + " --token " + kAdminToken + " > " + out},
                 dir_.File("hatctl.log"));
    const int code = p.Wait();
    return {code, std::string(absl::StripAsciiWhitespace(ReadAll(out)))};
  }
  // Submits a job and waits for it to succeed; its id.
  std::string Run(const std::string& submit) {
    const auto [code, id] = Hatctl("jobs submit " + submit);
    EXPECT_EQ(code, 0) << ReadAll(dir_.File("hatctl.log"));
    EXPECT_EQ(Hatctl("jobs watch " + id).first, 0) << ReadAll(dir_.File("hatctl.log"));
    return id;
  }
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(http_port_) + path;
  }

  hat::testing::TempDir dir_;
  std::string artifacts_;
  std::unique_ptr<Subprocess> server_;
  std::vector<std::unique_ptr<Subprocess>> agents_;
  int port_ = 0, http_port_ = 0, calls_ = 0;
};

TEST_F(DashboardBrowserTest, ShowsTheFleetAndALiveSearchAndMetricsCountWhatTheFleetDid) {
  // The pipeline up to the search, as a user drives it.
  const std::string dataset = Run(
      "latency-dataset --space tiny --device-class local-cpu --samples 24 --seed 1 --protocol hat");
  Run("predictor --device-class local-cpu --seed 1");
  const std::string supernet_job =
      Run("supernet --space tiny --corpus toy --vocab-size 60 --max-tokens 256 --threads 1 "
          "--valid-sentences 8 --steps 4 --seed 1");
  const std::string job_json = Hatctl("jobs get " + supernet_job + " --json").second;
  const std::string supernet =
      nlohmann::json::parse(job_json, nullptr, false)["result"].value("artifact_id", "");
  ASSERT_FALSE(supernet.empty()) << job_json;

  // Without a token: 401, the login form, nothing of the fleet.
  httplib::Client plain("127.0.0.1", http_port_);
  httplib::Result anonymous = plain.Get("/");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  hat::testing::Browser browser(hat::FreeLoopbackPort(), dir_.File("chromedriver.log"));
  std::string why;
  ASSERT_TRUE(browser.Start(&why)) << why << "\n" << ReadAll(dir_.File("chromedriver.log"));
  browser.Go(Url("/"));
  std::string page = browser.Source();
  EXPECT_THAT(page, HasSubstr("name=\"token\""));
  EXPECT_THAT(page, Not(HasSubstr("local-cpu")));
  EXPECT_THAT(page, Not(HasSubstr("agent-")));
  browser.Screenshot(artifacts_ + "/login.png");

  // Logged in with the viewer token: both agents listed.
  const std::string field = browser.Find("#token");
  ASSERT_FALSE(field.empty());
  browser.Type(field, kViewerToken);
  browser.Click(browser.Find("#login"));
  EXPECT_TRUE(WaitFor(
      [&] {
        return browser.Eval("return document.querySelectorAll('#agents tbody tr').length")
                   .get<int>() == 2;
      },
      30))
      << browser.Source();
  EXPECT_THAT(browser.Source(), Not(HasSubstr(kViewerToken)));

  // A search long enough to be watched; the page must show its progress advancing.
  const auto [code, search] = Hatctl(
      "jobs submit search --supernet " + supernet +
      " --constraint local-cpu:1000 --iterations 40 --population 16 --parents 4 --mutations 6"
      " --crossovers 6 --valid-sentences 16 --threads 1 --corpus toy --seed 1"
      " --remeasure-repeats 1 --remeasure-protocol hat");
  ASSERT_EQ(code, 0);
  const std::string row = "#job-table tr[data-job-id='" + search + "'] .progress";
  std::set<int> seen_running;
  int total = 0;
  bool finished = false;
  WaitFor(
      [&] {
        const nlohmann::json v = browser.Eval(
            "const p = document.querySelector(\"" + row +
            "\");"
            "const s = document.querySelector(\"#job-table tr[data-job-id='" +
            search +
            "'] td:nth-child(3)\");"
            "return p ? [Number(p.dataset.done), Number(p.dataset.total), s.textContent] : null;");
        if (!v.is_array()) return false;
        total = v[1].get<int>();
        if (v[2].get<std::string>() == "running") seen_running.insert(v[0].get<int>());
        finished = v[2].get<std::string>() == "succeeded";
        if (seen_running.size() == 2) browser.Screenshot(artifacts_ + "/search-running.png");
        return finished;
      },
      600);
  ASSERT_TRUE(finished) << Hatctl("jobs get " + search).second;
  EXPECT_GE(seen_running.size(), 2u) << "the page never showed the search's progress advancing";
  EXPECT_EQ(total, 40);

  // The plots have their points: the loss per iteration, the front (predicted and re-measured:
  // one winner, measured by the agents), the predictor's test rows, the dataset's histogram.
  EXPECT_TRUE(WaitFor(
      [&] {
        return browser.Eval(
                          "return Number(document.getElementById('history-chart').dataset.points)")
                       .get<int>() == 40 &&
               browser.Eval("return Number(document.getElementById('pareto-chart').dataset.points)")
                       .get<int>() == 2;
      },
      30))
      << browser.Source();
  // The predictor's plot has a point per test row, as the API reports them.
  httplib::Result predictor = plain.Get("/api/v1/predictors/local-cpu/1",
                                        {{"Authorization", std::string("Bearer ") + kViewerToken}});
  ASSERT_TRUE(predictor);
  const nlohmann::json predictor_json = nlohmann::json::parse(predictor->body, nullptr, false);
  const int test_rows = predictor_json["predictor"]["accuracy"].value("testRows", 0);
  EXPECT_GT(test_rows, 0) << predictor->body;
  EXPECT_TRUE(WaitFor(
      [&] {
        const nlohmann::json v = browser.Eval(
            "const c = document.getElementById('predictor-chart');"
            "return c && c.dataset.points ? Number(c.dataset.points) : -1;");
        return v.is_number() && v.get<int>() == test_rows;
      },
      30));
  EXPECT_TRUE(WaitFor(
      [&] {
        const nlohmann::json v = browser.Eval(
            "const c = document.querySelector('#dataset-charts canvas');"
            "return c && c.dataset.points ? Number(c.dataset.points) : 0;");
        return v.is_number() && v.get<int>() >= 24;
      },
      30));
  browser.Screenshot(artifacts_ + "/dashboard.png");
  EXPECT_THAT(browser.Source(), Not(HasSubstr(kViewerToken)));
  EXPECT_THAT(browser.Source(), Not(HasSubstr(kAdminToken)));

  // /metrics: valid for Prometheus, and equal to what the fleet did.
  httplib::Result metrics =
      plain.Get("/metrics", {{"Authorization", std::string("Bearer ") + kViewerToken}});
  ASSERT_TRUE(metrics);
  ASSERT_EQ(metrics->status, 200);
  const std::string metrics_file = artifacts_ + "/metrics.txt";
  std::ofstream(metrics_file) << metrics->body;
  Subprocess promtool(
      {"/bin/sh", "-c", std::string(kPromtool) + " check metrics < " + metrics_file},
      dir_.File("promtool.log"));
  EXPECT_EQ(promtool.Wait(), 0) << promtool.Log();

  const std::string full = dir_.File("dataset.jsonl");
  ASSERT_EQ(Hatctl("jobs export " + dataset + " --format full --out " + full).first, 0);
  const std::string lines = ReadAll(full);
  const int stored = static_cast<int>(std::count(lines.begin(), lines.end(), '\n'));
  EXPECT_EQ(stored, 24);
  const std::string& text = metrics->body;
  // The dataset's 24 and the search's one re-measured winner.
  EXPECT_EQ(Sample(text, R"(hat_tasks_ended_total{device_class="local-cpu",outcome="done"})"), 25);
  EXPECT_EQ(Sample(text, R"(hat_measurement_duration_seconds_count{device_class="local-cpu"})"),
            25);
  EXPECT_EQ(Sample(text, R"(hat_rpcs_total{code="OK",method="/hat.v1.FleetService/ReportResult"})"),
            25);
  EXPECT_EQ(Sample(text, R"(hat_agents{device_class="local-cpu",state="idle"})") +
                Sample(text, R"(hat_agents{device_class="local-cpu",state="measuring"})"),
            2);
  EXPECT_EQ(Sample(text, "hat_search_iterations_total"), 40);
  EXPECT_EQ(Sample(text, R"(hat_jobs{kind="search",state="succeeded"})"), 1);
  EXPECT_GT(Sample(text, "hat_search_fitness_evaluations_total"), 0);
  EXPECT_GT(Sample(text, "hat_store_size_bytes"), 0);

  // No token reached the server's log.
  const std::string log = server_->Log();
  EXPECT_THAT(log, Not(HasSubstr(kViewerToken)));
  EXPECT_THAT(log, Not(HasSubstr(kAdminToken)));
}

}  // namespace
}  // namespace hat
