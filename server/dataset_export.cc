// Dataset export formats; see dataset_export.h.
#include "server/dataset_export.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/config_io.h"
#include "common/features.h"
#include "common/median.h"
#include "common/proto_conversions.h"
#include "common/status_macros.h"
#include "measure/measure_proto.h"
#include "predictor/repeated_measurements.h"

namespace hat {
namespace {

using google::protobuf::util::TimeUtil;

}  // namespace

absl::StatusOr<LatencyRecord> RecordFromMeasurement(const v1::MeasurementResult& r) {
  HAT_ASSIGN_OR_RETURN(SubTransformerConfig config, FromProto(r.config().config()));
  LatencyRecord record;
  record.hat_features = HatFeatures(config);
  record.encoder_ms = ReportedLatencyMs(r.encoder(), r.protocol().preset());
  record.decoder_ms = ReportedLatencyMs(r.decoder(), r.protocol().preset());
  record.config_key = CanonicalKey(config);
  record.started_at_ms = TimeUtil::TimestampToMilliseconds(r.started_at());
  return record;
}

absl::StatusOr<std::string> ExportHatCsv(const std::vector<v1::MeasurementResult>& rows) {
  LatencyDataset dataset;
  // Per config key: the spreads of its measurements (encoder, decoder).
  std::unordered_map<std::string, std::pair<std::vector<double>, std::vector<double>>> spreads;
  for (const v1::MeasurementResult& r : rows) {
    HAT_ASSIGN_OR_RETURN(LatencyRecord record, RecordFromMeasurement(r));
    const bool hat = r.protocol().preset() == v1::PROTOCOL_PRESET_HAT;
    auto spread = [&](const v1::LatencyStats& s) { return hat ? s.trimmed_std_ms() : s.std_ms(); };
    auto& [encoder, decoder] = spreads[record.config_key];
    encoder.push_back(spread(r.encoder()));
    decoder.push_back(spread(r.decoder()));
    dataset.rows.push_back(std::move(record));
  }
  CombineRepeatedMeasurements(&dataset);

  std::string out;
  for (const char* name : HatFeatureNames()) absl::StrAppend(&out, name, ",");
  absl::StrAppend(&out,
                  "latency_mean_encoder,latency_mean_decoder,latency_std_encoder,"
                  "latency_std_decoder\n");
  for (const LatencyRecord& row : dataset.rows) {
    for (double f : row.hat_features) absl::StrAppend(&out, absl::StrFormat("%.17g", f), ",");
    auto& [encoder, decoder] = spreads.at(row.config_key);
    absl::StrAppend(&out,
                    absl::StrFormat("%.17g,%.17g,%.17g,%.17g\n", row.encoder_ms, row.decoder_ms,
                                    Median(std::move(encoder)), Median(std::move(decoder))));
  }
  return out;
}

absl::StatusOr<std::string> ExportFullJsonLines(const std::vector<v1::MeasurementResult>& rows) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  for (const v1::MeasurementResult& r : rows) {
    std::string json;
    if (!google::protobuf::util::MessageToJsonString(r, &json, options).ok()) {
      return absl::InternalError(absl::StrCat("cannot print measurement of ", r.task_id()));
    }
    nlohmann::json row = nlohmann::json::parse(json);
    HAT_ASSIGN_OR_RETURN(SubTransformerConfig config, FromProto(r.config().config()));
    row["config"] = ConfigToJsonValue(config);
    row["canonical_key"] = CanonicalKey(config);
    nlohmann::json features;
    const auto values = HatFeatures(config);
    for (int i = 0; i < kNumHatFeatures; ++i) features[HatFeatureNames()[i]] = values[i];
    row["hat_features"] = features;
    absl::StrAppend(&out, row.dump(), "\n");
  }
  return out;
}

}  // namespace hat
