// File helpers: errors name the path and the reason; atomic writes replace whole files.
#include "common/file_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

TEST(FileUtilTest, WriteThenReadBack) {
  hat::testing::TempDir dir;
  const std::string path = dir.File("a.txt");
  ASSERT_THAT(WriteFileAtomically(path, "first"), IsOk());
  ASSERT_THAT(WriteFileAtomically(path, std::string("second\0with nul", 15)), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string data, ReadFileToString(path));
  EXPECT_EQ(data, std::string("second\0with nul", 15));
  struct stat st;
  EXPECT_NE(::stat((path + ".tmp." + std::to_string(::getpid())).c_str(), &st), 0)
      << "temporary file left behind";
}

TEST(FileUtilTest, ErrorsNamePathAndReason) {
  hat::testing::TempDir dir;
  EXPECT_THAT(ReadFileToString(dir.File("missing")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("missing: cannot open")));
  EXPECT_THAT(ReadFileToString(dir.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("is a directory")));
  EXPECT_THAT(WriteFileAtomically(dir.File("no/such/dir/file"), "x"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("cannot create")));
}

TEST(FileUtilTest, RefusesFilesOverTheLimit) {
  hat::testing::TempDir dir;
  const std::string path = dir.File("big");
  ASSERT_THAT(WriteFileAtomically(path, std::string(1000, 'x')), IsOk());
  EXPECT_THAT(ReadFileToString(path, 999),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("larger than the limit")));
  EXPECT_THAT(ReadFileToString(path, 1000), IsOk());
}

TEST(FileUtilTest, FileStem) {
  EXPECT_EQ(FileStem("a/b/space0.yml"), "space0");
  EXPECT_EQ(FileStem("HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml"),
            "HAT_wmt14ende_xeon@137.9ms_bleu@25.8");
  EXPECT_EQ(FileStem("noext"), "noext");
  EXPECT_EQ(FileStem(".hidden"), ".hidden");
}

}  // namespace
}  // namespace hat
