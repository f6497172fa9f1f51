// Latency datasets for predictor training: one row per measurement as read (a config measured
// several times appears several times; CombineRepeatedMeasurements makes it one row).
//
// Two file formats are read:
//   - HAT's CSV (`hat-csv`): the 10 HAT feature columns, then latency_mean_encoder,
//     latency_mean_decoder, latency_std_encoder, latency_std_decoder (ms) — HAT's published
//     datasets and `hatctl dataset export --format hat-csv`.
//   - hatfleet's full JSON lines (`full`): `hatctl dataset export --format full`, every per-layer
//     choice with the measurement protocol; rows with an `error` are skipped, and so are rows
//     measured on a throttled device unless asked for.
#ifndef HATFLEET_PREDICTOR_LATENCY_RECORDS_H_
#define HATFLEET_PREDICTOR_LATENCY_RECORDS_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cost_model.h"
#include "common/features.h"

namespace hat {

// One measurement (or, after CombineRepeatedMeasurements, one config).
struct LatencyRecord {
  std::array<double, kNumHatFeatures> hat_features{};
  double encoder_ms = 0;
  double decoder_ms = 0;
  double total_ms() const { return encoder_ms + decoder_ms; }
  // The config's canonical key and when its measurement started (Unix ms); empty and 0 where
  // the source does not say (HAT's CSV). Repeated measurements are recognised by the key.
  std::string config_key;
  int64_t started_at_ms = 0;
};

struct LatencyDataset {
  std::vector<LatencyRecord> rows;
  // Set by CombineRepeatedMeasurements (predictor/repeated_measurements.h): the measurements
  // the rows came from, and how many of them were corrected for host drift.
  int measurements = 0;
  int drift_corrected = 0;
  // Measurements the reader left out because the device was throttled (full format).
  int throttled_left_out = 0;
  // The measured workload, when the file says (full format); HAT's CSV does not record it.
  bool has_shape = false;
  CostShape shape;
};

enum class LatencyFileFormat { kHatCsv, kFull };

// "hat-csv" or "full"; INVALID_ARGUMENT names the accepted values.
absl::StatusOr<LatencyFileFormat> ParseLatencyFileFormat(const std::string& name);

// Parsers of file contents; `source` (the file name) prefixes every error, with the line number.
// Latencies must be finite and positive, features finite; a file without rows is an error.
absl::StatusOr<LatencyDataset> ParseHatCsv(const std::string& text, const std::string& source);
// Rows whose condition says throttled are left out (and counted) unless `include_throttled`.
absl::StatusOr<LatencyDataset> ParseFullJsonLines(const std::string& text,
                                                  const std::string& source,
                                                  bool include_throttled = false);

absl::StatusOr<LatencyDataset> LoadLatencyDataset(const std::string& path, LatencyFileFormat format,
                                                  bool include_throttled = false);

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_LATENCY_RECORDS_H_
