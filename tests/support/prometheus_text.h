// Reading one sample out of Prometheus' text exposition format, for tests of /metrics.
#ifndef HATFLEET_TESTS_SUPPORT_PROMETHEUS_TEXT_H_
#define HATFLEET_TESTS_SUPPORT_PROMETHEUS_TEXT_H_

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace hat::testing {

// The value of the sample `name{labels}` (labels as the server orders them), or -1 when absent.
inline double Sample(const std::string& text, const std::string& name_and_labels) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, name_and_labels + " ")) {
      double v = 0;
      if (absl::SimpleAtod(line.substr(name_and_labels.size() + 1), &v)) return v;
    }
  }
  return -1;
}

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_SUPPORT_PROMETHEUS_TEXT_H_
