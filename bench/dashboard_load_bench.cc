// Benchmark: the dashboard with a large fleet. A coordinator on RocksDB with `agents` simulated
// agents registered (hardware filled in as real agents send it), a dataset job that a quarter of
// them keep leasing and reporting, and every agent heartbeating, while headless Chromium
// (Debian's chromium + chromedriver) loads the dashboard.
//
//   build/bin/dashboard_load_bench [--agents 1000] [--loads 5] [--live-seconds 10]
//
// Reports (JSON lines): the page's load time (navigation to the first complete refresh of every
// panel: fleet, agents page, jobs, predictors, datasets; median and max of `loads` loads), the
// JSON API's latency (p50/p99 of /api/v1/summary and of a 100-agent page), and whether the page
// stays live: refreshes seen in `live-seconds` while the fleet works (one every 2 s expected).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_client.h"
#include "common/free_port.h"
#include "common/median.h"
#include "measure/hardware.h"
#include "server/coordinator.h"
#include "server/dashboard_server.h"
#include "server/metrics.h"
#include "server/storage/kv_store.h"
#include "tests/support/webdriver.h"

namespace hat {
namespace {

constexpr char kToken[] = "dashboard-bench-token";

double Elapsed(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

// p50 and p99 of `n` GETs of `path`, in milliseconds.
std::pair<double, double> ApiLatency(int port, const std::string& path, int n) {
  httplib::Client client("127.0.0.1", port);
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    httplib::Result r =
        client.Get(path.c_str(), {{"Authorization", std::string("Bearer ") + kToken}});
    if (!r || r->status != 200) {
      std::fprintf(stderr, "GET %s failed\n", path.c_str());
      std::exit(1);
    }
    ms.push_back(Elapsed(t0));
  }
  return {bench::Percentile(ms, 0.5), bench::Percentile(ms, 0.99)};
}

int Run(int agents, int loads, double live_seconds) {
  char dir_template[] = "/tmp/hatfleet-dashboard-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  auto store = OpenRocksDbStore(dir + "/db");
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", std::string(store.status().message()).c_str());
    return 1;
  }
  ServerMetrics metrics(dir + "/db");
  auto opened = Coordinator::Open(*std::move(store), CoordinatorOptions());
  if (!opened.ok()) return 1;
  std::unique_ptr<Coordinator> c = *std::move(opened);
  metrics.SetCoordinator(c.get());
  auto dashboard =
      DashboardServer::Start({"127.0.0.1:0", kToken, "", "", "", ""}, c.get(), &metrics);
  if (!dashboard.ok()) {
    std::fprintf(stderr, "%s\n", std::string(dashboard.status().message()).c_str());
    return 1;
  }
  const int port = (*dashboard)->port();
  const HardwareInfo hw = DetectHostHardware();
  std::printf("{\"machine\": \"%s\", \"cores\": %d}\n", hw.cpu_model.c_str(), hw.cpu_cores);

  std::vector<std::string> ids;
  for (int i = 0; i < agents; ++i) {
    v1::RegisterAgentRequest req;
    req.set_device_class(i % 10 == 0 ? "rpi4" : (i % 3 == 0 ? "titanxp" : "xeon"));
    req.set_hostname("host-" + std::to_string(i));
    req.mutable_hardware()->set_cpu_model(hw.cpu_model);
    req.mutable_hardware()->set_cpu_cores(hw.cpu_cores);
    auto r = c->RegisterAgent(req);
    if (!r.ok()) return 1;
    ids.push_back(r->agent_id());
  }
  v1::SubmitJobRequest submit;
  auto* spec = submit.mutable_spec()->mutable_latency_dataset();
  spec->set_space_name("tiny");
  spec->set_device_class("xeon");
  spec->set_num_configs(100000);
  if (!c->SubmitJob(submit).ok()) return 1;

  // The fleet at work: every agent heartbeats, the xeon ones lease and report.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reports{0};
  std::thread fleet([&] {
    while (!stop) {
      for (size_t i = 0; i < ids.size() && !stop; ++i) {
        v1::HeartbeatRequest hb;
        hb.set_agent_id(ids[i]);
        (void)c->Heartbeat(hb);
        v1::LeaseTaskRequest lease_req;
        lease_req.set_agent_id(ids[i]);
        auto lease = c->LeaseTask(lease_req, c->NowMs(), nullptr);
        if (lease.ok() && lease->has_task()) {
          v1::ReportResultRequest report;
          report.set_agent_id(ids[i]);
          report.set_lease_id(lease->lease_id());
          report.mutable_result()->set_task_id(lease->task().task_id());
          report.mutable_result()->set_total_ms(10 + (i % 50));
          if (c->ReportResult(report).ok()) ++reports;
        }
      }
    }
  });

  testing::Browser browser(FreeLoopbackPort(), dir + "/chromedriver.log");
  std::string why;
  if (!browser.Start(&why)) {
    std::fprintf(stderr, "cannot start headless Chromium: %s\n", why.c_str());
    stop = true;
    fleet.join();
    return 1;
  }
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  browser.Go(base + "/login");
  browser.Type(browser.Find("#token"), kToken);
  browser.Click(browser.Find("#login"));
  std::vector<double> load_ms;
  for (int i = 0; i < loads; ++i) {
    browser.Go(base + "/");
    double first = -1;
    testing::WaitFor(
        [&] {
          const nlohmann::json v = browser.Eval(
              "return document.body.dataset.firstRefreshMs ? "
              "Number(document.body.dataset.firstRefreshMs) : -1");
          first = v.is_number() ? v.get<double>() : -1;
          return first >= 0;
        },
        60);
    const nlohmann::json rows =
        browser.Eval("return document.querySelectorAll('#agents tbody tr').length");
    if (first < 0 || !rows.is_number() || rows.get<int>() != std::min(agents, 100)) {
      std::fprintf(stderr, "the page did not load (%d agent rows)\n",
                   rows.is_number() ? rows.get<int>() : -1);
      stop = true;
      fleet.join();
      return 1;
    }
    load_ms.push_back(first);
  }
  const int before = browser.Eval("return Number(document.body.dataset.refreshes)").get<int>();
  std::this_thread::sleep_for(std::chrono::duration<double>(live_seconds));
  const int after = browser.Eval("return Number(document.body.dataset.refreshes)").get<int>();
  const auto summary = ApiLatency(port, "/api/v1/summary", 200);
  const auto page = ApiLatency(port, "/api/v1/agents?page_size=100", 200);
  stop = true;
  fleet.join();
  std::printf(
      "{\"agents\": %d, \"loads\": %d, \"page_load_median_ms\": %.0f, \"page_load_max_ms\": %.0f, "
      "\"refreshes_in_%.0f_s\": %d, \"reports_during_bench\": %lld, \"summary_p50_ms\": %.2f, "
      "\"summary_p99_ms\": %.2f, \"agents_page_p50_ms\": %.2f, \"agents_page_p99_ms\": %.2f}\n",
      agents, loads, Median(load_ms), *std::max_element(load_ms.begin(), load_ms.end()),
      live_seconds, after - before, static_cast<long long>(reports.load()), summary.first,
      summary.second, page.first, page.second);
  return 0;
}

}  // namespace
}  // namespace hat

int main(int argc, char** argv) {
  int agents = 1000, loads = 5;
  double live_seconds = 10;
  CLI::App app{"The dashboard with a large simulated fleet: page load time and API latency"};
  app.add_option("--agents", agents)->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--loads", loads)->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--live-seconds", live_seconds)
      ->check(CLI::Range(2.0, 600.0))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return hat::Run(agents, loads, live_seconds);
}
