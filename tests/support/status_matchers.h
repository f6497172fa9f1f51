// GoogleTest matchers for absl::Status / absl::StatusOr (Debian's Abseil ships none):
//   EXPECT_THAT(s, IsOk());
//   EXPECT_THAT(statusor, IsOkAndHolds(ElementsAre(1, 2)));
//   EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("encoder")));
//   ASSERT_OK_AND_ASSIGN(auto x, Foo());
//   ASSERT_OK(Bar());  EXPECT_OK(Bar());
#ifndef HATFLEET_TESTS_SUPPORT_STATUS_MATCHERS_H_
#define HATFLEET_TESTS_SUPPORT_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hat::testing {

inline const absl::Status& GetStatus(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& GetStatus(const absl::StatusOr<T>& s) {
  return s.status();
}

MATCHER(IsOk, "is OK") {
  const absl::Status& s = GetStatus(arg);
  if (!s.ok()) *result_listener << "status is " << s;
  return s.ok();
}

MATCHER_P(IsOkAndHolds, value_matcher, "is OK and holds a matching value") {
  if (!arg.ok()) {
    *result_listener << "status is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

MATCHER_P2(StatusIs, code, message_matcher, "has the code and a matching message") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code && ::testing::Matches(message_matcher)(std::string(s.message()));
}

MATCHER_P(StatusIs, code, "has the code") {
  const absl::Status& s = GetStatus(arg);
  *result_listener << "status is " << s;
  return s.code() == code;
}

}  // namespace hat::testing

#define ASSERT_OK(expr) ASSERT_THAT(expr, ::hat::testing::IsOk())
#define EXPECT_OK(expr) EXPECT_THAT(expr, ::hat::testing::IsOk())

#define HAT_TEST_CONCAT_INNER_(a, b) a##b
#define HAT_TEST_CONCAT_(a, b) HAT_TEST_CONCAT_INNER_(a, b)
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(HAT_TEST_CONCAT_(statusor_, __LINE__), lhs, expr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                               \
  ASSERT_TRUE(statusor.ok()) << statusor.status();      \
  lhs = std::move(*statusor)

#endif  // HATFLEET_TESTS_SUPPORT_STATUS_MATCHERS_H_
