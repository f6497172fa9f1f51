// Comparing secrets (tokens) in time that does not depend on where they differ.
#ifndef HATFLEET_COMMON_TOKEN_COMPARE_H_
#define HATFLEET_COMMON_TOKEN_COMPARE_H_

#include "absl/strings/string_view.h"

namespace hat {

// True when `given` equals `expected` and `expected` is not empty (an unset token admits no
// one). Reads every byte of `expected` whatever `given` is, so the time taken says nothing about
// how much of a guess was right.
inline bool TokenMatches(absl::string_view given, absl::string_view expected) {
  unsigned char diff = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return diff == 0 && !expected.empty();
}

}  // namespace hat

#endif  // HATFLEET_COMMON_TOKEN_COMPARE_H_
