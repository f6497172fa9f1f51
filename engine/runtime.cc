// LibTorch runtime settings and description.
#include "engine/runtime.h"

#include <ATen/Parallel.h>
#include <sched.h>
#include <torch/cuda.h>
#include <torch/version.h>
#include <unistd.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "engine/torch_status.h"

namespace hat {

absl::Status CheckDevice(const std::string& device) {
  if (device == "cpu") return absl::OkStatus();
  if (device != "cuda") {
    return absl::InvalidArgumentError(
        absl::StrCat("device '", device, "' is unknown (expected cpu or cuda)"));
  }
  return CallTorch("cuda", []() -> absl::Status {
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError(
          "device cuda: this LibTorch build has no CUDA or no GPU is visible (Debian's "
          "libtorch is CPU-only; build against a CUDA LibTorch to measure GPUs)");
    }
    return absl::OkStatus();
  });
}

absl::Status ConfigureThreads(int threads) {
  if (threads < 1 || threads > 1024) {
    return absl::InvalidArgumentError(absl::StrCat("threads=", threads, ": must be in [1, 1024]"));
  }
  return CallTorch("setting threads", [&]() -> absl::Status {
    static std::once_flag interop_once;
    // Inter-op threads can only be set before LibTorch starts inter-op work; set it once.
    std::call_once(interop_once, [] {
      try {
        at::set_num_interop_threads(1);
      } catch (const c10::Error&) {
      }
    });
    at::set_num_threads(threads);
    return absl::OkStatus();
  });
}

HardwareInfo DescribeRuntime(const std::string& device) {
  HardwareInfo hw = DetectHostHardware();
  hw.device = device;
  hw.libtorch_version = TORCH_VERSION;
  hw.threads = at::get_num_threads();
  if (device == "cuda" && torch::cuda::is_available()) {
    hw.accelerator = absl::StrCat("CUDA device 0 of ", torch::cuda::device_count());
  }
  return hw;
}

absl::Status PinToCpus(int cpus) {
  const long online = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1 || cpus > online) {
    return absl::InvalidArgumentError(
        absl::StrCat("pinning to ", cpus, " CPUs: this machine has ", online));
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  for (long c = online - cpus; c < online; ++c) CPU_SET(static_cast<int>(c), &set);
  if (::sched_setaffinity(0, sizeof(set), &set) != 0) {
    return absl::PermissionDeniedError("sched_setaffinity refused to pin this process");
  }
  return absl::OkStatus();
}

}  // namespace hat
