// A stable 64-bit fingerprint (FNV-1a) of bytes: the same input gives the same value on every
// machine and in every run (unlike absl::Hash), so it can name files and cache entries.
#ifndef HATFLEET_COMMON_FINGERPRINT_H_
#define HATFLEET_COMMON_FINGERPRINT_H_

#include <cstdint>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace hat {

class Fingerprint {
 public:
  Fingerprint& Add(absl::string_view bytes) {
    for (unsigned char ch : bytes) {
      hash_ ^= ch;
      hash_ *= 0x100000001b3ULL;  // FNV prime
    }
    return *this;
  }
  uint64_t value() const { return hash_; }
  // 16 lowercase hex digits.
  std::string Hex() const { return absl::StrFormat("%016x", hash_); }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
};

}  // namespace hat

#endif  // HATFLEET_COMMON_FINGERPRINT_H_
