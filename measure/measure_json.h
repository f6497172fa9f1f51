// JSON forms of measurement results, as `hatctl measure --json` prints them and the server
// exports them.
#ifndef HATFLEET_MEASURE_MEASURE_JSON_H_
#define HATFLEET_MEASURE_MEASURE_JSON_H_

#include <nlohmann/json_fwd.hpp>

#include "measure/latency_stats.h"
#include "measure/measurer.h"
#include "measure/protocol.h"

namespace hat {

nlohmann::json LatencyStatsToJson(const LatencyStats& stats);  // raw samples included
nlohmann::json ProtocolToJson(const MeasurementProtocol& protocol);
// encoder_ms / decoder_ms are the protocol's statistic (HAT: trimmed mean; default: median).
nlohmann::json MeasurementToJson(const ConfigMeasurement& m, const MeasurementProtocol& protocol);

}  // namespace hat

#endif  // HATFLEET_MEASURE_MEASURE_JSON_H_
