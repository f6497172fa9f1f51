// Latency datasets out of the store: HAT's CSV (what HAT's predictor trains on) and a full
// format with every per-layer choice, statistic, raw sample and the hardware (JSON lines).
#ifndef HATFLEET_SERVER_DATASET_EXPORT_H_
#define HATFLEET_SERVER_DATASET_EXPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hat/v1/measurement.pb.h"

namespace hat {

// Header: HAT's 10 feature columns, then latency_mean_encoder, latency_mean_decoder,
// latency_std_encoder, latency_std_decoder (ms). "Mean" is the protocol's statistic: HAT's
// trimmed mean under the HAT preset, the median under the adaptive default; "std" likewise the
// trimmed or the plain sample standard deviation.
absl::StatusOr<std::string> ExportHatCsv(const std::vector<v1::MeasurementResult>& rows);

// One JSON object per line: the stored result (snake_case fields) plus "config" in HAT's
// config-dict form and "hat_features".
absl::StatusOr<std::string> ExportFullJsonLines(const std::vector<v1::MeasurementResult>& rows);

}  // namespace hat

#endif  // HATFLEET_SERVER_DATASET_EXPORT_H_
