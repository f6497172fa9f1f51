// The README's first command, deploy/quickstart.sh, run as a user runs it (hat-server with its
// local agent, every stage over the API with hatctl) with tiny numbers and a toy corpus, twice:
// the first run ends with the table and the files, the second reuses every job of the first.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "tests/support/polling.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"
#include "tests/support/toy_corpus.h"

namespace hat {
namespace {

using ::hat::testing::ReadAll;
using ::hat::testing::SourcePath;
using ::hat::testing::Subprocess;
using ::testing::HasSubstr;
using ::testing::Not;

class QuickstartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("corpora/toy"));
    hat::testing::WriteToyCorpus(dir_.File("corpora/toy"));
  }

  // Runs the script with tiny numbers; returns its exit code, its output in `output`.
  int RunQuickstart(const std::string& log, std::string* output) {
    const std::string build = std::filesystem::path(HATCTL_PATH).parent_path().parent_path();
    const std::string env =
        "HAT_SKIP_SETUP=1 BUILD_DIR=" + build + " HAT_WORK_DIR=" + dir_.File("work") +
        " CORPORA_DIR=" + dir_.File("corpora") + " CORPUS=toy VOCAB_SIZE=60" +
        " SENTENCES_FILE=" + dir_.File("corpora/toy/test.en") +
        " SAMPLES=10 REPEATS=1 STEPS=4 ITERATIONS=2 POPULATION=8 PARENTS=2 MUTATIONS=3"
        " CROSSOVERS=3 VALID_SENTENCES=8 THREADS=1"
        // HAT's protocol: a fixed number of runs. The default one measures until the median is
        // steady or 20 s pass, which a loaded test machine turns into minutes.
        " PROTOCOL=hat ";
    Subprocess p({"/bin/bash", "-c", env + SourcePath("deploy/quickstart.sh")}, dir_.File(log));
    const int code = p.Wait();
    *output = p.Log();
    return code;
  }

  hat::testing::TempDir dir_;
};

TEST_F(QuickstartTest, RunsTheWholePipelineThenReusesItOnTheSecondRun) {
  std::string out;
  ASSERT_EQ(RunQuickstart("first.log", &out), 0) << out;
  // Every stage ran and submitted its job.
  for (const char* stage : {"1. Latency dataset", "2. Latency predictor", "3. Transformer-tiny",
                            "4. SuperTransformer", "5. Search", "6. Results"}) {
    EXPECT_THAT(out, HasSubstr(stage));
  }
  EXPECT_THAT(out, Not(HasSubstr("reusing")));
  // The dashboard's address is printed, with where its token is, never the token itself.
  EXPECT_THAT(out, HasSubstr("dashboard: http://127.0.0.1:"));
  EXPECT_THAT(out, HasSubstr("server/viewer.token"));
  const std::string viewer = ReadAll(dir_.File("work/server/viewer.token"));
  ASSERT_FALSE(viewer.empty());
  EXPECT_THAT(out, Not(HasSubstr(std::string(absl::StripAsciiWhitespace(viewer)))));
  // The predictor's accuracy comes with its test-set size.
  EXPECT_THAT(out, HasSubstr("rows   test"));
  // The table: the winners (one per limit) next to Transformer-tiny, re-measured.
  EXPECT_THAT(out, HasSubstr("winner 0"));
  EXPECT_THAT(out, HasSubstr("winner 1"));
  EXPECT_THAT(out, HasSubstr("\ntransformer-tiny "));
  EXPECT_THAT(out, Not(HasSubstr(", -")))  // a latency never measured prints "-"
      << "every winner and the reference are re-measured";

  // The files: HAT YAML, hatfleet JSON and weights per winner, the front as CSV and SVG.
  const std::string exported = dir_.File("work/export");
  for (const char* file : {"winner_0.yml", "winner_0.json", "winner_0.pt", "winner_1.yml",
                           "pareto.csv", "pareto.svg", "supernet.pt"}) {
    EXPECT_TRUE(std::filesystem::exists(exported + "/" + file)) << file;
  }
  EXPECT_THAT(ReadAll(exported + "/pareto.csv"), HasSubstr("reference,transformer-tiny,"));
  const nlohmann::json summary =
      nlohmann::json::parse(ReadAll(dir_.File("work/summary.json")), nullptr, false);
  ASSERT_TRUE(summary.is_object()) << ReadAll(dir_.File("work/summary.json"));
  const double tiny_ms = summary.value("transformer_tiny_ms", 0.0);
  EXPECT_GT(tiny_ms, 0);
  ASSERT_EQ(summary["limits_ms"].size(), 2u);
  // Two thirds of Transformer-tiny and its latency, unless the predictor's fastest
  // SubTransformer of the space is slower: a search refuses a limit no SubTransformer meets.
  const double fastest_ms = summary.value("fastest_predicted_ms", 0.0);
  EXPECT_GT(fastest_ms, 0);
  EXPECT_NEAR(summary["limits_ms"][0].get<double>(), std::max(tiny_ms * 2 / 3, fastest_ms * 1.05),
              0.01);
  EXPECT_NEAR(summary["limits_ms"][1].get<double>(), std::max(tiny_ms, fastest_ms * 1.5), 0.01);
  for (const char* stage : {"dataset", "predictor", "reference", "supernet", "search", "results"}) {
    EXPECT_TRUE(summary["stage_seconds"].contains(stage)) << stage;
  }
  const std::string search = summary.value("search_job", "");
  EXPECT_FALSE(search.empty());

  // The second run reuses every job (the same search job, nothing submitted anew).
  std::string again;
  ASSERT_EQ(RunQuickstart("second.log", &again), 0) << again;
  EXPECT_THAT(again, Not(HasSubstr("submitted job-"))) << again;
  for (const char* key : {"quickstart/dataset/", "quickstart/predictor/", "quickstart/tiny/",
                          "quickstart/supernet/", "quickstart/search/"}) {
    EXPECT_THAT(again, HasSubstr(std::string("from an earlier run (") + key)) << key;
  }
  const nlohmann::json second =
      nlohmann::json::parse(ReadAll(dir_.File("work/summary.json")), nullptr, false);
  ASSERT_TRUE(second.is_object());
  EXPECT_EQ(second.value("search_job", ""), search);
}

}  // namespace
}  // namespace hat
