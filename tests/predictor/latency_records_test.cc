#include "predictor/latency_records.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/support/status_matchers.h"
#include "tests/support/test_paths.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

const char kHeader[] =
    "encoder_embed_dim,encoder_layer_num,encoder_ffn_embed_dim_avg,"
    "encoder_self_attention_heads_avg,decoder_embed_dim,decoder_layer_num,"
    "decoder_ffn_embed_dim_avg,decoder_self_attention_heads_avg,"
    "decoder_ende_attention_heads_avg,decoder_arbitrary_ende_attn_avg,latency_mean_encoder,"
    "latency_mean_decoder,latency_std_encoder,latency_std_decoder\n";

TEST(HatCsvTest, ReadsFeaturesAndLatencies) {
  ASSERT_OK_AND_ASSIGN(
      LatencyDataset d,
      ParseHatCsv(std::string(kHeader) + "512,6,2048,4,512,3,1024,8,4,2,10.5,200.25,0.1,2\n",
                  "x.csv"));
  ASSERT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.rows[0].hat_features[0], 512);
  EXPECT_EQ(d.rows[0].hat_features[9], 2);
  EXPECT_DOUBLE_EQ(d.rows[0].encoder_ms, 10.5);
  EXPECT_DOUBLE_EQ(d.rows[0].total_ms(), 210.75);
  EXPECT_FALSE(d.has_shape);
}

TEST(HatCsvTest, ErrorsNameFileLineAndColumn) {
  EXPECT_THAT(ParseHatCsv("a,b,c\n1,2,3\n", "x.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("x.csv: line 1"), HasSubstr("header"))));
  EXPECT_THAT(ParseHatCsv(std::string(kHeader) + "512,6,2048,4,512,3,1024,8,4,2,10,200,0,0\n"
                                                 "512,6,oops,4,512,3,1024,8,4,2,10,200,0,0\n",
                          "x.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("x.csv: line 3"), HasSubstr("encoder_ffn_embed_dim_avg"),
                             HasSubstr("oops"))));
  EXPECT_THAT(ParseHatCsv(std::string(kHeader) + "512,6,2048,4,512,3,1024,8,4,2,10\n", "x.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("11 columns, expected 14")));
  EXPECT_THAT(
      ParseHatCsv(std::string(kHeader) + "512,6,2048,4,512,3,1024,8,4,2,-1,200,0,0\n", "x.csv"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("latency_mean_encoder=-1")));
  EXPECT_THAT(ParseHatCsv(kHeader, "x.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no data rows")));
  EXPECT_THAT(ParseHatCsv("", "x.csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
}

TEST(HatCsvTest, ReadsHatsPublishedDatasets) {
  for (const char* device : {"cpu_xeon", "gpu_titanxp", "cpu_raspberrypi"}) {
    ASSERT_OK_AND_ASSIGN(
        LatencyDataset d,
        LoadLatencyDataset(hat::testing::SourcePath(std::string("data/hat-latency/wmt14ende_") +
                                                    device + "_all.csv"),
                           LatencyFileFormat::kHatCsv));
    EXPECT_EQ(d.rows.size(), 2000u) << device;
  }
}

// One line of `hatctl dataset export --format full` (the fields the reader uses).
std::string FullRow(const std::string& preset, int source_tokens, const std::string& error = "",
                    const std::string& started_at = "2026-11-29T11:38:15.403Z") {
  std::string row = R"({"config": {"encoder": {"encoder_embed_dim": 512, "encoder_layer_num": 6,
    "encoder_ffn_embed_dim": [2048, 2048, 2048, 2048, 2048, 2048],
    "encoder_self_attention_heads": [8, 8, 8, 8, 8, 8]},
    "decoder": {"decoder_embed_dim": 512, "decoder_layer_num": 2,
    "decoder_ffn_embed_dim": [1024, 3072], "decoder_self_attention_heads": [4, 8],
    "decoder_ende_attention_heads": [8, 8], "decoder_arbitrary_ende_attn": [-1, 1]}},)"
                    R"("encoder": {"median_ms": 10, "trimmed_mean_ms": 11},)"
                    R"("decoder": {"median_ms": 100, "trimmed_mean_ms": 120},)"
                    R"("protocol": {"preset": ")" +
                    preset + R"(", "source_tokens": )" + std::to_string(source_tokens) +
                    R"(, "decoder_steps": 30, "beam": 5}, "error": ")" + error +
                    R"(", "started_at": ")" + started_at + "\"}";
  std::replace(row.begin(), row.end(), '\n', ' ');  // a JSON line is one line
  return row;
}

TEST(FullJsonLinesTest, TakesTheProtocolsStatisticAndShape) {
  ASSERT_OK_AND_ASSIGN(
      LatencyDataset d,
      ParseFullJsonLines(FullRow("PROTOCOL_PRESET_ADAPTIVE", 30) + "\n" +
                             FullRow("PROTOCOL_PRESET_HAT", 30) + "\n" +
                             FullRow("PROTOCOL_PRESET_HAT", 30, "out of memory") + "\n",
                         "d.jsonl"));
  ASSERT_EQ(d.rows.size(), 2u);                       // the failed measurement is skipped
  EXPECT_DOUBLE_EQ(d.rows[0].total_ms(), 110);        // medians
  EXPECT_DOUBLE_EQ(d.rows[1].total_ms(), 131);        // HAT's trimmed means
  EXPECT_DOUBLE_EQ(d.rows[0].hat_features[6], 2048);  // decoder FFN mean over 2 layers
  EXPECT_DOUBLE_EQ(d.rows[0].hat_features[9], 1.5);   // attends 1 and 2 encoder layers
  ASSERT_TRUE(d.has_shape);
  EXPECT_EQ(d.shape.source_tokens, 30);
  // What tells repeats apart: the config's identity and when the measurement started.
  EXPECT_EQ(d.rows[0].config_key, d.rows[1].config_key);
  EXPECT_THAT(d.rows[0].config_key, HasSubstr("enc:512:6"));
  EXPECT_EQ(d.rows[0].started_at_ms, 1795952295403);
}

TEST(FullJsonLinesTest, ThrottledRowsAreLeftOutAndCountedUnlessAsked) {
  std::string throttled = FullRow("PROTOCOL_PRESET_HAT", 30);
  throttled.insert(1, R"("condition": {"throttled": true, "throttle_reasons": ["hot"]}, )");
  std::string cool = FullRow("PROTOCOL_PRESET_HAT", 30);
  cool.insert(1, R"("condition": {"temperature_c_after": 45}, )");
  const std::string text = throttled + "\n" + cool + "\n" + throttled + "\n";
  ASSERT_OK_AND_ASSIGN(LatencyDataset d, ParseFullJsonLines(text, "d.jsonl"));
  EXPECT_EQ(d.rows.size(), 1u);
  EXPECT_EQ(d.throttled_left_out, 2);
  ASSERT_OK_AND_ASSIGN(LatencyDataset all,
                       ParseFullJsonLines(text, "d.jsonl", /*include_throttled=*/true));
  EXPECT_EQ(all.rows.size(), 3u);
  EXPECT_EQ(all.throttled_left_out, 0);
  EXPECT_THAT(ParseFullJsonLines(throttled + "\n", "d.jsonl"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("no measured rows (1 throttled ones left out; "
                                 "--include-throttled takes them)")));
}

TEST(FullJsonLinesTest, RefusesMixedWorkloadsAndBrokenRows) {
  EXPECT_THAT(ParseFullJsonLines(FullRow("PROTOCOL_PRESET_HAT", 30) + "\n" +
                                     FullRow("PROTOCOL_PRESET_HAT", 23) + "\n",
                                 "d.jsonl"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("d.jsonl: line 2"), HasSubstr("another workload"))));
  EXPECT_THAT(ParseFullJsonLines("{\"config\": 1}\n", "d.jsonl"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("line 1"), HasSubstr("'config'"))));
  EXPECT_THAT(
      ParseFullJsonLines(FullRow("PROTOCOL_PRESET_HAT", 30, "", "yesterday") + "\n", "d.jsonl"),
      StatusIs(absl::StatusCode::kInvalidArgument,
               AllOf(HasSubstr("line 1"), HasSubstr("started_at='yesterday'"))));
  EXPECT_THAT(ParseFullJsonLines("not json\n", "d.jsonl"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a JSON object")));
  EXPECT_THAT(ParseLatencyFileFormat("csv"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hat-csv")));
}

}  // namespace
}  // namespace hat
