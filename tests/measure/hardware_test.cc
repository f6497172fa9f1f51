// Telling an emulated agent from a native one by what /proc/cpuinfo says.
#include "measure/hardware.h"

#include <gtest/gtest.h>

namespace hat {
namespace {

// Heads of real /proc/cpuinfo files.
constexpr char kXeon[] =
    "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\nmodel name\t: Intel(R) Xeon(R) "
    "Processor\nflags\t\t: fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat "
    "pse36 clflush mmx fxsr sse sse2 ss ht syscall nx\n";
constexpr char kEpyc[] = "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC\n";
constexpr char kRaspberryPi4[] =
    "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n"
    "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\n"
    "Hardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n";

TEST(LooksEmulatedTest, NativeProcessesAreNot) {
  EXPECT_FALSE(LooksEmulated("x86_64", kXeon));
  EXPECT_FALSE(LooksEmulated("x86_64", kEpyc));
  EXPECT_FALSE(LooksEmulated("aarch64", kRaspberryPi4));
  EXPECT_FALSE(LooksEmulated("aarch64", ""));  // no /proc: nothing says otherwise
}

TEST(LooksEmulatedTest, AProcessSeeingAnotherArchitecturesCpuIs) {
  EXPECT_TRUE(LooksEmulated("aarch64", kXeon));  // qemu-aarch64 on an x86 host
  EXPECT_TRUE(LooksEmulated("aarch64", kEpyc));
  EXPECT_TRUE(LooksEmulated("x86_64", kRaspberryPi4));  // qemu-x86_64 on a Pi
}

}  // namespace
}  // namespace hat
