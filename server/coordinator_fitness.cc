// The search's fitness cache in the store: every validation loss a search computed, keyed by the
// fitness (SuperTransformer checksum and validation subset) and the config's canonical key, so
// that no config is evaluated twice for the same SuperTransformer, within a job or across jobs.
// Losses are written once and never change: no coordinator lock is needed.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "server/coordinator.h"
#include "server/coordinator_helpers.h"

namespace hat {
namespace {

// "<first 32 hex digits of SHA-256(fitness)>/<canonical key>": fixed-width, so one fitness's
// entries are one prefix.
std::string FitnessKey(const std::string& fitness, const std::string& config_key) {
  Sha256 sha;
  sha.Update(fitness);
  return absl::StrCat(sha.HexDigest().substr(0, 32), "/", config_key);
}

}  // namespace

absl::StatusOr<std::optional<double>> Coordinator::GetFitness(const std::string& fitness,
                                                              const std::string& config_key) {
  HAT_ASSIGN_OR_RETURN(std::optional<std::string> bytes,
                       store_->Get(Table::kFitness, FitnessKey(fitness, config_key)));
  if (!bytes) return std::optional<double>();
  double loss = 0;
  if (bytes->size() != sizeof(loss)) {
    return absl::DataLossError(absl::StrCat("fitness ", config_key, ": a record of ", bytes->size(),
                                            " bytes, expected ", sizeof(loss)));
  }
  std::memcpy(&loss, bytes->data(), sizeof(loss));
  return std::optional<double>(loss);
}

absl::Status Coordinator::PutFitness(const std::string& fitness, const std::string& config_key,
                                     double loss) {
  WriteBatch batch;
  batch.Put(Table::kFitness, FitnessKey(fitness, config_key),
            std::string(reinterpret_cast<const char*>(&loss), sizeof(loss)));
  // Buffered: a loss lost to a power cut is only computed again.
  return Annotate(store_->Write(batch, Durability::kBuffered), "storage");
}

}  // namespace hat
