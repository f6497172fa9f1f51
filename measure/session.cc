// Measurement sessions; see session.h.
#include "measure/session.h"

#include <list>
#include <map>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace hat {

absl::StatusOr<std::vector<std::vector<ConfigMeasurement>>> RunMeasurementSession(
    int num_configs, const WorkloadBuilder& build, const SessionOptions& options,
    const ProgressCallback& on_progress, Clock* clock) {
  HAT_RETURN_IF_ERROR(options.protocol.Validate());
  if (num_configs < 1 || options.repeats < 1 || options.max_live_workloads < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "measurement session: configs=", num_configs, ", repeats=", options.repeats,
        ", max_live_workloads=", options.max_live_workloads, ": each must be at least 1"));
  }
  std::vector<std::vector<ConfigMeasurement>> results(num_configs);
  std::map<int, std::unique_ptr<TimedWorkload>> live;
  std::list<int> recency;  // front = most recently used
  std::unique_ptr<TimedWorkload> reference_workload;
  DriftReference reference;
  if (options.reference_builder && options.protocol.reference_runs > 0) {
    HAT_ASSIGN_OR_RETURN(reference_workload, options.reference_builder());
    reference.workload = reference_workload.get();
    absl::StatusOr<double> baseline =
        CalibrateReference(*reference_workload, options.protocol.warmup_runs, 10);
    if (!baseline.ok()) return Annotate(baseline.status(), "drift reference");
    reference.baseline_ms = *baseline;
  }
  const auto schedule = InterleavedSchedule(num_configs, options.repeats, options.seed);
  const double start = clock->NowSeconds();
  int done = 0;
  for (const auto& [config, repeat] : schedule) {
    auto it = live.find(config);
    if (it == live.end()) {
      if (static_cast<int>(live.size()) >= options.max_live_workloads) {
        live.erase(recency.back());
        recency.pop_back();
      }
      absl::StatusOr<std::unique_ptr<TimedWorkload>> workload = build(config);
      if (!workload.ok()) return Annotate(workload.status(), absl::StrCat("config ", config));
      it = live.emplace(config, *std::move(workload)).first;
    } else {
      recency.remove(config);
    }
    recency.push_front(config);
    if (done > 0) clock->SleepSeconds(options.protocol.cooldown_s);
    absl::StatusOr<ConfigMeasurement> m = MeasureWorkload(
        *it->second, options.protocol, clock, reference.workload ? &reference : nullptr);
    if (!m.ok()) {
      return Annotate(m.status(), absl::StrCat("config ", config, " repeat ", repeat));
    }
    results[config].push_back(*m);
    ++done;
    if (on_progress) {
      SessionProgress p;
      p.done = done;
      p.total = static_cast<int>(schedule.size());
      p.elapsed_s = clock->NowSeconds() - start;
      p.rate_per_s = p.elapsed_s > 0 ? done / p.elapsed_s : 0;
      p.eta_s = p.rate_per_s > 0 ? (p.total - done) / p.rate_per_s : 0;
      on_progress(p, config, results[config].back());
    }
  }
  return results;
}

}  // namespace hat
