// Conversions between common/ values and hat.v1 protocol messages. The only place that knows
// both; servers and clients convert at their edge and work with the C++ values inside.
#ifndef HATFLEET_COMMON_PROTO_CONVERSIONS_H_
#define HATFLEET_COMMON_PROTO_CONVERSIONS_H_

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"
#include "hat/v1/design_space.pb.h"
#include "hat/v1/subtransformer.pb.h"

namespace hat {

void ToProto(const DesignSpace& space, v1::DesignSpace* out);
// Validates the space; errors name the field.
absl::StatusOr<DesignSpace> FromProto(const v1::DesignSpace& proto);

void ToProto(const SubTransformerConfig& config, v1::SubTransformerConfig* out);
// Checks the shape (ValidateConfigShape); membership in a space is the caller's check.
absl::StatusOr<SubTransformerConfig> FromProto(const v1::SubTransformerConfig& proto);

// The config with its canonical key and id.
void ToProto(const SubTransformerConfig& config, v1::KeyedConfig* out);

}  // namespace hat

#endif  // HATFLEET_COMMON_PROTO_CONVERSIONS_H_
