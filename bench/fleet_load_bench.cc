// Benchmark: the coordinator under load, over real gRPC on loopback with its RocksDB store.
//
//   build/bin/fleet_load_bench [--agents 1000] [--threads 32] [--configs 20000]
//                              [--scaling-configs 200] [--measure-ms 50]
//                              [--server ADDR --skip-scaling]
//
// By default the coordinator runs in this process (over a RocksDB store in /tmp); --server
// points the simulated fleet at a running hat-server instead, whose fleet and admin tokens must
// both be "bench" (tests/chaos/overload.sh runs it that way, beside many hatctl clients).
// Part 1 (load): `agents` simulated agents register, then lease and report with instant
// measurements until a job of `configs` configs is done; `threads` client threads take turns
// speaking for them. Reports leases per second (each with its report) up to the last stored
// report, p50/p99 latency of LeaseTask and ReportResult, and counts the job's full export: one
// line per config, none lost, none twice.
// Part 2 (scaling): 1, 2, 4, 8 agents whose measurements take `measure-ms`; throughput against
// the ideal N / measure-ms.
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_client.h"
#include "hat/v1/fleet_service.grpc.pb.h"
#include "hat/v1/job_service.grpc.pb.h"
#include "measure/hardware.h"
#include "rpc/grpc_status.h"
#include "server/coordinator.h"
#include "server/grpc_services.h"
#include "server/storage/kv_store.h"

namespace hat {
namespace {

using bench::Ctx;
using bench::kToken;
using bench::NowS;
using bench::Percentile;

// Empty leases in a row after which a client thread asks whether the job has ended.
constexpr int kIdleRoundsBeforeAsking = 50;

struct Server {
  std::unique_ptr<Coordinator> coordinator;
  std::unique_ptr<FleetServiceImpl> fleet;
  std::unique_ptr<JobServiceImpl> jobs;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

Server Start(const std::string& dir) {
  Server s;
  auto store = OpenRocksDbStore(dir);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", std::string(store.status().message()).c_str());
    std::exit(1);
  }
  s.coordinator = *Coordinator::Open(*std::move(store), CoordinatorOptions());
  s.fleet = std::make_unique<FleetServiceImpl>(s.coordinator.get(), kToken);
  s.jobs = std::make_unique<JobServiceImpl>(s.coordinator.get(), kToken);
  grpc::ServerBuilder b;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &s.port);
  b.RegisterService(s.fleet.get());
  b.RegisterService(s.jobs.get());
  s.server = b.BuildAndStart();
  return s;
}

std::string SubmitJob(v1::JobService::Stub& jobs, const std::string& device_class, int configs) {
  v1::SubmitJobRequest req;
  auto* spec = req.mutable_spec()->mutable_latency_dataset();
  spec->set_space_name("hat-wmt14-en-de");
  spec->set_device_class(device_class);
  spec->set_num_configs(configs);
  v1::SubmitJobResponse resp;
  grpc::ClientContext ctx;
  Ctx(ctx);
  if (!jobs.SubmitJob(&ctx, req, &resp).ok()) std::exit(1);
  return resp.job().job_id();
}

std::string Register(v1::FleetService::Stub& fleet, const std::string& device_class) {
  v1::RegisterAgentRequest req;
  req.set_device_class(device_class);
  v1::RegisterAgentResponse resp;
  grpc::ClientContext ctx;
  Ctx(ctx);
  if (!fleet.RegisterAgent(&ctx, req, &resp).ok()) std::exit(1);
  return resp.agent_id();
}

// Whether the job has ended (succeeded, or failed: configs whose leases were all lost).
bool JobEnded(v1::JobService::Stub& jobs, const std::string& job_id) {
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  v1::Job job;
  grpc::ClientContext ctx;
  Ctx(ctx);
  return jobs.GetJob(&ctx, req, &job).ok() && IsTerminal(job.state());
}

// The job's measurements as the server's full export has them: lines, and distinct tasks.
struct Exported {
  int64_t lines = 0;
  int64_t distinct_tasks = 0;
};

Exported CountFullExport(v1::JobService::Stub& jobs, const std::string& job_id) {
  v1::ExportRequest req;
  req.set_job_id(job_id);
  req.set_format(v1::EXPORT_FORMAT_FULL);
  grpc::ClientContext ctx;
  Ctx(ctx);
  auto reader = jobs.Export(&ctx, req);
  std::string text;
  v1::ExportChunk chunk;
  while (reader->Read(&chunk)) text += chunk.data();
  if (!reader->Finish().ok()) {
    std::fprintf(stderr, "fleet_load_bench: the full export of %s failed\n", job_id.c_str());
    std::exit(1);
  }
  Exported e;
  std::set<std::string> tasks;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.empty()) continue;
    ++e.lines;
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_object()) tasks.insert(row.value("task_id", ""));
  }
  tasks.erase("");
  e.distinct_tasks = static_cast<int64_t>(tasks.size());
  return e;
}

struct Totals {
  std::mutex mu;
  std::vector<double> lease_ms, report_ms;
  int64_t stored = 0, duplicates = 0, leases = 0;
  double last_stored_s = 0;  // when the last stored report was acknowledged
};

// One agent's round: lease (no waiting) and, when given a task, optionally "measure" for
// `measure_ms`, then report. Returns false when no task was available.
bool Round(v1::FleetService::Stub& fleet, const std::string& agent, double measure_ms,
           Totals& totals, bool record) {
  v1::LeaseTaskRequest lreq;
  lreq.set_agent_id(agent);
  v1::LeaseTaskResponse lease;
  grpc::ClientContext lctx;
  Ctx(lctx);
  const double t0 = NowS();
  if (!fleet.LeaseTask(&lctx, lreq, &lease).ok()) return false;
  const double t1 = NowS();
  if (!lease.has_task()) return false;
  if (measure_ms > 0)
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(measure_ms));
  v1::ReportResultRequest rreq;
  rreq.set_agent_id(agent);
  rreq.set_lease_id(lease.lease_id());
  rreq.mutable_result()->set_task_id(lease.task().task_id());
  rreq.mutable_result()->set_total_ms(1.0);
  v1::ReportResultResponse ack;
  grpc::ClientContext rctx;
  Ctx(rctx);
  const double t2 = NowS();
  const bool ok = fleet.ReportResult(&rctx, rreq, &ack).ok();
  const double t3 = NowS();
  std::lock_guard<std::mutex> lock(totals.mu);
  ++totals.leases;
  if (record) {
    totals.lease_ms.push_back((t1 - t0) * 1000);
    totals.report_ms.push_back((t3 - t2) * 1000);
  }
  if (ok && ack.stored()) {
    ++totals.stored;
    totals.last_stored_s = std::max(totals.last_stored_s, t3);
  }
  if (ok && !ack.stored()) ++totals.duplicates;
  return true;
}

}  // namespace
}  // namespace hat

int main(int argc, char** argv) {
  int agents = 1000, threads = 32, configs = 20000, scaling_configs = 200;
  double measure_ms = 50;
  std::string external;
  bool skip_scaling = false;
  CLI::App app{"The coordinator under a simulated fleet: throughput and lease latency"};
  app.add_option("--agents", agents)->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--threads", threads, "Client threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--configs", configs)->check(CLI::Range(1, 10000000))->capture_default_str();
  app.add_option("--scaling-configs", scaling_configs)
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--measure-ms", measure_ms, "Simulated measurement time")
      ->check(CLI::Range(0.0, 60000.0))
      ->capture_default_str();
  app.add_option("--server", external, "A running hat-server (tokens 'bench') instead of one here");
  app.add_flag("--skip-scaling", skip_scaling, "Leave out part 2");
  CLI11_PARSE(app, argc, argv);
  char dir_template[] = "/tmp/hatfleet-load-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  hat::Server server;
  if (external.empty()) server = hat::Start(dir + "/db");
  auto channel =
      grpc::CreateChannel(external.empty() ? "127.0.0.1:" + std::to_string(server.port) : external,
                          grpc::InsecureChannelCredentials());
  auto fleet = hat::v1::FleetService::NewStub(channel);
  auto jobs = hat::v1::JobService::NewStub(channel);
  const hat::HardwareInfo hw = hat::DetectHostHardware();
  std::printf("{\"machine\": \"%s\", \"cores\": %d}\n", hw.cpu_model.c_str(), hw.cpu_cores);

  // Part 1: load.
  std::vector<std::string> ids;
  for (int i = 0; i < agents; ++i) ids.push_back(hat::Register(*fleet, "load"));
  const std::string job = hat::SubmitJob(*jobs, "load", configs);
  hat::Totals totals;
  std::atomic<bool> drained{false};
  const double start = hat::bench::NowS();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      int idle_rounds = 0;
      for (size_t i = t; !drained; i += threads) {
        const std::string& agent = ids[i % ids.size()];
        if (hat::Round(*fleet, agent, 0, totals, true)) {
          idle_rounds = 0;
        } else if (++idle_rounds > hat::kIdleRoundsBeforeAsking) {
          // The queue stays empty: the job is done, or its last tasks are leased to agents that
          // went silent (they never heartbeat) and come back when those expire. (Asking only
          // after every agent had found it empty made the end of the run grow with the fleet:
          // 10,000 agents x 64 threads of empty leases.)
          if (hat::JobEnded(*jobs, job)) {
            drained = true;
          } else {
            idle_rounds = 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
          }
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
  // Throughput up to the last stored report: noticing that the job ended is not the server's work.
  const double seconds = totals.last_stored_s - start;
  const hat::Exported exported = hat::CountFullExport(*jobs, job);
  // Writes per WAL sync over the run (registrations included), when the server is in process.
  const hat::GroupCommit::Stats written =
      server.coordinator ? server.coordinator->StoreWriteStats() : hat::GroupCommit::Stats();
  std::printf(
      "{\"part\": \"load\", \"agents\": %d, \"client_threads\": %d, \"configs\": %d, "
      "\"seconds\": %.2f, \"leases_per_s\": %.1f, \"lease_p50_ms\": %.2f, \"lease_p99_ms\": %.2f, "
      "\"rpcs_per_s\": %.1f, \"report_p50_ms\": %.2f, \"report_p99_ms\": %.2f, "
      "\"acknowledged\": %lld, \"duplicates\": %lld, \"exported_lines\": %lld, "
      "\"exported_tasks\": %lld, \"lost\": %lld, \"store_writes\": %llu, "
      "\"store_syncs\": %llu}\n",
      agents, threads, configs, seconds, totals.leases / seconds,
      hat::bench::Percentile(totals.lease_ms, 0.5), hat::bench::Percentile(totals.lease_ms, 0.99),
      2 * totals.leases / seconds, hat::bench::Percentile(totals.report_ms, 0.5),
      hat::bench::Percentile(totals.report_ms, 0.99), static_cast<long long>(totals.stored),
      static_cast<long long>(totals.duplicates), static_cast<long long>(exported.lines),
      static_cast<long long>(exported.distinct_tasks),
      static_cast<long long>(configs - exported.distinct_tasks),
      static_cast<unsigned long long>(written.writes),
      static_cast<unsigned long long>(written.syncs));
  std::fflush(stdout);

  // Part 2: scaling with a fixed measurement time.
  double single = 0;
  for (int n : {1, 2, 4, 8}) {
    if (skip_scaling) break;
    const std::string device_class = "scale" + std::to_string(n);
    std::vector<std::string> scale_ids;
    for (int i = 0; i < n; ++i) scale_ids.push_back(hat::Register(*fleet, device_class));
    hat::SubmitJob(*jobs, device_class, scaling_configs);
    hat::Totals scale_totals;
    const double t0 = hat::bench::NowS();
    std::vector<std::thread> agents_threads;
    for (int i = 0; i < n; ++i) {
      agents_threads.emplace_back([&, i] {
        while (hat::Round(*fleet, scale_ids[i], measure_ms, scale_totals, false)) {
        }
      });
    }
    for (std::thread& a : agents_threads) a.join();
    const double rate = scale_totals.stored / (hat::bench::NowS() - t0);
    if (n == 1) single = rate;
    std::printf(
        "{\"part\": \"scaling\", \"agents\": %d, \"configs_per_s\": %.2f, "
        "\"ideal_per_s\": %.2f, \"of_linear\": %.3f, \"stored\": %lld}\n",
        n, rate, n * 1000.0 / measure_ms, rate / (n * single),
        static_cast<long long>(scale_totals.stored));
    std::fflush(stdout);
  }
  if (server.coordinator) server.coordinator->Shutdown();
  if (server.server) server.server->Shutdown();
  std::string cleanup = "rm -rf " + dir;
  return std::system(cleanup.c_str()) == 0 ? 0 : 1;
}
