// Latency dataset parsers; see latency_records.h.
#include "predictor/latency_records.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "common/config_io.h"
#include "common/file_util.h"
#include "common/status_macros.h"

namespace hat {
namespace {

constexpr const char* kHatCsvLatencyColumns[] = {"latency_mean_encoder", "latency_mean_decoder",
                                                 "latency_std_encoder", "latency_std_decoder"};
constexpr int kHatCsvColumns = kNumHatFeatures + 4;

absl::Status CheckLatency(double ms, const std::string& where, const char* what) {
  if (!std::isfinite(ms) || ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", what, "=", ms, ": a latency must be a positive number of ms"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LatencyFileFormat> ParseLatencyFileFormat(const std::string& name) {
  if (name == "hat-csv") return LatencyFileFormat::kHatCsv;
  if (name == "full") return LatencyFileFormat::kFull;
  return absl::InvalidArgumentError(absl::StrCat(
      "--format=", name, ": expected hat-csv (HAT's CSV) or full (hatfleet JSON lines)"));
}

absl::StatusOr<LatencyDataset> ParseHatCsv(const std::string& text, const std::string& source) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  // The header must name HAT's columns in HAT's order: a file with columns in another order
  // would otherwise train a predictor on the wrong features without any sign.
  std::vector<std::string> expected;
  for (const char* name : HatFeatureNames()) expected.emplace_back(name);
  for (const char* name : kHatCsvLatencyColumns) expected.emplace_back(name);
  if (lines.empty() || absl::StripAsciiWhitespace(lines[0]).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": empty file (expected HAT's CSV)"));
  }
  const std::vector<std::string> header = absl::StrSplit(absl::StripAsciiWhitespace(lines[0]), ',');
  if (header != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": line 1: header is not HAT's latency CSV header; expected: ",
                     absl::StrJoin(expected, ",")));
  }
  LatencyDataset dataset;
  for (size_t i = 1; i < lines.size(); ++i) {
    const absl::string_view line = absl::StripAsciiWhitespace(lines[i]);
    if (line.empty()) continue;
    const std::string where = absl::StrCat(source, ": line ", i + 1);
    const std::vector<absl::string_view> cells = absl::StrSplit(line, ',');
    if (static_cast<int>(cells.size()) != kHatCsvColumns) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", cells.size(), " columns, expected ", kHatCsvColumns));
    }
    double values[kHatCsvColumns];
    for (int c = 0; c < kHatCsvColumns; ++c) {
      if (!absl::SimpleAtod(cells[c], &values[c]) || !std::isfinite(values[c])) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": column ", expected[c], "='",
                                                       cells[c], "' is not a finite number"));
      }
    }
    LatencyRecord record;
    for (int c = 0; c < kNumHatFeatures; ++c) record.hat_features[c] = values[c];
    record.encoder_ms = values[kNumHatFeatures];
    record.decoder_ms = values[kNumHatFeatures + 1];
    HAT_RETURN_IF_ERROR(CheckLatency(record.encoder_ms, where, "latency_mean_encoder"));
    HAT_RETURN_IF_ERROR(CheckLatency(record.decoder_ms, where, "latency_mean_decoder"));
    dataset.rows.push_back(record);
  }
  if (dataset.rows.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no data rows after the header"));
  }
  return dataset;
}

absl::StatusOr<LatencyDataset> ParseFullJsonLines(const std::string& text,
                                                  const std::string& source,
                                                  bool include_throttled) {
  LatencyDataset dataset;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    const absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty()) continue;
    const std::string where = absl::StrCat(source, ": line ", line_number);
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!row.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": not a JSON object"));
    }
    if (row.contains("error") && row["error"].is_string() &&
        !row["error"].get<std::string>().empty()) {
      continue;  // the config could not be measured; nothing to learn from
    }
    if (!include_throttled && row.contains("condition") && row["condition"].is_object() &&
        row["condition"].value("throttled", false)) {
      ++dataset.throttled_left_out;
      continue;
    }
    for (const char* key : {"config", "encoder", "decoder", "protocol"}) {
      if (!row.contains(key) || !row[key].is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": missing object '", key, "'"));
      }
    }
    absl::StatusOr<ParsedConfig> parsed = ParseSubTransformerConfig(row["config"].dump());
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": config: ", parsed.status().message()));
    }
    HAT_RETURN_IF_ERROR(ValidateConfigShape(parsed->config));
    const nlohmann::json& protocol = row["protocol"];
    // The statistic the protocol reports: HAT's trimmed mean, or the adaptive median.
    const bool hat_preset = protocol.value("preset", std::string()) == "PROTOCOL_PRESET_HAT";
    const char* statistic = hat_preset ? "trimmed_mean_ms" : "median_ms";
    LatencyRecord record;
    record.hat_features = HatFeatures(parsed->config);
    record.config_key = CanonicalKey(parsed->config);
    if (row.contains("started_at") && row["started_at"].is_string()) {
      absl::Time started;
      std::string error;
      if (!absl::ParseTime(absl::RFC3339_full, row["started_at"].get<std::string>(), &started,
                           &error)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": started_at='", row["started_at"].get<std::string>().substr(0, 40),
            "' is not an RFC 3339 time: ", error));
      }
      record.started_at_ms = absl::ToUnixMillis(started);
    }
    for (auto [key, out] : {std::pair<const char*, double*>{"encoder", &record.encoder_ms},
                            std::pair<const char*, double*>{"decoder", &record.decoder_ms}}) {
      const nlohmann::json& stats = row[key];
      if (!stats.contains(statistic) || !stats[statistic].is_number()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": ", key, ".", statistic, " is missing or not a number"));
      }
      *out = stats[statistic].get<double>();
      HAT_RETURN_IF_ERROR(CheckLatency(*out, where, key));
    }
    const CostShape shape{protocol.value("source_tokens", 0), protocol.value("decoder_steps", 0),
                          protocol.value("beam", 0)};
    if (shape.source_tokens > 0 && shape.decoder_steps > 0 && shape.beam > 0) {
      if (dataset.has_shape && (shape.source_tokens != dataset.shape.source_tokens ||
                                shape.decoder_steps != dataset.shape.decoder_steps ||
                                shape.beam != dataset.shape.beam)) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ": measured with another workload (source_tokens/decoder_steps/beam ",
            shape.source_tokens, "/", shape.decoder_steps, "/", shape.beam, " vs ",
            dataset.shape.source_tokens, "/", dataset.shape.decoder_steps, "/", dataset.shape.beam,
            " earlier): one predictor predicts one workload"));
      }
      dataset.has_shape = true;
      dataset.shape = shape;
    }
    dataset.rows.push_back(record);
  }
  if (dataset.rows.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": no measured rows",
                     dataset.throttled_left_out > 0
                         ? absl::StrCat(" (", dataset.throttled_left_out,
                                        " throttled ones left out; --include-throttled takes them)")
                         : ""));
  }
  return dataset;
}

absl::StatusOr<LatencyDataset> LoadLatencyDataset(const std::string& path, LatencyFileFormat format,
                                                  bool include_throttled) {
  HAT_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, size_t{1} << 30));
  return format == LatencyFileFormat::kHatCsv ? ParseHatCsv(text, path)
                                              : ParseFullJsonLines(text, path, include_throttled);
}

}  // namespace hat
