// A sysfs tree in a temporary directory, shaped like a Raspberry Pi 4's or an Intel host's, for
// DeviceConditionProbe and for hat-agent --sysfs-root. Values are written as the kernel does
// (one line, millidegrees, kHz, hex without 0x for get_throttled).
#ifndef HATFLEET_TESTS_SUPPORT_FAKE_SYSFS_H_
#define HATFLEET_TESTS_SUPPORT_FAKE_SYSFS_H_

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_format.h"

namespace hat::testing {

class FakeSysfs {
 public:
  explicit FakeSysfs(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }

  void Write(const std::string& relative, const std::string& value) const {
    const std::filesystem::path path = std::filesystem::path(root_) / relative;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::trunc) << value << "\n";
  }

  void SetTemperature(int zone, double celsius) const {
    Write(absl::StrFormat("class/thermal/thermal_zone%d/temp", zone),
          absl::StrFormat("%d", static_cast<int64_t>(celsius * 1000)));
  }
  void SetCpu(int cpu, int64_t cur_khz, int64_t max_khz, const std::string& governor) const {
    const std::string dir = absl::StrFormat("devices/system/cpu/cpu%d/cpufreq/", cpu);
    Write(dir + "scaling_cur_freq", absl::StrFormat("%d", cur_khz));
    Write(dir + "cpuinfo_max_freq", absl::StrFormat("%d", max_khz));
    Write(dir + "scaling_governor", governor);
  }
  // Raspberry Pi 4's firmware file.
  void SetFirmwareThrottled(uint32_t bits) const {
    Write("devices/platform/soc/soc:firmware/get_throttled", absl::StrFormat("%x", bits));
  }
  void SetThrottleCount(int cpu, int64_t count) const {
    Write(absl::StrFormat("devices/system/cpu/cpu%d/thermal_throttle/core_throttle_count", cpu),
          absl::StrFormat("%d", count));
  }
  void SetCooling(int device, const std::string& type, int state, int max_state) const {
    const std::string dir = absl::StrFormat("class/thermal/cooling_device%d/", device);
    Write(dir + "type", type);
    Write(dir + "cur_state", absl::StrFormat("%d", state));
    Write(dir + "max_state", absl::StrFormat("%d", max_state));
  }

 private:
  std::string root_;
};

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_SUPPORT_FAKE_SYSFS_H_
