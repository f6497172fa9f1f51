// Latency datasets for predictor training: one row per measured SubTransformer.
//
// Two file formats are read:
//   - HAT's CSV (`hat-csv`): the 10 HAT feature columns, then latency_mean_encoder,
//     latency_mean_decoder, latency_std_encoder, latency_std_decoder (ms) — HAT's published
//     datasets and `hatctl dataset export --format hat-csv`.
//   - hatfleet's full JSON lines (`full`): `hatctl dataset export --format full`, every per-layer
//     choice with the measurement protocol; rows with an `error` are skipped.
#ifndef HATFLEET_PREDICTOR_LATENCY_RECORDS_H_
#define HATFLEET_PREDICTOR_LATENCY_RECORDS_H_

#include <array>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cost_model.h"
#include "common/features.h"

namespace hat {

struct LatencyRecord {
  std::array<double, kNumHatFeatures> hat_features{};
  double encoder_ms = 0;
  double decoder_ms = 0;
  double total_ms() const { return encoder_ms + decoder_ms; }
};

struct LatencyDataset {
  std::vector<LatencyRecord> rows;
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
absl::StatusOr<LatencyDataset> ParseFullJsonLines(const std::string& text,
                                                  const std::string& source);

absl::StatusOr<LatencyDataset> LoadLatencyDataset(const std::string& path,
                                                  LatencyFileFormat format);

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_LATENCY_RECORDS_H_
