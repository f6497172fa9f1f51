// Read-only views of the coordinator for dashboards and metrics: a page of agents, the fleet
// summary, the latency distribution of a device class.
#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/median.h"
#include "common/status_macros.h"
#include "server/coordinator.h"
#include "server/coordinator_helpers.h"

namespace hat {

using coordinator_internal::CheckName;

namespace {
constexpr int kMaxAgentPage = 1000;
constexpr int kMaxHistogramBins = 200;
}  // namespace

absl::StatusOr<v1::ListAgentsResponse> Coordinator::ListAgents(const v1::ListAgentsRequest& req) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", req.device_class(), true));
  if (req.page_size() < 0 || req.page_size() > kMaxAgentPage) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size=", req.page_size(), ": must be in [0, ", kMaxAgentPage, "]"));
  }
  // The token is the last agent id of the previous page: pages stay consistent while agents
  // register (a new agent appears on a later page or not at all, never twice).
  if (!req.page_token().empty()) {
    HAT_RETURN_IF_ERROR(CheckName("page_token", req.page_token(), false));
  }
  absl::MutexLock lock(&mu_);
  v1::ListAgentsResponse resp;
  auto it = req.page_token().empty() ? agents_.begin() : agents_.upper_bound(req.page_token());
  for (; it != agents_.end(); ++it) {
    const v1::Agent& a = it->second.agent;
    if (!req.device_class().empty() && a.device_class() != req.device_class()) continue;
    if (req.page_size() > 0 && resp.agents_size() == req.page_size()) {
      resp.set_next_page_token(resp.agents(resp.agents_size() - 1).agent_id());
      break;
    }
    v1::Agent* listed = resp.add_agents();
    *listed = a;
    if (auto lease = leases_.find(it->second.lease_id); lease != leases_.end()) {
      listed->set_current_task(lease->second);
    }
  }
  return resp;
}

v1::FleetSummary Coordinator::Summary() {
  absl::MutexLock lock(&mu_);
  std::map<std::string, v1::DeviceClassSummary> classes;
  auto of = [&](const std::string& device_class) -> v1::DeviceClassSummary& {
    v1::DeviceClassSummary& c = classes[device_class];
    c.set_device_class(device_class);
    return c;
  };
  for (const auto& [id, entry] : agents_) {
    const v1::Agent& a = entry.agent;
    v1::DeviceClassSummary& c = of(a.device_class());
    switch (a.state()) {
      case v1::AGENT_STATE_IDLE:
        c.set_agents_idle(c.agents_idle() + 1);
        break;
      case v1::AGENT_STATE_MEASURING:
        c.set_agents_measuring(c.agents_measuring() + 1);
        break;
      case v1::AGENT_STATE_LOST:
        c.set_agents_lost(c.agents_lost() + 1);
        break;
      case v1::AGENT_STATE_LEFT:
        c.set_agents_left(c.agents_left() + 1);
        break;
      default:
        break;
    }
    c.set_measurements_done(c.measurements_done() + a.measurements_done());
    c.set_measurements_throttled(c.measurements_throttled() + a.measurements_throttled());
  }
  for (const auto& [device_class, queue] : queues_) {
    if (!queue.empty()) of(device_class).set_tasks_queued(static_cast<int64_t>(queue.size()));
  }
  for (const auto& [lease_id, key] : leases_) {
    v1::DeviceClassSummary& c = of(tasks_.at(key).device_class());
    c.set_tasks_leased(c.tasks_leased() + 1);
  }
  v1::FleetSummary summary;
  for (const auto& [id, entry] : jobs_) {
    const v1::Job& job = entry.job;
    if (job.spec().has_latency_dataset()) {
      v1::DeviceClassSummary& c = of(job.spec().latency_dataset().device_class());
      c.set_tasks_done(c.tasks_done() + entry.counts.done);
      c.set_tasks_failed(c.tasks_failed() + entry.counts.failed);
    }
    if (job.state() == v1::JOB_STATE_QUEUED) {
      summary.set_jobs_queued(summary.jobs_queued() + 1);
    } else if (job.state() == v1::JOB_STATE_RUNNING) {
      summary.set_jobs_running(summary.jobs_running() + 1);
    } else if (IsTerminal(job.state())) {
      summary.set_jobs_finished(summary.jobs_finished() + 1);
    }
  }
  for (const auto& [device_class, version] : latest_predictor_) {
    of(device_class).set_predictor_version(version);
  }
  int64_t expiries = 0;
  for (const auto& [device_class, n] : lease_expiries_) {
    of(device_class).set_lease_expiries(n);
    expiries += n;
  }
  summary.set_lease_expiries(expiries);
  for (auto& [name, c] : classes) *summary.add_classes() = std::move(c);
  return summary;
}

absl::StatusOr<v1::LatencyHistogram> Coordinator::LatencyDistribution(
    const std::string& device_class, int bins) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", device_class, false));
  if (bins < 1 || bins > kMaxHistogramBins) {
    return absl::InvalidArgumentError(
        absl::StrCat("bins=", bins, ": must be in [1, ", kMaxHistogramBins, "]"));
  }
  HAT_ASSIGN_OR_RETURN(std::vector<v1::MeasurementResult> rows, Measurements(device_class));
  std::vector<double> ms;
  for (const v1::MeasurementResult& r : rows) {
    if (r.error().empty() && std::isfinite(r.total_ms())) ms.push_back(r.total_ms());
  }
  v1::LatencyHistogram h;
  h.set_device_class(device_class);
  h.set_measurements(static_cast<int64_t>(ms.size()));
  if (ms.empty()) return h;
  const auto [lo, hi] = std::minmax_element(ms.begin(), ms.end());
  h.set_min_ms(*lo);
  h.set_max_ms(*hi);
  h.set_median_ms(Median(ms));
  const double width = *hi > *lo ? (*hi - *lo) / bins : 1.0;
  h.set_bin_width_ms(width);
  std::vector<int64_t> counts(static_cast<size_t>(bins), 0);
  for (double v : ms) {
    const int b = std::min(bins - 1, static_cast<int>((v - h.min_ms()) / width));
    ++counts[static_cast<size_t>(b)];
  }
  h.mutable_counts()->Assign(counts.begin(), counts.end());
  return h;
}

}  // namespace hat
