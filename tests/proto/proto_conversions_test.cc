// common/ values survive the trip through hat.v1 messages, and bad messages are refused.
#include "common/proto_conversions.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/builtin_spaces.h"
#include "common/sampling.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ProtoConversionsTest, DesignSpacesRoundTrip) {
  for (const std::string& name : BuiltinSpaceNames()) {
    const DesignSpace space = *BuiltinSpace(name);
    v1::DesignSpace proto;
    ToProto(space, &proto);
    EXPECT_EQ(proto.super().qkv_dim(), space.super.qkv_dim);
    EXPECT_EQ(proto.choices().decoder_layer_num_size(),
              static_cast<int>(space.Choices(Gene::kDecoderLayerNum).size()));
    // Through the wire format, not just the object.
    v1::DesignSpace parsed;
    ASSERT_TRUE(parsed.ParseFromString(proto.SerializeAsString()));
    ASSERT_OK_AND_ASSIGN(DesignSpace back, FromProto(parsed));
    EXPECT_EQ(back, space) << name;
  }
}

TEST(ProtoConversionsTest, ConfigsRoundTripWithIdentity) {
  const DesignSpace space = *BuiltinSpace("hat-wmt14-en-de");
  for (const SubTransformerConfig& config : SampleConfigs(space, 30, 4)) {
    v1::KeyedConfig keyed;
    ToProto(config, &keyed);
    EXPECT_EQ(keyed.canonical_key(), CanonicalKey(config));
    EXPECT_EQ(keyed.config_id(), ConfigId(config));
    EXPECT_EQ(keyed.config().decoder().arbitrary_ende_attn_size(), 6);
    ASSERT_OK_AND_ASSIGN(SubTransformerConfig back, FromProto(keyed.config()));
    EXPECT_EQ(back, config);
  }
}

TEST(ProtoConversionsTest, InvalidMessagesAreRefused) {
  v1::DesignSpace space;
  ToProto(*BuiltinSpace("tiny"), &space);
  space.mutable_choices()->set_encoder_ffn_embed_dim(0, 4096);
  EXPECT_THAT(FromProto(space),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("design_space: choices.encoder_ffn_embed_dim[0]=4096")));

  v1::SubTransformerConfig config;
  config.mutable_encoder()->set_layer_num(6);
  config.mutable_encoder()->set_embed_dim(512);
  config.mutable_decoder()->set_layer_num(1);
  EXPECT_THAT(FromProto(config),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("config: encoder_ffn_embed_dim: has 0 entries but "
                                 "encoder_layer_num=6")));
  for (int i = 0; i < 5000; ++i) config.mutable_encoder()->add_ffn_embed_dim(1024);
  EXPECT_THAT(FromProto(config),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than 4096")));
}

}  // namespace
}  // namespace hat
