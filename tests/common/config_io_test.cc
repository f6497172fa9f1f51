// SubTransformer config files: HAT's YAML and the HAT-dict JSON.
#include "common/config_io.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/builtin_spaces.h"
#include "common/file_util.h"
#include "common/sampling.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"

namespace hat {
namespace {

using ::hat::testing::HatConfigPath;
using ::hat::testing::IsOk;
using ::hat::testing::ListFiles;
using ::hat::testing::ReplaceOnce;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

constexpr char kXeon137[] = R"(encoder-embed-dim-subtransformer: 512
decoder-embed-dim-subtransformer: 512
encoder-ffn-embed-dim-all-subtransformer: [3072, 3072, 3072, 3072, 3072, 3072]
decoder-ffn-embed-dim-all-subtransformer: [3072]
encoder-layer-num-subtransformer: 6
decoder-layer-num-subtransformer: 1
encoder-self-attention-heads-all-subtransformer: [4, 8, 8, 8, 8, 8]
decoder-self-attention-heads-all-subtransformer: [8]
decoder-ende-attention-heads-all-subtransformer: [8]
decoder-arbitrary-ende-attn-all-subtransformer: [1]
)";

TEST(ConfigIoTest, AllSeventeenPublishedConfigsLoadAndFitSpace0) {
  const std::vector<std::string> files = ListFiles(HatConfigPath("subtransformer"), "HAT_", ".yml");
  ASSERT_EQ(files.size(), 17u);
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  for (const std::string& file : files) {
    EXPECT_THAT(LoadConfigInSpace(file, space), IsOk()) << file;
  }
}

TEST(ConfigIoTest, ParsesHatYamlValues) {
  ASSERT_OK_AND_ASSIGN(ParsedConfig parsed, ParseSubTransformerConfig(kXeon137));
  EXPECT_EQ(parsed.style, KeyStyle::kHatYaml);
  EXPECT_EQ(parsed.config.encoder.embed_dim, 512);
  EXPECT_EQ(parsed.config.encoder.self_attention_heads, (std::vector<int>{4, 8, 8, 8, 8, 8}));
  EXPECT_EQ(parsed.config.decoder.layer_num, 1);
  EXPECT_EQ(parsed.config.decoder.arbitrary_ende_attn, (std::vector<int>{1}));
}

TEST(ConfigIoTest, JsonAndHatYamlRoundTripSampledConfigs) {
  for (const char* name : {"hat-wmt14-en-de", "tiny-latency"}) {
    for (const SubTransformerConfig& config : SampleConfigs(*BuiltinSpace(name), 50, 9)) {
      ASSERT_OK_AND_ASSIGN(ParsedConfig from_json, ParseSubTransformerConfig(ConfigToJson(config)));
      EXPECT_EQ(from_json.config, config);
      EXPECT_EQ(from_json.style, KeyStyle::kHatfleet);
      ASSERT_OK_AND_ASSIGN(ParsedConfig from_yaml,
                           ParseSubTransformerConfig(ConfigToHatYaml(config)));
      EXPECT_EQ(from_yaml.config, config);
    }
  }
}

TEST(ConfigIoTest, JsonUsesHatConfigDictKeys) {
  ASSERT_OK_AND_ASSIGN(ParsedConfig parsed, ParseSubTransformerConfig(kXeon137));
  const nlohmann::json j = ConfigToJsonValue(parsed.config);
  EXPECT_EQ(j["encoder"]["encoder_embed_dim"], 512);
  EXPECT_EQ(j["decoder"]["decoder_arbitrary_ende_attn"], nlohmann::json::array({1}));
  EXPECT_EQ(j["encoder"].size(), 4u);
  EXPECT_EQ(j["decoder"].size(), 6u);
}

TEST(ConfigIoTest, MalformedYamlNamesKeyAndLine) {
  EXPECT_THAT(ParseSubTransformerConfig(ReplaceOnce(kXeon137, "decoder-layer-num-subtransformer: 1",
                                                    "decoder-layer-num-subtransformer: one")),
              StatusIs(kInvalid, HasSubstr("decoder-layer-num-subtransformer (line 6): expected an "
                                           "integer, got 'one'")));
  EXPECT_THAT(ParseSubTransformerConfig(ReplaceOnce(kXeon137, "decoder-layer-num-subtransformer: 1",
                                                    "decoder-layer-num-subtransformer: 2")),
              StatusIs(kInvalid, HasSubstr("line 4: decoder-ffn-embed-dim-all-subtransformer: has "
                                           "1 entries but decoder-layer-num-subtransformer=2")));
  EXPECT_THAT(ParseSubTransformerConfig(
                  ReplaceOnce(kXeon137, "decoder-embed-dim-subtransformer: 512\n", "")),
              StatusIs(kInvalid, HasSubstr("decoder-embed-dim-subtransformer: missing")));
  EXPECT_THAT(
      ParseSubTransformerConfig(std::string(kXeon137) + "decoder-layers-subtransformer: 3\n"),
      StatusIs(kInvalid, HasSubstr("decoder-layers-subtransformer (line 11): unknown "
                                   "SubTransformer key")));
}

TEST(ConfigIoTest, MalformedJsonNamesPath) {
  ASSERT_OK_AND_ASSIGN(ParsedConfig parsed, ParseSubTransformerConfig(kXeon137));
  nlohmann::json j = ConfigToJsonValue(parsed.config);
  j["decoder"]["decoder_ffn_embed_dim"] = "3072";
  EXPECT_THAT(ParseSubTransformerConfig(j.dump()),
              StatusIs(kInvalid, HasSubstr("/decoder/decoder_ffn_embed_dim: expected an array")));
  j = ConfigToJsonValue(parsed.config);
  j["encoder"]["encoder_ffn_dim"] = {1};
  EXPECT_THAT(ParseSubTransformerConfig(j.dump()),
              StatusIs(kInvalid, HasSubstr("/encoder/encoder_ffn_dim: unknown key")));
  j = ConfigToJsonValue(parsed.config);
  j.erase("decoder");
  EXPECT_THAT(ParseSubTransformerConfig(j.dump()),
              StatusIs(kInvalid, HasSubstr("/decoder: missing")));
  nlohmann::json huge = ConfigToJsonValue(parsed.config);
  huge["encoder"]["encoder_ffn_embed_dim"] = std::vector<int>(5000, 3072);
  EXPECT_THAT(ParseSubTransformerConfig(huge.dump()),
              StatusIs(kInvalid, HasSubstr("5000 entries, more than 4096")));
  // Found by fuzzing: a number beyond double's range escaped as an exception.
  EXPECT_THAT(ParseSubTransformerConfig(R"({"decoder": {"decoder_layer_num": 2e999}})"),
              StatusIs(kInvalid, HasSubstr("number overflow")));
}

TEST(ConfigIoTest, LoadInSpaceNamesFileAndHatKey) {
  hat::testing::TempDir dir;
  const std::string path = dir.File("c.yml");
  ASSERT_THAT(
      WriteFileAtomically(path, ReplaceOnce(kXeon137, "[4, 8, 8, 8, 8, 8]", "[4, 8, 6, 8, 8, 8]")),
      IsOk());
  EXPECT_THAT(
      LoadConfigInSpace(path, *BuiltinSpace("hat-wmt14-en-de")),
      StatusIs(kInvalid, HasSubstr(path + ": encoder-self-attention-heads-all-subtransformer"
                                          "[2]=6: not in {8, 4}")));
  EXPECT_THAT(LoadConfigInSpace(dir.File("missing.yml"), *BuiltinSpace("hat-wmt14-en-de")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing.yml: cannot open")));
}

}  // namespace
}  // namespace hat
