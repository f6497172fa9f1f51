// Host hardware detection from /proc and uname.
#include "measure/hardware.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace hat {
namespace {

// The value of the first "key : value" line of a /proc-style file whose key is `key`.
std::string ProcValue(const std::string& path, absl::string_view key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::pair<std::string, std::string> kv = absl::StrSplit(line, absl::MaxSplits(':', 1));
    if (absl::StripAsciiWhitespace(kv.first) == key) {
      return std::string(absl::StripAsciiWhitespace(kv.second));
    }
  }
  return "";
}

std::string Distribution() {
  std::string pretty = ProcValue("/etc/os-release", "PRETTY_NAME");
  if (pretty.empty()) {
    std::ifstream in("/etc/os-release");
    std::string line;
    while (std::getline(in, line)) {
      if (absl::StartsWith(line, "PRETTY_NAME=")) {
        pretty = line.substr(12);
        break;
      }
    }
  }
  return std::string(absl::StripSuffix(absl::StripPrefix(pretty, "\""), "\""));
}

}  // namespace

std::string DetectLoadedBlas() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  std::string reference;
  while (std::getline(maps, line)) {
    const size_t slash = line.find_last_of('/');
    if (slash == std::string::npos) continue;
    const std::string lib = line.substr(slash + 1);
    if (absl::StrContains(lib, "openblas")) return absl::StrCat("OpenBLAS (", lib, ")");
    if (absl::StrContains(lib, "libmkl")) return absl::StrCat("MKL (", lib, ")");
    if (absl::StrContains(lib, "blis")) return absl::StrCat("BLIS (", lib, ")");
    if (absl::StartsWith(lib, "libblas.so")) {
      // Debian's alternatives may point libblas.so.3 at OpenBLAS; the real path says which.
      const size_t path_start = line.find('/');
      char resolved[4096];
      if (path_start != std::string::npos &&
          ::realpath(line.substr(path_start).c_str(), resolved) != nullptr &&
          absl::StrContains(resolved, "openblas")) {
        return absl::StrCat("OpenBLAS (", resolved, ")");
      }
      reference = absl::StrCat("reference BLAS (", lib, ")");
    }
  }
  return reference.empty() ? "unknown" : reference;
}

bool LooksEmulated(const std::string& machine, const std::string& cpuinfo) {
  const bool x86_process = machine == "x86_64" || machine == "i686" || machine == "i386";
  const bool x86_cpu =
      absl::StrContains(cpuinfo, "GenuineIntel") || absl::StrContains(cpuinfo, "AuthenticAMD") ||
      absl::StrContains(cpuinfo, "HygonGenuine") || absl::StrContains(cpuinfo, " sse2");
  const bool arm_cpu = absl::StrContains(cpuinfo, "CPU implementer");
  return x86_process ? arm_cpu : x86_cpu;
}

bool IsReferenceBlas(const std::string& blas) { return absl::StartsWith(blas, "reference"); }

HardwareInfo DetectHostHardware() {
  HardwareInfo hw;
  hw.device = "cpu";
  hw.cpu_model = ProcValue("/proc/cpuinfo", "model name");
  if (hw.cpu_model.empty()) hw.cpu_model = ProcValue("/proc/cpuinfo", "Model");     // Raspberry Pi
  if (hw.cpu_model.empty()) hw.cpu_model = ProcValue("/proc/cpuinfo", "Hardware");  // other ARM
  struct utsname u;
  if (::uname(&u) == 0) {
    hw.cpu_arch = u.machine;
    hw.os = absl::StrCat(u.sysname, " ", u.release);
  }
  const std::string distro = Distribution();
  if (!distro.empty()) absl::StrAppend(&hw.os, ", ", distro);
  hw.cpu_cores = static_cast<int>(::sysconf(_SC_NPROCESSORS_ONLN));
  std::string mem = ProcValue("/proc/meminfo", "MemTotal");  // "24576000 kB"
  int64_t kb = 0;
  if (absl::SimpleAtoi(absl::StripSuffix(mem, " kB"), &kb)) hw.memory_bytes = kb * 1024;
  hw.blas = DetectLoadedBlas();
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::stringstream text;
  text << cpuinfo.rdbuf();
  hw.emulated = LooksEmulated(hw.cpu_arch, text.str());
  return hw;
}

nlohmann::json HardwareToJson(const HardwareInfo& hw) {
  return {{"device", hw.device},
          {"cpu_model", hw.cpu_model},
          {"cpu_arch", hw.cpu_arch},
          {"cpu_cores", hw.cpu_cores},
          {"memory_bytes", hw.memory_bytes},
          {"os", hw.os},
          {"libtorch_version", hw.libtorch_version},
          {"blas", hw.blas},
          {"threads", hw.threads},
          {"accelerator", hw.accelerator},
          {"accelerator_driver", hw.accelerator_driver},
          {"emulated", hw.emulated}};
}

}  // namespace hat
