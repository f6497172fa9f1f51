// FitnessCache: validation losses already computed, keyed by (fitness identity, canonical config
// key), so that no config is evaluated twice for the same SuperTransformer and validation subset,
// within a search or across searches. Two stores: memory, and a JSON-lines file that the local
// `hatctl search run` keeps next to its output (appended as losses arrive, so a killed run loses
// nothing it computed). hat-server keeps its cache in RocksDB behind the same interface.
#ifndef HATFLEET_SEARCH_FITNESS_CACHE_H_
#define HATFLEET_SEARCH_FITNESS_CACHE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/subtransformer_config.h"
#include "search/search_interfaces.h"

namespace hat {

class FitnessCache {
 public:
  virtual ~FitnessCache() = default;
  virtual absl::StatusOr<std::optional<double>> Get(const std::string& fitness,
                                                    const std::string& config_key) = 0;
  virtual absl::Status Put(const std::string& fitness, const std::string& config_key,
                           double loss) = 0;
};

std::unique_ptr<FitnessCache> NewMemoryFitnessCache();

// Opens (creating if absent) a JSON-lines cache file; a last line cut short by a crash is
// ignored, any other malformed line is DATA_LOSS naming the file and line.
absl::StatusOr<std::unique_ptr<FitnessCache>> OpenFileFitnessCache(const std::string& path);

// An evaluator that asks `cache` first and evaluates only the configs it does not know (each
// distinct config once per call), storing what it computed.
class CachedFitness {
 public:
  CachedFitness(FitnessEvaluator* evaluator, FitnessCache* cache)
      : evaluator_(evaluator), cache_(cache) {}

  absl::StatusOr<std::vector<double>> Evaluate(const std::vector<SubTransformerConfig>& configs);

  int64_t evaluations() const { return evaluations_; }  // configs the evaluator computed
  int64_t cache_hits() const { return cache_hits_; }    // configs answered by the cache

 private:
  FitnessEvaluator* evaluator_;
  FitnessCache* cache_;
  int64_t evaluations_ = 0;
  int64_t cache_hits_ = 0;
};

}  // namespace hat

#endif  // HATFLEET_SEARCH_FITNESS_CACHE_H_
