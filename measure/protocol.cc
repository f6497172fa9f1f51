// Measurement protocol presets and validation.
#include "measure/protocol.h"

#include "absl/strings/str_cat.h"

namespace hat {

MeasurementProtocol MeasurementProtocol::Hat() {
  MeasurementProtocol p;
  p.preset = Preset::kHat;
  p.warmup_runs = 5;
  p.min_runs = 20;
  p.max_runs = 20;
  p.target_rse = 0;
  p.time_budget_s = 0;  // no budget: HAT always runs all its iterations
  p.min_time_s = 0;
  p.cooldown_s = 0;
  return p;
}

MeasurementProtocol MeasurementProtocol::Default() { return MeasurementProtocol(); }

absl::StatusOr<MeasurementProtocol> MeasurementProtocol::FromName(absl::string_view name) {
  if (name == "hat") return Hat();
  if (name == "default") return Default();
  return absl::InvalidArgumentError(
      absl::StrCat("protocol '", name, "' is unknown (expected 'hat' or 'default')"));
}

std::string MeasurementProtocol::Name() const { return preset == Preset::kHat ? "hat" : "default"; }

absl::Status MeasurementProtocol::Validate() const {
  auto range = [](const char* field, double value, double lo, double hi) -> absl::Status {
    if (value >= lo && value <= hi) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("protocol.", field, "=", value, ": must be in [", lo, ", ", hi, "]"));
  };
  for (const absl::Status& s : {
           range("source_tokens", source_tokens, 1, 1024),
           range("decoder_steps", decoder_steps, 1, 1024),
           range("beam", beam, 1, 64),
           range("warmup_runs", warmup_runs, 0, 1000),
           range("min_runs", min_runs, 1, 100000),
           range("max_runs", max_runs, min_runs, 100000),
           range("target_rse", target_rse, 0, 1),
           range("time_budget_s", time_budget_s, 0, 86400),
           range("min_time_s", min_time_s, 0, time_budget_s > 0 ? time_budget_s : 86400),
           range("cooldown_s", cooldown_s, 0, 3600),
           range("threads", threads, 1, 1024),
           range("reference_runs", reference_runs, 0, 100),
       }) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace hat
