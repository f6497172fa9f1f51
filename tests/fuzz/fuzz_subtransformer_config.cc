// SubTransformer configs (hatfleet's JSON or HAT's YAML keys). Properties: an accepted config
// written as JSON and as HAT's YAML reads back to the same config.
#include "common/config_io.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const absl::StatusOr<hat::ParsedConfig> parsed = hat::ParseSubTransformerConfig(text);
  if (!parsed.ok()) {
    FUZZ_CHECK(!parsed.status().message().empty(), "a refusal says why");
    return 0;
  }
  const std::string json = hat::ConfigToJson(parsed->config);
  for (const std::string& written : {json, hat::ConfigToHatYaml(parsed->config)}) {
    const absl::StatusOr<hat::ParsedConfig> again = hat::ParseSubTransformerConfig(written);
    FUZZ_CHECK(again.ok(), "what is written for an accepted config is read back");
    FUZZ_CHECK(hat::ConfigToJson(again->config) == json, "the round trip keeps the config");
  }
  return 0;
}
