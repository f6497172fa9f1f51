// DeviceConditionProbe on sysfs trees shaped like a Raspberry Pi's, an Intel host's and a VM's.
#include "measure/device_condition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/fake_sysfs.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class DeviceConditionTest : public ::testing::Test {
 protected:
  hat::testing::TempDir dir_;
  hat::testing::FakeSysfs sys_{dir_.path()};
  DeviceConditionProbe probe_{dir_.path()};
};

TEST_F(DeviceConditionTest, AHostWithoutTheFilesReportsNothingAndIsNotThrottled) {
  const DeviceSnapshot s = probe_.Read();
  EXPECT_FALSE(s.temperature_c.has_value());
  EXPECT_FALSE(s.min_cpu_freq_khz.has_value());
  EXPECT_FALSE(s.firmware_throttled.has_value());
  const DeviceCondition c = DeviceConditionProbe::Compare(s, probe_.Read());
  EXPECT_FALSE(c.throttled);
  EXPECT_THAT(c.throttle_reasons, IsEmpty());

  DeviceConditionProbe missing(dir_.File("no-such-dir"));
  EXPECT_FALSE(missing.Read().temperature_c.has_value());
}

TEST_F(DeviceConditionTest, ReadsTheHottestZoneAndTheLowestFrequency) {
  sys_.SetTemperature(0, 48.5);
  sys_.SetTemperature(1, 61.25);
  sys_.Write("class/thermal/thermal_zone2/temp", "-274000");  // a zone not wired up
  sys_.SetCpu(0, 1500000, 1800000, "performance");
  sys_.SetCpu(1, 600000, 1800000, "performance");
  sys_.SetCpu(2, 1800000, 1800000, "performance");
  sys_.Write("devices/system/cpu/cpu2/online", "0");  // offline CPUs do not count
  sys_.SetCpu(3, 1200000, 2000000, "performance");
  const DeviceSnapshot s = probe_.Read();
  ASSERT_TRUE(s.temperature_c.has_value());
  EXPECT_DOUBLE_EQ(*s.temperature_c, 61.25);
  EXPECT_EQ(s.min_cpu_freq_khz, 600000);
  EXPECT_EQ(s.max_cpu_freq_khz, 2000000);
  EXPECT_EQ(s.governor, "performance");
}

TEST_F(DeviceConditionTest, RaspberryPiFirmwareBitsNowMarkTheMeasurementThrottled) {
  sys_.SetFirmwareThrottled(0);
  const DeviceSnapshot before = probe_.Read();
  ASSERT_EQ(before.firmware_throttled, 0u);
  EXPECT_FALSE(DeviceConditionProbe::Compare(before, probe_.Read()).throttled);

  sys_.SetFirmwareThrottled(kFirmwareFrequencyCapped | kFirmwareSoftTemperatureLimit);
  const DeviceCondition c = DeviceConditionProbe::Compare(before, probe_.Read());
  EXPECT_TRUE(c.throttled);
  EXPECT_EQ(c.firmware_throttled, 0xAu);
  ASSERT_EQ(c.throttle_reasons.size(), 1u);
  EXPECT_THAT(c.throttle_reasons[0], HasSubstr("arm frequency capped, soft temperature limit"));
  EXPECT_THAT(c.throttle_reasons[0], HasSubstr("get_throttled=0xa"));
}

TEST_F(DeviceConditionTest, StickyFirmwareBitsCountOnlyWhenSetDuringTheMeasurement) {
  // Throttled at boot, long before: the sticky bit alone does not flag this measurement.
  const uint32_t throttled_since_boot = kFirmwareThrottled << kFirmwareOccurredShift;
  sys_.SetFirmwareThrottled(throttled_since_boot);
  const DeviceSnapshot before = probe_.Read();
  EXPECT_FALSE(DeviceConditionProbe::Compare(before, probe_.Read()).throttled);

  // Under-voltage happened between the snapshots and is gone again.
  sys_.SetFirmwareThrottled(throttled_since_boot | kFirmwareUnderVoltage << kFirmwareOccurredShift);
  const DeviceCondition c = DeviceConditionProbe::Compare(before, probe_.Read());
  EXPECT_TRUE(c.throttled);
  ASSERT_EQ(c.throttle_reasons.size(), 1u);
  EXPECT_THAT(c.throttle_reasons[0], HasSubstr("under-voltage occurred during the measurement"));
}

TEST_F(DeviceConditionTest, RisingIntelThrottleCountersMarkTheMeasurement) {
  sys_.SetThrottleCount(0, 7);
  sys_.SetThrottleCount(1, 3);
  const DeviceSnapshot before = probe_.Read();
  EXPECT_EQ(before.throttle_events, 10);
  EXPECT_FALSE(DeviceConditionProbe::Compare(before, probe_.Read()).throttled);
  sys_.SetThrottleCount(1, 5);
  const DeviceCondition c = DeviceConditionProbe::Compare(before, probe_.Read());
  EXPECT_THAT(c.throttle_reasons,
              ElementsAre("CPU thermal throttle counters rose by 2 during the measurement"));
}

TEST_F(DeviceConditionTest, AnActiveCpuCoolingDeviceMarksTheMeasurement) {
  sys_.SetCooling(0, "Fan", 3, 5);  // a fan spinning is cooling, not throttling
  sys_.SetCooling(1, "cpufreq-cpu0", 0, 4);
  EXPECT_FALSE(DeviceConditionProbe::Compare(probe_.Read(), probe_.Read()).throttled);
  const DeviceSnapshot before = probe_.Read();
  sys_.SetCooling(1, "cpufreq-cpu0", 2, 4);
  const DeviceCondition c = DeviceConditionProbe::Compare(before, probe_.Read());
  EXPECT_THAT(c.throttle_reasons,
              ElementsAre("cooling device cpufreq-cpu0 at 2 of 4 after the measurement"));
}

TEST_F(DeviceConditionTest, UnreadableValuesAreSkippedNotMisread) {
  sys_.Write("class/thermal/thermal_zone0/temp", "hot");
  sys_.Write("devices/platform/soc/soc:firmware/get_throttled", "zz");
  sys_.Write("devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "");
  const DeviceSnapshot s = probe_.Read();
  EXPECT_FALSE(s.temperature_c.has_value());
  EXPECT_FALSE(s.firmware_throttled.has_value());
  EXPECT_FALSE(s.min_cpu_freq_khz.has_value());
}

}  // namespace
}  // namespace hat
