// measure/ <-> hat.v1 conversions.
#include "measure/measure_proto.h"

namespace hat {

void ToProto(const MeasurementProtocol& p, v1::MeasurementProtocol* out) {
  out->set_preset(p.preset == MeasurementProtocol::Preset::kHat ? v1::PROTOCOL_PRESET_HAT
                                                                : v1::PROTOCOL_PRESET_ADAPTIVE);
  out->set_source_tokens(p.source_tokens);
  out->set_decoder_steps(p.decoder_steps);
  out->set_beam(p.beam);
  out->set_warmup_runs(p.warmup_runs);
  out->set_min_runs(p.min_runs);
  out->set_max_runs(p.max_runs);
  out->set_target_rse(p.target_rse);
  out->set_time_budget_s(p.time_budget_s);
  out->set_cooldown_s(p.cooldown_s);
  out->set_threads(p.threads);
  out->set_pin_cpus(p.pin_cpus);
  out->set_reference_runs(p.reference_runs);
  out->set_min_time_s(p.min_time_s);
}

absl::StatusOr<MeasurementProtocol> FromProto(const v1::MeasurementProtocol& proto) {
  if (proto.ByteSizeLong() == 0) return MeasurementProtocol::Default();
  MeasurementProtocol p = proto.preset() == v1::PROTOCOL_PRESET_HAT
                              ? MeasurementProtocol::Hat()
                              : MeasurementProtocol::Default();
  // Zero fields keep the preset's value: a client sets only what it changes.
  if (proto.source_tokens()) p.source_tokens = proto.source_tokens();
  if (proto.decoder_steps()) p.decoder_steps = proto.decoder_steps();
  if (proto.beam()) p.beam = proto.beam();
  if (proto.warmup_runs()) p.warmup_runs = proto.warmup_runs();
  if (proto.min_runs()) p.min_runs = proto.min_runs();
  if (proto.max_runs()) p.max_runs = proto.max_runs();
  if (proto.target_rse() != 0) p.target_rse = proto.target_rse();
  if (proto.time_budget_s() != 0) p.time_budget_s = proto.time_budget_s();
  if (proto.cooldown_s() != 0) p.cooldown_s = proto.cooldown_s();
  if (proto.min_time_s() != 0) p.min_time_s = proto.min_time_s();
  if (proto.threads()) p.threads = proto.threads();
  p.pin_cpus = proto.pin_cpus();
  if (proto.reference_runs() == -1) p.reference_runs = 0;
  if (proto.reference_runs() > 0) p.reference_runs = proto.reference_runs();
  if (p.preset == MeasurementProtocol::Preset::kHat && proto.min_runs() && !proto.max_runs()) {
    p.max_runs = p.min_runs;  // HAT runs a fixed count
  }
  absl::Status valid = p.Validate();
  if (!valid.ok()) return valid;
  return p;
}

void ToProto(const LatencyStats& s, v1::LatencyStats* out) {
  out->set_mean_ms(s.mean_ms);
  out->set_std_ms(s.std_ms);
  out->set_median_ms(s.median_ms);
  out->set_p25_ms(s.p25_ms);
  out->set_p75_ms(s.p75_ms);
  out->set_min_ms(s.min_ms);
  out->set_max_ms(s.max_ms);
  out->set_trimmed_mean_ms(s.trimmed_mean_ms);
  out->set_trimmed_std_ms(s.trimmed_std_ms);
  out->set_median_rse(s.median_rse);
  out->set_samples(s.samples);
  for (double v : s.raw_ms) out->add_raw_ms(v);
}

void ToProto(const HardwareInfo& hw, v1::Hardware* out) {
  out->set_device_kind(hw.device == "cuda" ? v1::DEVICE_KIND_CUDA : v1::DEVICE_KIND_CPU);
  out->set_cpu_model(hw.cpu_model);
  out->set_cpu_arch(hw.cpu_arch);
  out->set_cpu_cores(hw.cpu_cores);
  out->set_memory_bytes(hw.memory_bytes);
  out->set_accelerator(hw.accelerator);
  out->set_accelerator_driver(hw.accelerator_driver);
  out->set_libtorch_version(hw.libtorch_version);
  out->set_blas(hw.blas);
  out->set_threads(hw.threads);
  out->set_os(hw.os);
  out->set_emulated(hw.emulated);
}

void ToProto(const DeviceCondition& condition, v1::DeviceCondition* out) {
  out->set_has_temperature(condition.temperature_c_before && condition.temperature_c_after);
  out->set_temperature_c_before(condition.temperature_c_before.value_or(0));
  out->set_temperature_c_after(condition.temperature_c_after.value_or(0));
  out->set_has_frequency(condition.cpu_freq_khz_before && condition.cpu_freq_khz_after);
  out->set_cpu_freq_khz_before(condition.cpu_freq_khz_before.value_or(0));
  out->set_cpu_freq_khz_after(condition.cpu_freq_khz_after.value_or(0));
  out->set_max_cpu_freq_khz(condition.max_cpu_freq_khz.value_or(0));
  out->set_governor(condition.governor);
  out->set_firmware_throttled(condition.firmware_throttled);
  out->set_throttled(condition.throttled);
  for (const std::string& reason : condition.throttle_reasons) out->add_throttle_reasons(reason);
}

double ReportedLatencyMs(const v1::LatencyStats& stats, v1::ProtocolPreset preset) {
  return preset == v1::PROTOCOL_PRESET_HAT ? stats.trimmed_mean_ms() : stats.median_ms();
}

v1::TimingMethod ToProto(TimingMethod method) {
  switch (method) {
    case TimingMethod::kWallClock:
      return v1::TIMING_METHOD_WALL_CLOCK;
    case TimingMethod::kSynchronizedWallClock:
      return v1::TIMING_METHOD_SYNCHRONIZED_WALL_CLOCK;
    case TimingMethod::kCudaEvents:
      return v1::TIMING_METHOD_CUDA_EVENTS;
  }
  return v1::TIMING_METHOD_UNSPECIFIED;
}

}  // namespace hat
