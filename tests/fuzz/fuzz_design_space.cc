// Design spaces in either format (hatfleet's JSON, HAT's YAML keys). Properties: an accepted
// space is valid, and writing it as JSON and reading that back gives the same JSON.
#include "common/design_space_io.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<hat::DesignSpace> space = hat::ParseDesignSpace(text, "fuzz");
  if (!space.ok()) {
    FUZZ_CHECK(!space.status().message().empty(), "a refusal says why");
    return 0;
  }
  FUZZ_CHECK(space->Validate().ok(), "an accepted space is valid");
  const std::string json = hat::DesignSpaceToJson(*space);
  const absl::StatusOr<hat::DesignSpace> again = hat::ParseDesignSpace(json, "fuzz");
  FUZZ_CHECK(again.ok(), "the JSON written for an accepted space is read back");
  FUZZ_CHECK(hat::DesignSpaceToJson(*again) == json, "the round trip keeps the space");
  return 0;
}
