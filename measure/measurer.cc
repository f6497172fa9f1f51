// The measurement loop; see measurer.h.
#include "measure/measurer.h"

#include <algorithm>

#include "common/prng.h"
#include "common/status_macros.h"

namespace hat {

namespace {

// One run of a workload: encoder then decoder, the total in ms.
absl::StatusOr<double> TimeOnce(TimedWorkload& w) {
  HAT_ASSIGN_OR_RETURN(const double enc, w.TimeEncoderMs());
  HAT_ASSIGN_OR_RETURN(const double dec, w.TimeDecoderMs());
  return enc + dec;
}

// Appends `runs` timed totals of the reference (after one untimed run, which brings its weights
// back into cache after the config's).
absl::Status TimeReference(TimedWorkload& reference, int runs, std::vector<double>& out) {
  HAT_RETURN_IF_ERROR(TimeOnce(reference).status());
  for (int i = 0; i < runs; ++i) {
    HAT_ASSIGN_OR_RETURN(const double ms, TimeOnce(reference));
    out.push_back(ms);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<double> CalibrateReference(TimedWorkload& reference, int warmups, int runs) {
  if (runs < 1) return absl::InvalidArgumentError("reference calibration needs at least 1 run");
  for (int i = 0; i < warmups; ++i) HAT_RETURN_IF_ERROR(TimeOnce(reference).status());
  std::vector<double> samples;
  HAT_RETURN_IF_ERROR(TimeReference(reference, runs, samples));
  return ComputeLatencyStats(samples).median_ms;
}

const char* TimingMethodName(TimingMethod method) {
  switch (method) {
    case TimingMethod::kWallClock:
      return "wall_clock";
    case TimingMethod::kSynchronizedWallClock:
      return "synchronized_wall_clock";
    case TimingMethod::kCudaEvents:
      return "cuda_events";
  }
  return "unknown";
}

absl::StatusOr<ConfigMeasurement> MeasureWorkload(TimedWorkload& workload,
                                                  const MeasurementProtocol& protocol, Clock* clock,
                                                  const DriftReference* reference) {
  const double start = clock->NowSeconds();
  const bool correct_drift = reference != nullptr && reference->workload != nullptr &&
                             reference->baseline_ms > 0 && protocol.reference_runs > 0;
  std::vector<double> reference_samples;
  if (correct_drift) {
    HAT_RETURN_IF_ERROR(
        TimeReference(*reference->workload, protocol.reference_runs, reference_samples));
  }
  for (int i = 0; i < protocol.warmup_runs; ++i) {
    HAT_RETURN_IF_ERROR(workload.TimeEncoderMs().status());
    HAT_RETURN_IF_ERROR(workload.TimeDecoderMs().status());
  }
  const bool adaptive = protocol.preset == MeasurementProtocol::Preset::kAdaptive;
  // The time budget counts the timed runs only: warm-ups of a slow model must not eat it.
  const double timed_start = clock->NowSeconds();
  std::vector<double> encoder, decoder, total;
  std::string stop_reason;
  while (true) {
    HAT_ASSIGN_OR_RETURN(const double enc, workload.TimeEncoderMs());
    HAT_ASSIGN_OR_RETURN(const double dec, workload.TimeDecoderMs());
    encoder.push_back(enc);
    decoder.push_back(dec);
    total.push_back(enc + dec);
    const int runs = static_cast<int>(total.size());
    if (!adaptive) {
      if (runs >= protocol.min_runs) {
        stop_reason = "fixed_runs";
        break;
      }
      continue;
    }
    if (runs < protocol.min_runs) continue;
    const double timed_s = clock->NowSeconds() - timed_start;
    if (timed_s >= protocol.min_time_s &&
        ComputeLatencyStats(total).median_rse <= protocol.target_rse) {
      stop_reason = "converged";
      break;
    }
    if (runs >= protocol.max_runs) {
      stop_reason = "max_runs";
      break;
    }
    if (protocol.time_budget_s > 0 && timed_s >= protocol.time_budget_s) {
      stop_reason = "time_budget";
      break;
    }
  }
  ConfigMeasurement m;
  if (correct_drift) {
    HAT_RETURN_IF_ERROR(
        TimeReference(*reference->workload, protocol.reference_runs, reference_samples));
    m.reference_ms = ComputeLatencyStats(reference_samples).median_ms;
    m.reference_baseline_ms = reference->baseline_ms;
    m.drift_factor = m.reference_ms > 0 ? reference->baseline_ms / m.reference_ms : 1.0;
    for (std::vector<double>* v : {&encoder, &decoder, &total}) {
      for (double& x : *v) x *= m.drift_factor;
    }
  }
  m.encoder = ComputeLatencyStats(encoder);
  m.decoder = ComputeLatencyStats(decoder);
  m.total = ComputeLatencyStats(total);
  m.runs = static_cast<int>(total.size());
  m.stop_reason = stop_reason;
  m.timing = workload.timing_method();
  m.total_ms = adaptive ? m.total.median_ms : m.encoder.trimmed_mean_ms + m.decoder.trimmed_mean_ms;
  m.started_at_s = start;
  m.wall_seconds = clock->NowSeconds() - start;
  return m;
}

std::vector<std::pair<int, int>> InterleavedSchedule(int configs, int repeats, uint64_t seed) {
  Prng prng(seed);
  std::vector<std::pair<int, int>> order;
  std::vector<int> round(configs > 0 ? configs : 0);
  for (int r = 0; r < repeats; ++r) {
    for (int i = 0; i < configs; ++i) round[i] = i;
    prng.Shuffle(round);
    for (int c : round) order.emplace_back(c, r);
  }
  return order;
}

}  // namespace hat
