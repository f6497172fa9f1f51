// The stored per-device latency predictors (predictor-training jobs store them: see
// coordinator_server_jobs.cc).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "server/coordinator.h"
#include "server/coordinator_helpers.h"
#include "server/storage/record_codec.h"

namespace hat {

using coordinator_internal::CheckName;
using coordinator_internal::PredictorKey;

absl::StatusOr<v1::StoredPredictor> Coordinator::GetPredictor(const std::string& device_class,
                                                              int64_t version) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", device_class, false));
  if (version < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("version=", version, ": must be >= 1 (0: the latest)"));
  }
  if (version == 0) {
    absl::MutexLock lock(&mu_);
    auto latest = latest_predictor_.find(device_class);
    if (latest == latest_predictor_.end()) {
      return absl::NotFoundError(absl::StrCat("no predictor for device class '", device_class,
                                              "' yet: submit a predictor-training job"));
    }
    version = latest->second;
  }
  HAT_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                       store_->Get(Table::kPredictors, PredictorKey(device_class, version)));
  if (!bytes) {
    return absl::NotFoundError(
        absl::StrCat("device class '", device_class, "' has no predictor version ", version));
  }
  v1::StoredPredictor stored;
  HAT_RETURN_IF_ERROR(
      DecodeRecord(*bytes, "predictor " + PredictorKey(device_class, version), &stored));
  return stored;
}

absl::StatusOr<v1::ListPredictorsResponse> Coordinator::ListPredictors(
    const std::string& device_class) {
  HAT_RETURN_IF_ERROR(CheckName("device_class", device_class, true));
  v1::ListPredictorsResponse resp;
  absl::Status decode;
  HAT_RETURN_IF_ERROR(store_->Scan(Table::kPredictors,
                                   device_class.empty() ? "" : device_class + "/",
                                   [&](const std::string& k, const std::string& v) {
                                     v1::StoredPredictor* p = resp.add_predictors();
                                     decode = DecodeRecord(v, "predictor " + k, p);
                                     p->mutable_predictor()->clear_mlp();
                                     p->mutable_predictor()->clear_linear_members();
                                     return decode.ok();
                                   }));
  HAT_RETURN_IF_ERROR(decode);
  return resp;
}

}  // namespace hat
