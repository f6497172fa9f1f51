// The hand-written grpc.health.v1.HealthCheckResponse reader behind `hatctl health`.
#include "cli/health_command.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace hat::cli {
namespace {

using ::hat::testing::StatusIs;

TEST(HealthCheckResponseTest, ReadsEveryStatusTheServiceSends) {
  // Proto3 leaves status 0 out: an empty message is UNKNOWN.
  EXPECT_EQ(*ParseHealthCheckResponse(""), "UNKNOWN");
  EXPECT_EQ(*ParseHealthCheckResponse(std::string("\x08\x01", 2)), "SERVING");
  EXPECT_EQ(*ParseHealthCheckResponse(std::string("\x08\x02", 2)), "NOT_SERVING");
  EXPECT_EQ(*ParseHealthCheckResponse(std::string("\x08\x03", 2)), "SERVICE_UNKNOWN");
}

TEST(HealthCheckResponseTest, RefusesWhatIsNotAResponse) {
  EXPECT_THAT(ParseHealthCheckResponse("\x12\x01x"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHealthCheckResponse(std::string("\x08", 1)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseHealthCheckResponse(std::string("\x08\x07", 2)),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace hat::cli
