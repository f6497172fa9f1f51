// HardwareInfo: what a measurement ran on, recorded with every result so numbers stay
// interpretable (mirrors hat.v1.Hardware). The host part is read from /proc and uname; the
// LibTorch part (version, BLAS, threads, accelerator) is filled in by the engine.
#ifndef HATFLEET_MEASURE_HARDWARE_H_
#define HATFLEET_MEASURE_HARDWARE_H_

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace hat {

struct HardwareInfo {
  std::string device;        // "cpu" or "cuda"
  std::string cpu_model;     // /proc/cpuinfo "model name" (or "Hardware"/"Model" on ARM)
  std::string cpu_arch;      // uname machine: x86_64, aarch64
  int cpu_cores = 0;         // logical cores online
  int64_t memory_bytes = 0;  // MemTotal
  std::string os;            // kernel release and distribution
  std::string libtorch_version;
  std::string blas;         // the BLAS library actually loaded in this process
  int threads = 0;          // intra-op threads used
  std::string accelerator;  // GPU name; empty on CPU
  std::string accelerator_driver;
  // True when this process runs under a user-mode emulator (qemu-user: an arm64 agent on an x86
  // host). Its latencies then describe the emulator, not the device.
  bool emulated = false;
};

// The host part: CPU model, architecture, cores, memory, OS, and the BLAS loaded in this process.
HardwareInfo DetectHostHardware();

// Whether a process whose uname machine is `machine` and that reads `cpuinfo` as /proc/cpuinfo
// runs emulated: qemu-user passes the host's /proc/cpuinfo through, so an arm64 process that
// sees an x86 CPU (vendor_id, or SSE flags), or an x86 process that sees an Arm one (CPU
// implementer), is not on the CPU it was built for.
bool LooksEmulated(const std::string& machine, const std::string& cpuinfo);

// The shared library providing BLAS in this process, from /proc/self/maps: e.g.
// "OpenBLAS (libopenblasp-r0.3.21.so)", "reference BLAS (libblas.so.3)", or "unknown".
std::string DetectLoadedBlas();

// True when `blas` (as DetectLoadedBlas returns it) is the slow reference implementation.
bool IsReferenceBlas(const std::string& blas);

nlohmann::json HardwareToJson(const HardwareInfo& hw);

}  // namespace hat

#endif  // HATFLEET_MEASURE_HARDWARE_H_
