// ServerMetrics: prometheus-cpp families for what is observed, MetricFamily values built at
// scrape time for what the coordinator already counts.
#include "server/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/job_names.h"
#include "server/coordinator.h"

namespace hat {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

double Seconds(const google::protobuf::Timestamp& t) { return t.seconds() + t.nanos() * 1e-9; }

// A family built at scrape time.
class ScrapedFamily {
 public:
  ScrapedFamily(std::string name, std::string help, MetricType type) {
    family_.name = std::move(name);
    family_.help = std::move(help);
    family_.type = type;
  }
  void Add(std::vector<ClientMetric::Label> labels, double value) {
    ClientMetric m;
    m.label = std::move(labels);
    if (family_.type == MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    family_.metric.push_back(std::move(m));
  }
  MetricFamily Take() { return std::move(family_); }

 private:
  MetricFamily family_;
};

// Bytes of the files under `dir` (0 when it cannot be read).
double DirectoryBytes(const std::string& dir) {
  std::error_code ec;
  double bytes = 0;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_error;
    if (it->is_regular_file(size_error)) {
      const auto size = it->file_size(size_error);
      if (!size_error) bytes += static_cast<double>(size);
    }
  }
  return bytes;
}

// The families read from the coordinator.
std::vector<MetricFamily> FleetFamilies(Coordinator& c) {
  ScrapedFamily agents("hat_agents", "Agents by device class and state", MetricType::Gauge);
  ScrapedFamily tasks("hat_tasks", "Measurement tasks queued or leased, by device class",
                      MetricType::Gauge);
  ScrapedFamily ended("hat_tasks_ended_total",
                      "Measurement tasks that ended, by device class and outcome",
                      MetricType::Counter);
  ScrapedFamily expiries("hat_lease_expiries_total",
                         "Leases that ran out or whose agent was lost, since the server started",
                         MetricType::Counter);
  ScrapedFamily throttled("hat_measurements_throttled_total",
                          "Stored measurements flagged as taken on a throttled device",
                          MetricType::Counter);
  ScrapedFamily predictor("hat_predictor_version", "Newest stored latency predictor version",
                          MetricType::Gauge);
  const v1::FleetSummary summary = c.Summary();
  for (const v1::DeviceClassSummary& s : summary.classes()) {
    const std::string& dc = s.device_class();
    agents.Add({{"device_class", dc}, {"state", "idle"}}, s.agents_idle());
    agents.Add({{"device_class", dc}, {"state", "measuring"}}, s.agents_measuring());
    agents.Add({{"device_class", dc}, {"state", "lost"}}, s.agents_lost());
    agents.Add({{"device_class", dc}, {"state", "left"}}, s.agents_left());
    tasks.Add({{"device_class", dc}, {"state", "queued"}}, s.tasks_queued());
    tasks.Add({{"device_class", dc}, {"state", "leased"}}, s.tasks_leased());
    ended.Add({{"device_class", dc}, {"outcome", "done"}}, s.tasks_done());
    ended.Add({{"device_class", dc}, {"outcome", "failed"}}, s.tasks_failed());
    expiries.Add({{"device_class", dc}}, s.lease_expiries());
    throttled.Add({{"device_class", dc}}, s.measurements_throttled());
    if (s.predictor_version() > 0) predictor.Add({{"device_class", dc}}, s.predictor_version());
  }

  ScrapedFamily jobs("hat_jobs", "Jobs by kind and state", MetricType::Gauge);
  ScrapedFamily done("hat_job_progress_done", "Units done of each queued or running job",
                     MetricType::Gauge);
  ScrapedFamily total("hat_job_progress_total", "Units of each queued or running job",
                      MetricType::Gauge);
  ScrapedFamily iterations("hat_search_iterations_total",
                           "Search iterations completed, over every search job",
                           MetricType::Counter);
  ScrapedFamily evaluations("hat_search_fitness_evaluations_total",
                            "Fitness evaluations computed by search jobs (cache hits apart)",
                            MetricType::Counter);
  ScrapedFamily cache_hits("hat_search_fitness_cache_hits_total",
                           "Fitness evaluations answered by the cache", MetricType::Counter);
  std::map<std::pair<std::string, std::string>, int64_t> by_kind_state;
  int64_t search_iterations = 0, search_evaluations = 0, search_cache_hits = 0;
  v1::ListJobsRequest req;
  req.set_page_size(1000);
  do {
    absl::StatusOr<v1::ListJobsResponse> page = c.ListJobs(req);
    if (!page.ok()) break;
    for (const v1::Job& job : page->jobs()) {
      const std::string kind = JobKindName(job.spec());
      ++by_kind_state[{kind, JobStateName(job.state())}];
      if (!IsTerminal(job.state())) {
        done.Add({{"job_id", job.job_id()}, {"kind", kind}}, job.progress().done());
        total.Add({{"job_id", job.job_id()}, {"kind", kind}}, job.progress().total());
      }
      const auto& history = job.progress().search_history();
      search_iterations += history.size();
      if (!history.empty()) {
        search_evaluations += history.rbegin()->evaluations();
        search_cache_hits += history.rbegin()->cache_hits();
      }
    }
    req.set_page_token(page->next_page_token());
  } while (!req.page_token().empty());
  for (const auto& [key, n] : by_kind_state) {
    jobs.Add({{"kind", key.first}, {"state", key.second}}, n);
  }
  iterations.Add({}, search_iterations);
  evaluations.Add({}, search_evaluations);
  cache_hits.Add({}, search_cache_hits);

  ScrapedFamily store_writes("hat_store_writes_total",
                             "Writes to the store (RocksDB batches), since the server started",
                             MetricType::Counter);
  ScrapedFamily store_syncs("hat_store_syncs_total",
                            "WAL syncs that made them durable (one sync acknowledges a group of "
                            "writes), since the server started",
                            MetricType::Counter);
  const GroupCommit::Stats written = c.StoreWriteStats();
  store_writes.Add({}, static_cast<double>(written.writes));
  store_syncs.Add({}, static_cast<double>(written.syncs));

  std::vector<MetricFamily> out;
  for (ScrapedFamily* f :
       {&agents, &tasks, &ended, &expiries, &throttled, &predictor, &jobs, &done, &total,
        &iterations, &evaluations, &cache_hits, &store_writes, &store_syncs}) {
    out.push_back(f->Take());
  }
  return out;
}

// Reports the RPC's status code and duration when the status is sent.
class RpcMetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  RpcMetricsInterceptor(ServerMetrics* metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), start_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      metrics_->ObserveRpc(method_, static_cast<int>(methods->GetSendStatus().error_code()),
                           seconds);
    }
    methods->Proceed();
  }

 private:
  ServerMetrics* metrics_;
  std::string method_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

ServerMetrics::ServerMetrics(std::string db_dir)
    : db_dir_(std::move(db_dir)), registry_(std::make_shared<prometheus::Registry>()) {
  rpcs_ = &prometheus::BuildCounter()
               .Name("hat_rpcs_total")
               .Help("gRPC calls handled, by method and status code")
               .Register(*registry_);
  rpc_seconds_ = &prometheus::BuildHistogram()
                      .Name("hat_rpc_duration_seconds")
                      .Help("gRPC call duration by method (long polls included)")
                      .Register(*registry_);
  measurement_seconds_ = &prometheus::BuildHistogram()
                              .Name("hat_measurement_duration_seconds")
                              .Help(
                                  "Wall time of a stored measurement on its agent, by device "
                                  "class")
                              .Register(*registry_);
}

ServerMetrics::~ServerMetrics() = default;

void ServerMetrics::ObserveRpc(const std::string& method, int status_code, double seconds) {
  const std::string code(absl::StatusCodeToString(static_cast<absl::StatusCode>(status_code)));
  rpcs_->Add({{"method", method}, {"code", code}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
  rpc_seconds_->Add({{"method", method}}, kBuckets).Observe(seconds);
}

void ServerMetrics::ObserveMeasurement(const std::string& device_class,
                                       const v1::MeasurementResult& result) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.1, 0.25, 0.5, 1,  2,  5,
                                                                   10,  20,   30,  60, 120};
  const double seconds = Seconds(result.finished_at()) - Seconds(result.started_at());
  measurement_seconds_->Add({{"device_class", device_class}}, kBuckets)
      .Observe(seconds > 0 ? seconds : 0);
}

std::string ServerMetrics::Scrape() const {
  std::vector<MetricFamily> families = registry_->Collect();
  if (coordinator_ != nullptr) {
    for (MetricFamily& f : FleetFamilies(*coordinator_)) families.push_back(std::move(f));
  }
  if (!db_dir_.empty()) {
    ScrapedFamily size("hat_store_size_bytes", "Bytes of the RocksDB store on disk",
                       MetricType::Gauge);
    size.Add({}, DirectoryBytes(db_dir_));
    families.push_back(size.Take());
  }
  return prometheus::TextSerializer().Serialize(families);
}

grpc::experimental::Interceptor* RpcMetricsInterceptorFactory::CreateServerInterceptor(
    grpc::experimental::ServerRpcInfo* info) {
  return new RpcMetricsInterceptor(metrics_, info->method());
}

}  // namespace hat
