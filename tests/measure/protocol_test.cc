// Measurement protocol presets and validation.
#include "measure/protocol.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ProtocolTest, HatPresetIsHatsProtocol) {
  const MeasurementProtocol p = MeasurementProtocol::Hat();
  EXPECT_EQ(p.source_tokens, 30);
  EXPECT_EQ(p.decoder_steps, 30);
  EXPECT_EQ(p.beam, 5);
  EXPECT_EQ(p.warmup_runs, 5);
  EXPECT_EQ(p.min_runs, 20);
  EXPECT_EQ(p.max_runs, 20);
  EXPECT_THAT(p.Validate(), IsOk());
  EXPECT_THAT(MeasurementProtocol::Default().Validate(), IsOk());
}

TEST(ProtocolTest, NamesRoundTrip) {
  for (const char* name : {"hat", "default"}) {
    ASSERT_OK_AND_ASSIGN(MeasurementProtocol p, MeasurementProtocol::FromName(name));
    EXPECT_EQ(p.Name(), name);
  }
  EXPECT_THAT(MeasurementProtocol::FromName("fast"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'fast' is unknown")));
}

TEST(ProtocolTest, OutOfRangeFieldsAreNamed) {
  MeasurementProtocol p;
  p.beam = 0;
  EXPECT_THAT(p.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("protocol.beam=0: must be in [1, 64]")));
  p = MeasurementProtocol();
  p.max_runs = p.min_runs - 1;
  EXPECT_THAT(p.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("protocol.max_runs")));
  p = MeasurementProtocol();
  p.target_rse = -0.1;
  EXPECT_THAT(p.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("protocol.target_rse")));
  p = MeasurementProtocol();
  p.time_budget_s = 10;
  p.min_time_s = 11;  // could never be met
  EXPECT_THAT(p.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("protocol.min_time_s=11: must be in [0, 10]")));
}

}  // namespace
}  // namespace hat
