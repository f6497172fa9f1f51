// Benchmark: does a SuperTransformer-training job starve lease handling? An in-process hat-server
// core (RocksDB store, real gRPC on loopback, the job runner with --job-threads 1) serves
// simulated agents that lease and report with instant measurements, once while a training job
// of the `tiny` space on Multi30k runs on the runner (1 intra-op thread; the corpus prepared
// once into the user's hatfleet cache) and once while nothing
// else runs, alternating, `rounds` times each. Prints LeaseTask and ReportResult p50/p99 per
// round as JSON lines and the medians over rounds.
//
//   build/bin/lease_beside_training_bench [--agents 50] [--threads 8] [--configs 3000]
//                                         [--rounds 3] [--corpora DIR] [--corpus multi30k/tok]
#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/load_client.h"
#include "common/median.h"
#include "hat/v1/fleet_service.grpc.pb.h"
#include "hat/v1/job_service.grpc.pb.h"
#include "measure/hardware.h"
#include "nmt/prepared_corpus.h"
#include "rpc/grpc_status.h"
#include "server/coordinator.h"
#include "server/grpc_services.h"
#include "server/job_runner.h"
#include "server/storage/kv_store.h"
#include "server/supernet_job.h"

namespace hat {
namespace {

using bench::Ctx;
using bench::kToken;
using bench::NowS;
using bench::Percentile;

template <typename Call>
void Must(const char* what, Call call) {
  grpc::ClientContext ctx;
  Ctx(ctx);
  const grpc::Status s = call(&ctx);
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.error_message().c_str());
    std::exit(1);
  }
}

struct Latencies {
  std::mutex mu;
  std::vector<double> lease_ms, report_ms;
};

// Drains one latency-dataset job of `configs` configs with `agents` agents spoken for by
// `threads` client threads; every lease and report timed.
void Drain(v1::FleetService::Stub& fleet, v1::JobService::Stub& jobs, int round, int agents,
           int threads, int configs, Latencies& out) {
  const std::string device_class = "round" + std::to_string(round);
  std::vector<std::string> ids;
  for (int i = 0; i < agents; ++i) {
    v1::RegisterAgentRequest req;
    req.set_device_class(device_class);
    v1::RegisterAgentResponse resp;
    Must("register", [&](grpc::ClientContext* c) { return fleet.RegisterAgent(c, req, &resp); });
    ids.push_back(resp.agent_id());
  }
  v1::SubmitJobRequest submit;
  auto* spec = submit.mutable_spec()->mutable_latency_dataset();
  spec->set_space_name("hat-wmt14-en-de");
  spec->set_device_class(device_class);
  spec->set_num_configs(configs);
  v1::SubmitJobResponse submitted;
  Must("submit", [&](grpc::ClientContext* c) { return jobs.SubmitJob(c, submit, &submitted); });
  std::atomic<bool> drained{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      int idle = 0;
      for (size_t i = t; !drained; i += threads) {
        v1::LeaseTaskRequest lreq;
        lreq.set_agent_id(ids[i % ids.size()]);
        v1::LeaseTaskResponse lease;
        grpc::ClientContext lctx;
        Ctx(lctx);
        const double t0 = NowS();
        const bool leased = fleet.LeaseTask(&lctx, lreq, &lease).ok() && lease.has_task();
        const double t1 = NowS();
        if (!leased) {
          if (++idle > agents) drained = true;
          continue;
        }
        idle = 0;
        v1::ReportResultRequest rreq;
        rreq.set_agent_id(lreq.agent_id());
        rreq.set_lease_id(lease.lease_id());
        rreq.mutable_result()->set_task_id(lease.task().task_id());
        rreq.mutable_result()->set_total_ms(1.0);
        v1::ReportResultResponse ack;
        grpc::ClientContext rctx;
        Ctx(rctx);
        const double t2 = NowS();
        fleet.ReportResult(&rctx, rreq, &ack).ok();
        const double t3 = NowS();
        std::lock_guard<std::mutex> lock(out.mu);
        out.lease_ms.push_back((t1 - t0) * 1000);
        out.report_ms.push_back((t3 - t2) * 1000);
      }
    });
  }
  for (std::thread& w : workers) w.join();
}

}  // namespace
}  // namespace hat

int main(int argc, char** argv) {
  int agents = 50, threads = 8, configs = 3000, rounds = 3;
  std::string corpora = std::string(HAT_SOURCE_DIR) + "/data", corpus = "multi30k/tok";
  CLI::App app{"LeaseTask latency with and without a SuperTransformer-training job running"};
  app.add_option("--agents", agents)->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--threads", threads, "Client threads")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--configs", configs, "Configs per round")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  app.add_option("--rounds", rounds, "Rounds of each kind")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_option("--corpora", corpora, "The server's --corpora-dir")->capture_default_str();
  app.add_option("--corpus", corpus, "Corpus of the training job")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  char dir_template[] = "/tmp/hatfleet-lease-training-XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  for (const char* sub : {"/artifacts", "/jobs"}) std::filesystem::create_directories(dir + sub);
  hat::CoordinatorOptions options;
  options.artifacts_dir = dir + "/artifacts";
  auto store = hat::OpenRocksDbStore(dir + "/db");
  if (!store.ok()) return 1;
  auto opened = hat::Coordinator::Open(*std::move(store), options);
  if (!opened.ok()) return 1;
  std::unique_ptr<hat::Coordinator> coordinator = *std::move(opened);
  hat::FleetServiceImpl fleet_service(coordinator.get(), hat::bench::kToken);
  hat::JobServiceImpl job_service(coordinator.get(), hat::bench::kToken);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&fleet_service);
  builder.RegisterService(&job_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  hat::JobRunner runner(coordinator.get(), {1, dir + "/jobs"});
  runner.Add(std::make_unique<hat::SupernetTrainingJob>(
      hat::SupernetJobOptions{corpora, hat::DefaultCacheDir()}));
  runner.Start();

  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto fleet = hat::v1::FleetService::NewStub(channel);
  auto jobs = hat::v1::JobService::NewStub(channel);
  const hat::HardwareInfo hw = hat::DetectHostHardware();
  std::printf("{\"machine\": \"%s\", \"cores\": %d}\n", hw.cpu_model.c_str(), hw.cpu_cores);
  std::fflush(stdout);

  std::vector<double> p99_idle, p99_training, p50_idle, p50_training;
  for (int round = 0; round < 2 * rounds; ++round) {
    const bool training = round % 2 == 0;
    std::string job_id;
    if (training) {
      // A fresh training job per round, long enough to outlast the round; running before the
      // agents start (the corpus is prepared once and cached).
      hat::v1::SubmitJobRequest req;
      auto* spec = req.mutable_spec()->mutable_supernet_training();
      spec->set_space_name("tiny");
      spec->set_corpus(corpus);
      spec->set_steps(100000);
      spec->set_threads(1);
      spec->set_save_every(1000);
      hat::v1::SubmitJobResponse resp;
      hat::Must("submit training",
                [&](grpc::ClientContext* c) { return jobs->SubmitJob(c, req, &resp); });
      job_id = resp.job().job_id();
      while (true) {
        absl::StatusOr<hat::v1::Job> job = coordinator->GetJob(job_id);
        if (!job.ok() || hat::IsTerminal(job->state())) {
          std::fprintf(stderr, "training job ended early: %s\n",
                       job.ok() ? job->error().c_str() : "");
          return 1;
        }
        if (job->progress().done() >= 5) break;  // training, past its first updates
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    hat::Latencies latencies;
    const double t0 = hat::bench::NowS();
    hat::Drain(*fleet, *jobs, round, agents, threads, configs, latencies);
    const double seconds = hat::bench::NowS() - t0;
    int64_t trained = 0;
    if (training) {
      trained = coordinator->GetJob(job_id)->progress().done();
      hat::v1::CancelJobRequest cancel;
      cancel.set_job_id(job_id);
      hat::v1::Job cancelled;
      hat::Must("cancel",
                [&](grpc::ClientContext* c) { return jobs->CancelJob(c, cancel, &cancelled); });
      // The next round runs without training: wait until the runner has stopped the job (it
      // removes the job's work directory once the job has ended).
      while (std::filesystem::exists(dir + "/jobs/" + job_id)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
    const double p50 = hat::bench::Percentile(latencies.lease_ms, 0.5);
    const double p99 = hat::bench::Percentile(latencies.lease_ms, 0.99);
    (training ? p99_training : p99_idle).push_back(p99);
    (training ? p50_training : p50_idle).push_back(p50);
    std::printf(
        "{\"part\": \"round\", \"training_job\": %s, \"leases\": %zu, \"leases_per_s\": %.1f, "
        "\"lease_p50_ms\": %.2f, \"lease_p99_ms\": %.2f, \"report_p50_ms\": %.2f, "
        "\"report_p99_ms\": %.2f, \"training_updates_at_end\": %lld}\n",
        training ? "true" : "false", latencies.lease_ms.size(), latencies.lease_ms.size() / seconds,
        p50, p99, hat::bench::Percentile(latencies.report_ms, 0.5),
        hat::bench::Percentile(latencies.report_ms, 0.99), static_cast<long long>(trained));
    std::fflush(stdout);
  }
  std::printf(
      "{\"part\": \"summary\", \"agents\": %d, \"client_threads\": %d, \"configs\": %d, "
      "\"rounds\": %d, \"lease_p50_ms_idle\": %.2f, \"lease_p50_ms_training\": %.2f, "
      "\"lease_p99_ms_idle\": %.2f, \"lease_p99_ms_training\": %.2f}\n",
      agents, threads, configs, rounds, hat::Median(p50_idle), hat::Median(p50_training),
      hat::Median(p99_idle), hat::Median(p99_training));
  coordinator->Shutdown();
  server->Shutdown();
  runner.Stop();
  std::filesystem::remove_all(dir);
  return 0;
}
