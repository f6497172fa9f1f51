// Reading temperature, frequency and throttling from sysfs; see device_condition.h.
#include "measure/device_condition.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"

namespace hat {
namespace {

namespace fs = std::filesystem;

// The first line of a sysfs file, trimmed; nullopt when it cannot be read.
std::optional<std::string> ReadLine(const fs::path& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return std::nullopt;
  return std::string(absl::StripAsciiWhitespace(line));
}

std::optional<int64_t> ReadInt(const fs::path& path) {
  std::optional<std::string> line = ReadLine(path);
  int64_t value = 0;
  if (!line || !absl::SimpleAtoi(*line, &value)) return std::nullopt;
  return value;
}

// Entries of `dir` whose names are `prefix` followed by digits ("cpu0", "thermal_zone3"), in
// name order; none when the directory is missing.
std::vector<fs::path> NumberedEntries(const fs::path& dir, absl::string_view prefix) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    absl::string_view rest = name;
    int unused = 0;
    if (absl::ConsumePrefix(&rest, prefix) && !rest.empty() && absl::SimpleAtoi(rest, &unused)) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The firmware's get_throttled file: /sys/devices/platform/soc/soc:firmware/get_throttled on
// the Raspberry Pi 3 and 4; the Pi 5 names its bus differently, so search two levels down.
std::optional<fs::path> FindFirmwareThrottled(const fs::path& platform) {
  std::error_code ec;
  for (fs::directory_iterator bus(platform, ec), end; !ec && bus != end; bus.increment(ec)) {
    if (fs::exists(bus->path() / "get_throttled", ec)) return bus->path() / "get_throttled";
    std::error_code inner_ec;
    for (fs::directory_iterator dev(bus->path(), inner_ec); !inner_ec && dev != end;
         dev.increment(inner_ec)) {
      if (absl::EndsWith(dev->path().filename().string(), "firmware") &&
          fs::exists(dev->path() / "get_throttled", inner_ec)) {
        return dev->path() / "get_throttled";
      }
    }
  }
  return std::nullopt;
}

bool IsCpuCoolingDevice(absl::string_view type) {
  return absl::StartsWith(type, "cpufreq") || absl::StartsWith(type, "thermal-cpufreq") ||
         type == "Processor" || type == "intel_powerclamp";
}

std::string FirmwareBitNames(uint32_t bits) {
  std::vector<std::string> names;
  if (bits & kFirmwareUnderVoltage) names.push_back("under-voltage");
  if (bits & kFirmwareFrequencyCapped) names.push_back("arm frequency capped");
  if (bits & kFirmwareThrottled) names.push_back("throttled");
  if (bits & kFirmwareSoftTemperatureLimit) names.push_back("soft temperature limit");
  return absl::StrJoin(names, ", ");
}

}  // namespace

DeviceConditionProbe::DeviceConditionProbe(std::string sys_root) : sys_root_(std::move(sys_root)) {}

DeviceSnapshot DeviceConditionProbe::Read() const {
  const fs::path root(sys_root_);
  DeviceSnapshot s;
  for (const fs::path& zone : NumberedEntries(root / "class/thermal", "thermal_zone")) {
    // Millidegrees Celsius; zones that are not wired up report nonsense below absolute zero.
    std::optional<int64_t> milli = ReadInt(zone / "temp");
    if (!milli || *milli <= -273000) continue;
    const double celsius = *milli / 1000.0;
    if (!s.temperature_c || celsius > *s.temperature_c) s.temperature_c = celsius;
  }
  const fs::path cpus = root / "devices/system/cpu";
  for (const fs::path& cpu : NumberedEntries(cpus, "cpu")) {
    if (std::optional<int64_t> online = ReadInt(cpu / "online"); online && *online == 0) continue;
    if (std::optional<int64_t> cur = ReadInt(cpu / "cpufreq/scaling_cur_freq")) {
      if (!s.min_cpu_freq_khz || *cur < *s.min_cpu_freq_khz) s.min_cpu_freq_khz = *cur;
    }
    if (std::optional<int64_t> max = ReadInt(cpu / "cpufreq/cpuinfo_max_freq")) {
      if (!s.max_cpu_freq_khz || *max > *s.max_cpu_freq_khz) s.max_cpu_freq_khz = *max;
    }
    if (s.governor.empty()) s.governor = ReadLine(cpu / "cpufreq/scaling_governor").value_or("");
    for (const char* counter :
         {"thermal_throttle/core_throttle_count", "thermal_throttle/package_throttle_count"}) {
      if (std::optional<int64_t> n = ReadInt(cpu / counter)) {
        s.throttle_events = s.throttle_events.value_or(0) + *n;
      }
    }
  }
  if (std::optional<fs::path> file = FindFirmwareThrottled(root / "devices/platform")) {
    std::optional<std::string> text = ReadLine(*file);
    uint32_t bits = 0;
    if (text) {
      absl::string_view hex = *text;
      absl::ConsumePrefix(&hex, "0x");
      if (absl::SimpleHexAtoi(hex, &bits)) s.firmware_throttled = bits;
    }
  }
  for (const fs::path& device : NumberedEntries(root / "class/thermal", "cooling_device")) {
    const std::string type = ReadLine(device / "type").value_or("");
    if (!IsCpuCoolingDevice(type)) continue;
    std::optional<int64_t> state = ReadInt(device / "cur_state");
    if (!state || *state <= 0) continue;
    s.active_cpu_cooling.push_back(
        absl::StrCat(type, " at ", *state, " of ", ReadInt(device / "max_state").value_or(0)));
  }
  return s;
}

DeviceCondition DeviceConditionProbe::Compare(const DeviceSnapshot& before,
                                              const DeviceSnapshot& after) {
  DeviceCondition c;
  c.temperature_c_before = before.temperature_c;
  c.temperature_c_after = after.temperature_c;
  c.cpu_freq_khz_before = before.min_cpu_freq_khz;
  c.cpu_freq_khz_after = after.min_cpu_freq_khz;
  c.max_cpu_freq_khz = after.max_cpu_freq_khz ? after.max_cpu_freq_khz : before.max_cpu_freq_khz;
  c.governor = after.governor.empty() ? before.governor : after.governor;
  c.firmware_throttled = after.firmware_throttled.value_or(0);

  const uint32_t now_mask = kFirmwareUnderVoltage | kFirmwareFrequencyCapped | kFirmwareThrottled |
                            kFirmwareSoftTemperatureLimit;
  const uint32_t now = (before.firmware_throttled.value_or(0) | c.firmware_throttled) & now_mask;
  if (now != 0) {
    c.throttle_reasons.push_back(absl::StrFormat("Raspberry Pi firmware: %s (get_throttled=0x%x)",
                                                 FirmwareBitNames(now), c.firmware_throttled));
  }
  // Sticky bits set during the measurement: it happened between the two snapshots.
  const uint32_t occurred =
      ((c.firmware_throttled & ~before.firmware_throttled.value_or(0)) >> kFirmwareOccurredShift) &
      now_mask;
  if (before.firmware_throttled && occurred != 0) {
    c.throttle_reasons.push_back(absl::StrFormat(
        "Raspberry Pi firmware: %s occurred during the measurement (get_throttled=0x%x)",
        FirmwareBitNames(occurred), c.firmware_throttled));
  }
  if (before.throttle_events && after.throttle_events &&
      *after.throttle_events > *before.throttle_events) {
    c.throttle_reasons.push_back(absl::StrCat("CPU thermal throttle counters rose by ",
                                              *after.throttle_events - *before.throttle_events,
                                              " during the measurement"));
  }
  for (const DeviceSnapshot* s : {&before, &after}) {
    for (const std::string& cooling : s->active_cpu_cooling) {
      const std::string reason = absl::StrCat(
          "cooling device ", cooling, s == &before ? " before" : " after", " the measurement");
      c.throttle_reasons.push_back(reason);
    }
  }
  c.throttled = !c.throttle_reasons.empty();
  return c;
}

}  // namespace hat
