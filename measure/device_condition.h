// DeviceCondition: the device's temperature, CPU frequency and throttling around one
// measurement, read from Linux's /sys before and after the timed runs.
//
// A Raspberry Pi without a heatsink throttles within a minute of full load, and its latencies
// then grow by half or more: a predictor trained on such samples learns the heat, not the
// model. Throttling is told by signals the kernel or firmware give, never by guessing from the
// frequency alone (governors lower it on idle cores, turbo raises it):
//   - the Raspberry Pi firmware's get_throttled bits (under-voltage, frequency capped,
//     throttled, soft temperature limit), now or newly "has occurred" during the measurement;
//   - Intel's thermal_throttle counters rising during the measurement;
//   - a CPU cooling device (cpufreq, ACPI "Processor", intel_powerclamp) at a non-zero state.
// Every file is optional: hosts that have none (most VMs) report what they have.
#ifndef HATFLEET_MEASURE_DEVICE_CONDITION_H_
#define HATFLEET_MEASURE_DEVICE_CONDITION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hat {

// What /sys says at one moment.
struct DeviceSnapshot {
  std::optional<double> temperature_c;          // the hottest thermal zone
  std::optional<int64_t> min_cpu_freq_khz;      // the lowest current frequency over online CPUs
  std::optional<int64_t> max_cpu_freq_khz;      // the highest cpuinfo_max_freq over them
  std::string governor;                         // cpu0's scaling governor
  std::optional<uint32_t> firmware_throttled;   // Raspberry Pi get_throttled
  std::optional<int64_t> throttle_events;       // sum of the thermal_throttle counters
  std::vector<std::string> active_cpu_cooling;  // "cpufreq-cpu0 at 2 of 4"
};

// The condition of one measurement, from the snapshots taken before and after it.
struct DeviceCondition {
  std::optional<double> temperature_c_before;
  std::optional<double> temperature_c_after;
  std::optional<int64_t> cpu_freq_khz_before;  // DeviceSnapshot::min_cpu_freq_khz
  std::optional<int64_t> cpu_freq_khz_after;
  std::optional<int64_t> max_cpu_freq_khz;
  std::string governor;
  uint32_t firmware_throttled = 0;  // the bits after the measurement (0: none or no firmware)
  bool throttled = false;
  std::vector<std::string> throttle_reasons;  // why `throttled`, one line each
};

// Reads snapshots from a sysfs tree: "/sys" on a device, a container's mount of the host's
// /sys, or a directory a test builds.
class DeviceConditionProbe {
 public:
  explicit DeviceConditionProbe(std::string sys_root = "/sys");

  DeviceSnapshot Read() const;

  // The condition of a measurement that ran between `before` and `after`.
  static DeviceCondition Compare(const DeviceSnapshot& before, const DeviceSnapshot& after);

  const std::string& sys_root() const { return sys_root_; }

 private:
  std::string sys_root_;
};

// The Raspberry Pi firmware's get_throttled bits, as `vcgencmd get_throttled` names them.
inline constexpr uint32_t kFirmwareUnderVoltage = 1u << 0;
inline constexpr uint32_t kFirmwareFrequencyCapped = 1u << 1;
inline constexpr uint32_t kFirmwareThrottled = 1u << 2;
inline constexpr uint32_t kFirmwareSoftTemperatureLimit = 1u << 3;
// The same four conditions, "has occurred since boot" (sticky).
inline constexpr int kFirmwareOccurredShift = 16;

}  // namespace hat

#endif  // HATFLEET_MEASURE_DEVICE_CONDITION_H_
