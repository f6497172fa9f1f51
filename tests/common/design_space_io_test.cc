// Design-space files: HAT's YAML and hatfleet's JSON load; bad input names file, key and line.
#include "common/design_space_io.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/builtin_spaces.h"
#include "common/file_util.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"

namespace hat {
namespace {

using ::hat::testing::HatConfigPath;
using ::hat::testing::IsOk;
using ::hat::testing::ReplaceOnce;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;
constexpr auto kInvalid = absl::StatusCode::kInvalidArgument;

// The space part of HAT's space0.yml, for edits in tests.
constexpr char kSpace0[] = R"(
encoder-embed-dim: 640
decoder-embed-dim: 640
encoder-ffn-embed-dim: 3072
decoder-ffn-embed-dim: 3072
encoder-layers: 6
decoder-layers: 6
encoder-attention-heads: 8
decoder-attention-heads: 8
qkv-dim: 512
encoder-embed-choice: [640, 512]
decoder-embed-choice: [640, 512]
encoder-ffn-embed-dim-choice: [3072, 2048, 1024]
decoder-ffn-embed-dim-choice: [3072, 2048, 1024]
encoder-layer-num-choice: [6]
decoder-layer-num-choice: [6, 5, 4, 3, 2, 1]
encoder-self-attention-heads-choice: [8, 4]
decoder-self-attention-heads-choice: [8, 4]
decoder-ende-attention-heads-choice: [8, 4]
decoder-arbitrary-ende-attn-choice: [-1, 1, 2]
)";

TEST(DesignSpaceIoTest, HatSpace0FileEqualsBuiltinSpace) {
  ASSERT_OK_AND_ASSIGN(DesignSpace loaded,
                       LoadDesignSpaceFile(HatConfigPath("supertransformer/space0.yml")));
  EXPECT_EQ(loaded.name, "space0");
  DesignSpace builtin = *BuiltinSpace("hat-wmt14-en-de");
  builtin.name = "space0";
  EXPECT_EQ(loaded, builtin);
}

TEST(DesignSpaceIoTest, HatLatencyDatasetFilesEqualBuiltinLatencySpace) {
  for (const char* device : {"cpu_raspberrypi", "cpu_xeon", "gpu_titanxp"}) {
    ASSERT_OK_AND_ASSIGN(
        DesignSpace loaded,
        LoadDesignSpaceFile(HatConfigPath(std::string("latency_dataset/") + device + ".yml")));
    DesignSpace builtin = *BuiltinSpace("hat-wmt14-en-de-latency");
    builtin.name = device;
    EXPECT_EQ(loaded, builtin) << device;
  }
}

TEST(DesignSpaceIoTest, OptionalVocabAndNameKeysAreRead) {
  ASSERT_OK_AND_ASSIGN(
      DesignSpace s,
      ParseDesignSpace(std::string(kSpace0) + "vocab-size: 40000\nname: mine\n", "ignored"));
  EXPECT_EQ(s.super.vocab_size, 40000);
  EXPECT_EQ(s.super.max_positions, 1024);
  EXPECT_EQ(s.name, "mine");
}

TEST(DesignSpaceIoTest, JsonRoundTripsEveryBuiltinSpace) {
  for (const std::string& name : BuiltinSpaceNames()) {
    const DesignSpace space = *BuiltinSpace(name);
    ASSERT_OK_AND_ASSIGN(DesignSpace back, ParseDesignSpace(DesignSpaceToJson(space), "x"));
    EXPECT_EQ(back, space) << name;
  }
}

TEST(DesignSpaceIoTest, ValueOutsideSuperTransformerNamesKeyLineAndValue) {
  const std::string text =
      ReplaceOnce(kSpace0, "encoder-embed-choice: [640, 512]", "encoder-embed-choice: [640, 700]");
  EXPECT_THAT(ParseDesignSpace(text, "s"),
              StatusIs(kInvalid, HasSubstr("line 11: encoder-embed-choice[1]=700: above the "
                                           "SuperTransformer's encoder-embed-dim 640")));
}

TEST(DesignSpaceIoTest, WrongTypeNamesKeyAndLine) {
  const std::string text = ReplaceOnce(kSpace0, "qkv-dim: 512", "qkv-dim: lots");
  EXPECT_THAT(ParseDesignSpace(text, "s"),
              StatusIs(kInvalid, HasSubstr("qkv-dim (line 10): expected an integer, got 'lots'")));
  const std::string list = ReplaceOnce(kSpace0, "[6, 5, 4, 3, 2, 1]", "6");
  EXPECT_THAT(ParseDesignSpace(list, "s"),
              StatusIs(kInvalid, HasSubstr("decoder-layer-num-choice (line 16): expected a list")));
  const std::string fraction = ReplaceOnce(kSpace0, "[8, 4]", "[8, 4.5]");
  EXPECT_THAT(ParseDesignSpace(fraction, "s"),
              StatusIs(kInvalid, HasSubstr("[1]: expected an integer, got '4.5'")));
}

TEST(DesignSpaceIoTest, MissingAndMisspelledKeysAreErrors) {
  const std::string missing = ReplaceOnce(kSpace0, "qkv-dim: 512\n", "");
  EXPECT_THAT(ParseDesignSpace(missing, "s"), StatusIs(kInvalid, HasSubstr("qkv-dim: missing")));
  const std::string typo = ReplaceOnce(kSpace0, "decoder-ende-attention-heads-choice",
                                       "decoder-end-attention-heads-choice");
  EXPECT_THAT(ParseDesignSpace(typo, "s"),
              StatusIs(kInvalid, HasSubstr("decoder-end-attention-heads-choice (line 19): unknown "
                                           "choice key")));
}

TEST(DesignSpaceIoTest, SyntaxErrorsAreReportedNotThrown) {
  EXPECT_THAT(ParseDesignSpace("encoder-embed-choice: [640, 512\n", "s"),
              StatusIs(kInvalid, HasSubstr("YAML syntax error")));
  EXPECT_THAT(ParseDesignSpace("- just\n- a list\n", "s"),
              StatusIs(kInvalid, HasSubstr("expected a YAML mapping")));
  EXPECT_THAT(ParseDesignSpace("{\"format\": ", "s"),
              StatusIs(kInvalid, HasSubstr("JSON syntax error")));
}

TEST(DesignSpaceIoTest, JsonErrorsNameThePath) {
  nlohmann::json doc = DesignSpaceToJsonValue(*BuiltinSpace("tiny"));
  doc["choices"]["decoder_ffn_embed_dim"] = {512, "wide"};
  EXPECT_THAT(ParseDesignSpace(doc.dump(), "s"),
              StatusIs(kInvalid, HasSubstr("/choices/decoder_ffn_embed_dim/1: expected an "
                                           "integer")));
  doc = DesignSpaceToJsonValue(*BuiltinSpace("tiny"));
  doc["super"]["qkv"] = 5;
  EXPECT_THAT(ParseDesignSpace(doc.dump(), "s"), StatusIs(kInvalid, HasSubstr("/super/qkv: "
                                                                              "unknown key")));
  doc = DesignSpaceToJsonValue(*BuiltinSpace("tiny"));
  doc["format"] = "hatfleet.design_space.v9";
  EXPECT_THAT(ParseDesignSpace(doc.dump(), "s"),
              StatusIs(kInvalid, HasSubstr("'hatfleet.design_space.v9' is not supported")));
  doc = DesignSpaceToJsonValue(*BuiltinSpace("tiny"));
  doc["super"]["qkv_dim"] = 3000000000LL;
  EXPECT_THAT(ParseDesignSpace(doc.dump(), "s"),
              StatusIs(kInvalid, HasSubstr("/super/qkv_dim: expected an integer")));
}

TEST(DesignSpaceIoTest, ResolveTakesBuiltinNamesThenFiles) {
  ASSERT_OK_AND_ASSIGN(DesignSpace tiny, ResolveDesignSpace("tiny"));
  EXPECT_EQ(tiny.name, "tiny");
  hat::testing::TempDir dir;
  const std::string path = dir.File("my_space.json");
  DesignSpace mine = tiny;
  mine.name = "mine";
  ASSERT_THAT(WriteFileAtomically(path, DesignSpaceToJson(mine)), IsOk());
  ASSERT_OK_AND_ASSIGN(DesignSpace loaded, ResolveDesignSpace(path));
  EXPECT_EQ(loaded, mine);
  EXPECT_THAT(ResolveDesignSpace(dir.File("nope.yml")),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("is neither a built-in design space nor a file")));
}

TEST(DesignSpaceIoTest, FileErrorsArePrefixedWithThePath) {
  hat::testing::TempDir dir;
  const std::string path = dir.File("bad.yml");
  ASSERT_THAT(WriteFileAtomically(path, ReplaceOnce(kSpace0, "qkv-dim: 512", "qkv-dim: 500")),
              IsOk());
  EXPECT_THAT(
      LoadDesignSpaceFile(path),
      StatusIs(
          kInvalid,
          HasSubstr(
              path +
              ": line 17: encoder-self-attention-heads-choice[0]=8: does not divide qkv-dim 500")));
}

}  // namespace
}  // namespace hat
