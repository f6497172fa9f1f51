// Latency datasets out of the store: HAT's CSV (what HAT's predictor trains on) and a full
// format with every per-layer choice, statistic, raw sample and the hardware (JSON lines).
#ifndef HATFLEET_SERVER_DATASET_EXPORT_H_
#define HATFLEET_SERVER_DATASET_EXPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "hat/v1/measurement.pb.h"
#include "predictor/latency_records.h"

namespace hat {

// A stored measurement as a predictor's dataset row: HAT's features of its config, encoder and
// decoder by the protocol's statistic, the config's key and the measurement's start time.
absl::StatusOr<LatencyRecord> RecordFromMeasurement(const v1::MeasurementResult& measurement);

// Header: HAT's 10 feature columns, then latency_mean_encoder, latency_mean_decoder,
// latency_std_encoder, latency_std_decoder (ms). "Mean" is the protocol's statistic: HAT's
// trimmed mean under the HAT preset, the median under the adaptive default; "std" likewise the
// trimmed or the plain sample standard deviation. One row per config, as predictors train on
// it: a config measured more than once (repeats) is one row, its latencies corrected for host
// drift and combined (predictor/repeated_measurements.h), its std the median of the repeats'.
// The full format keeps every measurement.
absl::StatusOr<std::string> ExportHatCsv(const std::vector<v1::MeasurementResult>& rows);

// One JSON object per line: the stored result (snake_case fields) plus "config" in HAT's
// config-dict form and "hat_features".
absl::StatusOr<std::string> ExportFullJsonLines(const std::vector<v1::MeasurementResult>& rows);

}  // namespace hat

#endif  // HATFLEET_SERVER_DATASET_EXPORT_H_
