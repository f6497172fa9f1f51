// Conversions between measure/ values and hat.v1 messages (protocol, statistics, hardware).
#ifndef HATFLEET_MEASURE_MEASURE_PROTO_H_
#define HATFLEET_MEASURE_MEASURE_PROTO_H_

#include "absl/status/statusor.h"
#include "hat/v1/measurement.pb.h"
#include "measure/device_condition.h"
#include "measure/hardware.h"
#include "measure/latency_stats.h"
#include "measure/protocol.h"
#include "measure/timed_workload.h"

namespace hat {

void ToProto(const MeasurementProtocol& protocol, v1::MeasurementProtocol* out);
// An unset message (preset UNSPECIFIED and no fields) is the default protocol; the result is
// validated and errors name the field.
absl::StatusOr<MeasurementProtocol> FromProto(const v1::MeasurementProtocol& proto);

void ToProto(const LatencyStats& stats, v1::LatencyStats* out);
void ToProto(const HardwareInfo& hw, v1::Hardware* out);
void ToProto(const DeviceCondition& condition, v1::DeviceCondition* out);
v1::TimingMethod ToProto(TimingMethod method);

// The statistic a protocol reports for one component (what total_ms adds up): HAT's trimmed mean
// under the HAT preset, the median under the adaptive one.
double ReportedLatencyMs(const v1::LatencyStats& stats, v1::ProtocolPreset preset);

}  // namespace hat

#endif  // HATFLEET_MEASURE_MEASURE_PROTO_H_
