// Fitness caches; see fitness_cache.h.
#include "search/fitness_cache.h"

#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace hat {
namespace {

class MemoryFitnessCache : public FitnessCache {
 public:
  absl::StatusOr<std::optional<double>> Get(const std::string& fitness,
                                            const std::string& config_key) override {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = losses_.find({fitness, config_key});
    if (it == losses_.end()) return std::optional<double>();
    return std::optional<double>(it->second);
  }
  absl::Status Put(const std::string& fitness, const std::string& config_key,
                   double loss) override {
    std::lock_guard<std::mutex> lock(mu_);
    losses_[{fitness, config_key}] = loss;
    return absl::OkStatus();
  }

 protected:
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, double> losses_;
};

// The memory cache, loaded from and appended to a JSON-lines file:
//   {"fitness": "...", "config": "<canonical key>", "loss": 4.21}
class FileFitnessCache : public MemoryFitnessCache {
 public:
  explicit FileFitnessCache(std::string path) : path_(std::move(path)) {}

  absl::Status Load() {
    std::ifstream in(path_);
    if (!in) return absl::OkStatus();  // a new cache
    std::string line;
    std::vector<std::string> lines;
    while (std::getline(in, line)) lines.push_back(line);
    const bool last_complete = EndsWithNewline();
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].empty()) continue;
      nlohmann::json j = nlohmann::json::parse(lines[i], nullptr, false);
      const bool ok = j.is_object() && j.contains("fitness") && j["fitness"].is_string() &&
                      j.contains("config") && j["config"].is_string() && j.contains("loss") &&
                      j["loss"].is_number();
      if (!ok) {
        if (i + 1 == lines.size() && !last_complete) break;  // cut short by a crash
        return absl::DataLossError(absl::StrCat(path_, ":", i + 1, ": not a fitness cache line"));
      }
      losses_[{j["fitness"].get<std::string>(), j["config"].get<std::string>()}] =
          j["loss"].get<double>();
    }
    return absl::OkStatus();
  }

  absl::Status Put(const std::string& fitness, const std::string& config_key,
                   double loss) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::ofstream out(path_, std::ios::app);
    out << nlohmann::json{{"fitness", fitness}, {"config", config_key}, {"loss", loss}}.dump()
        << "\n";
    out.flush();
    if (!out) return absl::UnavailableError(absl::StrCat(path_, ": cannot append"));
    losses_[{fitness, config_key}] = loss;
    return absl::OkStatus();
  }

 private:
  bool EndsWithNewline() const {
    std::ifstream in(path_, std::ios::binary | std::ios::ate);
    if (!in || in.tellg() == 0) return true;
    in.seekg(-1, std::ios::end);
    return in.get() == '\n';
  }
  std::string path_;
};

}  // namespace

std::unique_ptr<FitnessCache> NewMemoryFitnessCache() {
  return std::make_unique<MemoryFitnessCache>();
}

absl::StatusOr<std::unique_ptr<FitnessCache>> OpenFileFitnessCache(const std::string& path) {
  auto cache = std::make_unique<FileFitnessCache>(path);
  HAT_RETURN_IF_ERROR(cache->Load());
  return std::unique_ptr<FitnessCache>(std::move(cache));
}

absl::StatusOr<std::vector<double>> CachedFitness::Evaluate(
    const std::vector<SubTransformerConfig>& configs) {
  const std::string fitness = evaluator_->Identity();
  std::vector<double> losses(configs.size(), 0);
  // Distinct unknown configs, each evaluated once; `wanted` maps each back to its positions.
  std::map<std::string, std::vector<size_t>> wanted;
  std::vector<SubTransformerConfig> missing;
  std::vector<std::string> missing_keys;
  for (size_t i = 0; i < configs.size(); ++i) {
    const std::string key = CanonicalKey(configs[i]);
    auto pending = wanted.find(key);
    if (pending != wanted.end()) {
      pending->second.push_back(i);
      ++cache_hits_;
      continue;
    }
    HAT_ASSIGN_OR_RETURN(std::optional<double> cached, cache_->Get(fitness, key));
    if (cached) {
      losses[i] = *cached;
      ++cache_hits_;
      continue;
    }
    wanted[key].push_back(i);
    missing.push_back(configs[i]);
    missing_keys.push_back(key);
  }
  if (missing.empty()) return losses;
  HAT_ASSIGN_OR_RETURN(std::vector<double> computed, evaluator_->Evaluate(missing));
  if (computed.size() != missing.size()) {
    return absl::InternalError(
        absl::StrCat("fitness: ", computed.size(), " losses for ", missing.size(), " configs"));
  }
  evaluations_ += static_cast<int64_t>(missing.size());
  for (size_t m = 0; m < missing.size(); ++m) {
    HAT_RETURN_IF_ERROR(cache_->Put(fitness, missing_keys[m], computed[m]));
    for (size_t i : wanted[missing_keys[m]]) losses[i] = computed[m];
  }
  return losses;
}

}  // namespace hat
