// Memory store, fault injection and table names.
#include "server/storage/kv_store.h"

#include <iterator>
#include <map>
#include <mutex>

namespace hat {

const char* TableName(Table table) {
  switch (table) {
    case Table::kMeta:
      return "meta";
    case Table::kAgents:
      return "agents";
    case Table::kJobs:
      return "jobs";
    case Table::kTasks:
      return "tasks";
    case Table::kMeasurements:
      return "measurements";
    case Table::kPredictors:
      return "predictors";
    case Table::kJobCheckpoints:
      return "job_checkpoints";
    case Table::kArtifacts:
      return "artifacts";
    case Table::kFitness:
      return "fitness";
  }
  return "?";
}

namespace {

class MemoryStore : public KvStore {
 public:
  absl::Status Write(const WriteBatch& batch, Durability) override {
    std::lock_guard<std::mutex> lock(mu_);
    for (const WriteBatch::Op& op : batch.ops()) {
      auto& table = tables_[static_cast<int>(op.table)];
      if (op.value) {
        table[op.key] = *op.value;
      } else {
        table.erase(op.key);
      }
    }
    return absl::OkStatus();
  }

  absl::Status Sync() override { return absl::OkStatus(); }  // memory: nothing to make durable

  absl::StatusOr<std::optional<std::string>> Get(Table t, const std::string& key) override {
    std::lock_guard<std::mutex> lock(mu_);
    const auto& table = tables_[static_cast<int>(t)];
    auto it = table.find(key);
    if (it == table.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  absl::Status Scan(
      Table t, const std::string& prefix,
      const std::function<bool(const std::string&, const std::string&)>& fn) override {
    // Copy the range first so `fn` may call back into the store.
    std::vector<std::pair<std::string, std::string>> rows;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const auto& table = tables_[static_cast<int>(t)];
      for (auto it = table.lower_bound(prefix);
           it != table.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        rows.emplace_back(it->first, it->second);
      }
    }
    for (const auto& [k, v] : rows) {
      if (!fn(k, v)) break;
    }
    return absl::OkStatus();
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::string> tables_[std::size(kAllTables)];
};

}  // namespace

std::unique_ptr<KvStore> NewMemoryStore() { return std::make_unique<MemoryStore>(); }

absl::Status FaultInjectingStore::Write(const WriteBatch& batch, Durability durability) {
  int left = writes_left_.load();
  while (left > 0 && !writes_left_.compare_exchange_weak(left, left - 1)) {
  }
  if (left == 0) return absl::UnavailableError("injected storage failure");
  if (durability == Durability::kSync && fail_syncs_) {
    absl::Status written = base()->Write(batch, Durability::kBuffered);
    return written.ok() ? Sync() : written;
  }
  return base()->Write(batch, durability);
}

absl::Status FaultInjectingStore::Sync() {
  if (fail_syncs_) return absl::DataLossError("injected sync failure (fsync: I/O error)");
  return base()->Sync();
}

}  // namespace hat
