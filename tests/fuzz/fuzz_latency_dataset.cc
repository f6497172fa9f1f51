// Latency datasets: HAT's CSV and hatfleet's full JSON lines (one stored measurement a line),
// chosen by the first byte. Property: every accepted row has finite features and finite,
// positive latencies, as the readers promise.
#include <cmath>

#include "predictor/latency_records.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  const absl::StatusOr<hat::LatencyDataset> dataset =
      data[0] % 3 == 0 ? hat::ParseHatCsv(text, "fuzz.csv")
                       : hat::ParseFullJsonLines(text, "fuzz.jsonl", data[0] % 3 == 2);
  if (!dataset.ok()) {
    FUZZ_CHECK(!dataset.status().message().empty(), "a refusal says why");
    return 0;
  }
  FUZZ_CHECK(!dataset->rows.empty(), "an accepted dataset has rows");
  for (const hat::LatencyRecord& row : dataset->rows) {
    for (double f : row.hat_features) FUZZ_CHECK(std::isfinite(f), "features are finite");
    FUZZ_CHECK(std::isfinite(row.encoder_ms) && std::isfinite(row.decoder_ms),
               "latencies are finite");
    FUZZ_CHECK(row.total_ms() > 0, "latencies are positive");
  }
  return 0;
}
