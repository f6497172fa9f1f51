// Abseil flags are declared with underscores (--data_dir); people type dashes (--data-dir), as
// the README and the issue texts do. NormalizeFlagNames rewrites "--data-dir=x" and "--data-dir"
// to the underscore form in place, before absl::ParseCommandLine sees them; values are untouched.
#ifndef HATFLEET_COMMON_FLAG_NAMES_H_
#define HATFLEET_COMMON_FLAG_NAMES_H_

#include <cstring>

namespace hat {

inline void NormalizeFlagNames(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* arg = argv[i];
    if (std::strcmp(arg, "--") == 0) break;  // everything after is positional
    if (std::strncmp(arg, "--", 2) != 0) continue;
    for (char* p = arg + 2; *p != '\0' && *p != '='; ++p) {
      if (*p == '-') *p = '_';
    }
  }
}

}  // namespace hat

#endif  // HATFLEET_COMMON_FLAG_NAMES_H_
