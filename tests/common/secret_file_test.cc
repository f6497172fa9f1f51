// Secret files: the token is read and trimmed from a private file; a file every user can read or
// change is refused with a message that says how to fix it and never shows the secret.
#include "common/secret_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/file_util.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::hat::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

std::string WriteSecret(const hat::testing::TempDir& dir, const std::string& contents,
                        mode_t mode) {
  const std::string path = dir.File("fleet.token");
  EXPECT_TRUE(WriteFileAtomically(path, contents).ok());
  EXPECT_EQ(::chmod(path.c_str(), mode), 0);
  return path;
}

TEST(SecretFileTest, ReadsAPrivateFileTrimmed) {
  hat::testing::TempDir dir;
  for (mode_t mode : {0600, 0400, 0640}) {  // owner, or owner and group: allowed
    const std::string path = WriteSecret(dir, "  s3cret-token\n", mode);
    ASSERT_OK_AND_ASSIGN(std::string secret, ReadSecretFile(path));
    EXPECT_EQ(secret, "s3cret-token") << "mode " << mode;
  }
}

TEST(SecretFileTest, RefusesAFileEveryUserCanReadOrChange) {
  hat::testing::TempDir dir;
  const std::string readable = WriteSecret(dir, "s3cret-token\n", 0644);
  EXPECT_THAT(ReadSecretFile(readable),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       AllOf(HasSubstr(readable + ": mode 0644 lets every user read"),
                             HasSubstr("chmod 600 " + readable), Not(HasSubstr("s3cret")))));
  const std::string writable = WriteSecret(dir, "s3cret-token\n", 0602);
  EXPECT_THAT(
      ReadSecretFile(writable),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               AllOf(HasSubstr("mode 0602 lets every user change"), Not(HasSubstr("s3cret")))));
}

TEST(SecretFileTest, EmptyMissingAndOversizedFilesAreErrorsNamingThePath) {
  hat::testing::TempDir dir;
  const std::string empty = WriteSecret(dir, " \n", 0600);
  EXPECT_THAT(ReadSecretFile(empty),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(empty + ": holds no secret")));
  EXPECT_THAT(ReadSecretFile(dir.File("absent.token")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.token")));
  const std::string big = WriteSecret(dir, std::string(5000, 'x'), 0600);
  EXPECT_THAT(ReadSecretFile(big),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("larger than the limit")));
}

}  // namespace
}  // namespace hat
