// hatctl's progress reports (cli/cli_output.h): a bar on terminals, plain lines elsewhere.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cli/cli_output.h"

namespace hat::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

TEST(ProgressTest, TerminalsGetABarFilledInProportion) {
  const std::string line = FormatProgress("job-000001", 5, 20, 0.5, 30, "measuring", 20, 0);
  EXPECT_THAT(line, StartsWith("job-000001 [#####...............]  25% 5/20 0.50/s ETA 30s"));
  EXPECT_THAT(line, HasSubstr("measuring"));
  EXPECT_THAT(FormatProgress("x", 20, 20, 1, 0, "", 10, 0), HasSubstr("[##########] 100%"));
  EXPECT_THAT(FormatProgress("x", 0, 20, 0, -1, "", 10, 0), HasSubstr("[..........]   0%"));
  // More done than planned (a resumed count) never overflows the bar.
  EXPECT_THAT(FormatProgress("x", 25, 20, 1, 0, "", 10, 0), HasSubstr("[##########] 100%"));
}

TEST(ProgressTest, TerminalLinesAreCutToTheWidthSoTheyRewriteInPlace) {
  const std::string detail(300, 'd');
  EXPECT_EQ(FormatProgress("train", 1, 8000, 1.2, 6000, detail, 24, 79).size(), 79u);
}

TEST(ProgressTest, PipesGetPlainLinesWithoutABar) {
  const std::string line = FormatProgress("job-000001", 5, 20, 0.5, 30, "measuring", 0, 0);
  EXPECT_EQ(line, "job-000001 5/20  25% 0.50/s ETA 30s measuring");
  EXPECT_THAT(line, Not(HasSubstr("[")));
}

TEST(ProgressTest, EtaReadsAsHoursMinutesSeconds) {
  EXPECT_EQ(FormatEta(29.4), "29s");
  EXPECT_EQ(FormatEta(245), "4m05s");
  EXPECT_EQ(FormatEta(3720), "1h02m");
  EXPECT_EQ(FormatEta(-1), "?");
}

}  // namespace
}  // namespace hat::cli
