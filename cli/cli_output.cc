// hatctl output helpers.
#include "cli/cli_output.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/str_format.h"

namespace hat::cli {

int ReportError(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  std::cerr << "hatctl: " << status.message() << "\n";
  return kExitFailure;
}

void PrintJson(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

void PrintProgress(const std::string& what, int done, int total, double rate_per_s, double eta_s,
                   const std::string& detail) {
  static const bool tty = ::isatty(STDERR_FILENO) == 1;
  const double pct = total > 0 ? 100.0 * done / total : 100.0;
  const std::string line = absl::StrFormat("%s %d/%d %3.0f%% %.2f/s ETA %.0fs %s", what, done,
                                           total, pct, rate_per_s, eta_s, detail);
  if (tty) {
    std::cerr << "\r\033[K" << line << (done >= total ? "\n" : "") << std::flush;
  } else {
    std::cerr << line << "\n";
  }
}

std::string HexId(uint64_t id) { return absl::StrFormat("%016x", id); }

}  // namespace hat::cli
