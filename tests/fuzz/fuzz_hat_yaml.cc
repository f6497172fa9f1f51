// HAT's YAML files of every kind (design spaces, latency-dataset, predictor, evolution and
// SubTransformer configs), as `hatctl` reads them from a path. Property: a file accepted as a
// design space holds a valid one.
#include "common/hat_yaml.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hat::fuzz::ScratchFile file("input.yml");
  const absl::StatusOr<hat::HatYamlFile> parsed = hat::LoadHatYamlFile(file.Write(data, size));
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty(), "a refusal says why");
    return 0;
  }
  if (parsed->space) FUZZ_CHECK(parsed->space->Validate().ok(), "an accepted space is valid");
  return 0;
}
