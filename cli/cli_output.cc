// hatctl output helpers.
#include "cli/cli_output.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
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

std::string FormatEta(double seconds) {
  if (!(seconds >= 0) || seconds > 1e9) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  if (s < 60) return absl::StrFormat("%ds", s);
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
}

std::string FormatProgress(const std::string& what, int done, int total, double rate_per_s,
                           double eta_s, const std::string& detail, int bar_width, int max_width) {
  const double fraction = total > 0 ? std::clamp(static_cast<double>(done) / total, 0.0, 1.0) : 1.0;
  if (bar_width <= 0) {
    return absl::StrFormat("%s %d/%d %3.0f%% %.2f/s ETA %s %s", what, done, total, 100 * fraction,
                           rate_per_s, FormatEta(eta_s), detail);
  }
  const int filled = static_cast<int>(fraction * bar_width);
  std::string line =
      absl::StrFormat("%s [%s%s] %3.0f%% %d/%d %.2f/s ETA %s %s", what, std::string(filled, '#'),
                      std::string(bar_width - filled, '.'), 100 * fraction, done, total, rate_per_s,
                      done >= total ? std::string("0s") : FormatEta(eta_s), detail);
  // A line longer than the terminal wraps, and "\r" would then rewrite only its last part.
  if (max_width > 0 && static_cast<int>(line.size()) > max_width) line.resize(max_width);
  return line;
}

void PrintProgress(const std::string& what, int done, int total, double rate_per_s, double eta_s,
                   const std::string& detail) {
  static const bool tty = ::isatty(STDERR_FILENO) == 1;
  if (!tty) {
    std::cerr << FormatProgress(what, done, total, rate_per_s, eta_s, detail, 0, 0) << "\n";
    return;
  }
  struct winsize size {};
  const int columns =
      ::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0 ? size.ws_col - 1 : 119;
  std::cerr << "\r\033[K"
            << FormatProgress(what, done, total, rate_per_s, eta_s, detail, 24, columns)
            << (done >= total ? "\n" : "") << std::flush;
}

std::string HexId(uint64_t id) { return absl::StrFormat("%016x", id); }

}  // namespace hat::cli
