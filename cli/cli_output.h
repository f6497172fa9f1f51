// How hatctl commands report: JSON on stdout for scripts (--json), text for people, errors on
// stderr as "hatctl: <message>" with a non-zero exit code.
#ifndef HATFLEET_CLI_CLI_OUTPUT_H_
#define HATFLEET_CLI_CLI_OUTPUT_H_

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/status.h"

namespace hat::cli {

// Exit codes shared by every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the input was wrong or the operation failed
inline constexpr int kExitUsage = 2;    // the command line was wrong (CLI11 reports these)

// Prints `status` to stderr and returns kExitFailure (kExitOk for an OK status).
int ReportError(const absl::Status& status);

// Pretty JSON on stdout with a trailing newline.
void PrintJson(const nlohmann::json& value);

// One progress report on stderr. On a terminal a bar rewritten in place, cut to the terminal's
// width ("what [#######.............]  35% 7/20 0.45/s ETA 29s detail"); otherwise (pipes, logs,
// CI) a plain line per report ("what 7/20 35% 0.45/s ETA 29s detail").
void PrintProgress(const std::string& what, int done, int total, double rate_per_s, double eta_s,
                   const std::string& detail);

// The text of one report: with `bar_width` > 0 the terminal form with a bar that wide, cut to
// `max_width` characters (0: no limit); with 0 the plain line. A negative `eta_s` is unknown.
std::string FormatProgress(const std::string& what, int done, int total, double rate_per_s,
                           double eta_s, const std::string& detail, int bar_width, int max_width);

// "29s", "4m05s", "1h02m"; "?" when negative or not finite.
std::string FormatEta(double seconds);

// Lowercase hex of a config id, as shown everywhere ("9f3c...").
std::string HexId(uint64_t id);

}  // namespace hat::cli

#endif  // HATFLEET_CLI_CLI_OUTPUT_H_
