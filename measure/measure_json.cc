// JSON forms of measurements.
#include "measure/measure_json.h"

#include <nlohmann/json.hpp>

namespace hat {

nlohmann::json LatencyStatsToJson(const LatencyStats& s) {
  return {{"mean_ms", s.mean_ms},
          {"std_ms", s.std_ms},
          {"median_ms", s.median_ms},
          {"p25_ms", s.p25_ms},
          {"p75_ms", s.p75_ms},
          {"iqr_ms", s.p75_ms - s.p25_ms},
          {"min_ms", s.min_ms},
          {"max_ms", s.max_ms},
          {"trimmed_mean_ms", s.trimmed_mean_ms},
          {"trimmed_std_ms", s.trimmed_std_ms},
          {"median_rse", s.median_rse},
          {"samples", s.samples},
          {"raw_ms", s.raw_ms}};
}

nlohmann::json ProtocolToJson(const MeasurementProtocol& p) {
  return {{"name", p.Name()},
          {"source_tokens", p.source_tokens},
          {"decoder_steps", p.decoder_steps},
          {"beam", p.beam},
          {"warmup_runs", p.warmup_runs},
          {"min_runs", p.min_runs},
          {"max_runs", p.max_runs},
          {"target_rse", p.target_rse},
          {"time_budget_s", p.time_budget_s},
          {"min_time_s", p.min_time_s},
          {"cooldown_s", p.cooldown_s},
          {"threads", p.threads},
          {"pin_cpus", p.pin_cpus},
          {"reference_runs", p.reference_runs},
          {"statistic", p.preset == MeasurementProtocol::Preset::kHat ? "trimmed_mean" : "median"}};
}

nlohmann::json MeasurementToJson(const ConfigMeasurement& m, const MeasurementProtocol& p) {
  const bool hat = p.preset == MeasurementProtocol::Preset::kHat;
  return {{"encoder_ms", hat ? m.encoder.trimmed_mean_ms : m.encoder.median_ms},
          {"decoder_ms", hat ? m.decoder.trimmed_mean_ms : m.decoder.median_ms},
          {"total_ms", m.total_ms},
          {"runs", m.runs},
          {"stop_reason", m.stop_reason},
          {"timing", TimingMethodName(m.timing)},
          {"wall_seconds", m.wall_seconds},
          {"encoder", LatencyStatsToJson(m.encoder)},
          {"decoder", LatencyStatsToJson(m.decoder)},
          {"total", LatencyStatsToJson(m.total)},
          {"drift_factor", m.drift_factor},
          {"reference_ms", m.reference_ms},
          {"reference_baseline_ms", m.reference_baseline_ms}};
}

}  // namespace hat
