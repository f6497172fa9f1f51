// The LibTorch runtime: devices, thread count, and the description of both recorded with every
// measurement. Torch-free header.
#ifndef HATFLEET_ENGINE_RUNTIME_H_
#define HATFLEET_ENGINE_RUNTIME_H_

#include <string>

#include "absl/status/status.h"
#include "measure/hardware.h"

namespace hat {

// OK for "cpu"; for "cuda", OK when this LibTorch build has CUDA and a device is visible, else
// FAILED_PRECONDITION saying which (Debian's LibTorch is CPU-only). INVALID_ARGUMENT otherwise.
absl::Status CheckDevice(const std::string& device);

// Fixes LibTorch's intra-op threads (and one inter-op thread, set once per process).
absl::Status ConfigureThreads(int threads);

// The host (measure/hardware.h) plus LibTorch's version, the BLAS it uses, its thread count and,
// for CUDA, the GPU.
HardwareInfo DescribeRuntime(const std::string& device);

// Pins this process to the last `cpus` online CPUs (CPU 0 takes most interrupts).
absl::Status PinToCpus(int cpus);

}  // namespace hat

#endif  // HATFLEET_ENGINE_RUNTIME_H_
