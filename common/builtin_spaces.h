// Built-in named design spaces: HAT's published spaces and a `tiny` one for this 2-core machine.
//
//   hat-wmt14-en-de, hat-wmt14-en-fr, hat-wmt19-en-de  HAT "space0" (configs/*/space0.yml)
//   hat-iwslt14-de-en                                   HAT "space1"
//   tiny                                                Multi30k-sized, trains in < 1 h on 2 cores
// Each also as NAME-latency: the wider space HAT samples latency datasets from
// (configs/*/latency_dataset/*.yml), so the predictor has seen the whole search space.
#ifndef HATFLEET_COMMON_BUILTIN_SPACES_H_
#define HATFLEET_COMMON_BUILTIN_SPACES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/design_space.h"

namespace hat {

// All built-in names, search spaces first, in a stable order.
std::vector<std::string> BuiltinSpaceNames();

// The named space; NOT_FOUND listing the known names otherwise.
absl::StatusOr<DesignSpace> BuiltinSpace(absl::string_view name);

}  // namespace hat

#endif  // HATFLEET_COMMON_BUILTIN_SPACES_H_
