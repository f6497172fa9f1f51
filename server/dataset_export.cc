// Dataset export formats; see dataset_export.h.
#include "server/dataset_export.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/config_io.h"
#include "common/features.h"
#include "common/proto_conversions.h"
#include "common/status_macros.h"
#include "measure/measure_proto.h"

namespace hat {

absl::StatusOr<std::string> ExportHatCsv(const std::vector<v1::MeasurementResult>& rows) {
  std::string out;
  for (const char* name : HatFeatureNames()) absl::StrAppend(&out, name, ",");
  absl::StrAppend(&out,
                  "latency_mean_encoder,latency_mean_decoder,latency_std_encoder,"
                  "latency_std_decoder\n");
  for (const v1::MeasurementResult& r : rows) {
    HAT_ASSIGN_OR_RETURN(SubTransformerConfig config, FromProto(r.config().config()));
    for (double f : HatFeatures(config)) absl::StrAppend(&out, absl::StrFormat("%.17g", f), ",");
    const bool hat = r.protocol().preset() == v1::PROTOCOL_PRESET_HAT;
    auto center = [&](const v1::LatencyStats& s) {
      return ReportedLatencyMs(s, r.protocol().preset());
    };
    auto spread = [&](const v1::LatencyStats& s) { return hat ? s.trimmed_std_ms() : s.std_ms(); };
    absl::StrAppend(
        &out, absl::StrFormat("%.17g,%.17g,%.17g,%.17g\n", center(r.encoder()), center(r.decoder()),
                              spread(r.encoder()), spread(r.decoder())));
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
