// hatctl output helpers.
#include "cli/cli_output.h"

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

std::string HexId(uint64_t id) { return absl::StrFormat("%016x", id); }

}  // namespace hat::cli
