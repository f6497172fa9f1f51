// KvStore: the coordinator's durable key-value storage, in tables (RocksDB column families).
//
// Contract: Write() applies a batch atomically. With Durability::kSync (the default) it returns
// OK only once the batch is durable (RocksDB: WAL fsync'd, WriteOptions::sync = true); callers
// acknowledge nothing to a client before that. kBuffered returns once the batch is in the
// operating system's hands: it survives the process being killed, not the machine losing power.
// The coordinator uses it only for state that is safe to lose that way (lease bookkeeping: a
// lease that vanishes is simply handed out again, and reports are idempotent). Sync() makes every
// write that returned before it began durable: a kBuffered write followed by Sync() is durable
// like a kSync one, and one Sync() can stand for many writes (GroupCommit). Two implementations
// share one test suite: RocksDB for the server, memory for tests; FaultInjectingStore wraps either
// to fail writes and syncs on demand.
//
// Thread safety: all methods may be called concurrently.
#ifndef HATFLEET_SERVER_STORAGE_KV_STORE_H_
#define HATFLEET_SERVER_STORAGE_KV_STORE_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hat {

// Tables, one RocksDB column family each; the key layout is in docs/ARCHITECTURE.md.
enum class Table {
  kMeta,
  kAgents,
  kJobs,
  kTasks,
  kMeasurements,
  kPredictors,
  kJobCheckpoints,
  kArtifacts,
  kFitness
};
inline constexpr Table kAllTables[] = {
    Table::kMeta,           Table::kAgents,       Table::kJobs,
    Table::kTasks,          Table::kMeasurements, Table::kPredictors,
    Table::kJobCheckpoints, Table::kArtifacts,    Table::kFitness};
const char* TableName(Table table);

enum class Durability { kSync, kBuffered };

class WriteBatch {
 public:
  struct Op {
    Table table;
    std::string key;
    std::optional<std::string> value;  // nullopt = delete
  };
  void Put(Table table, std::string key, std::string value) {
    ops_.push_back({table, std::move(key), std::move(value)});
  }
  void Delete(Table table, std::string key) {
    ops_.push_back({table, std::move(key), std::nullopt});
  }
  const std::vector<Op>& ops() const { return ops_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<Op> ops_;
};

class KvStore {
 public:
  virtual ~KvStore() = default;
  // Atomic; durable before it returns OK when `durability` is kSync.
  virtual absl::Status Write(const WriteBatch& batch,
                             Durability durability = Durability::kSync) = 0;
  // Makes every write that returned before this call durable (RocksDB: the WAL fsync'd).
  // DATA_LOSS when fsync failed: nothing written since the last successful Sync() may be counted
  // on. UNAVAILABLE when the store cannot sync now (reopening after a full disk): try again.
  virtual absl::Status Sync() = 0;
  // nullopt when the key is absent.
  virtual absl::StatusOr<std::optional<std::string>> Get(Table table, const std::string& key) = 0;
  // Calls `fn` for every key starting with `prefix`, in key order, until it returns false.
  virtual absl::Status Scan(
      Table table, const std::string& prefix,
      const std::function<bool(const std::string& key, const std::string& value)>& fn) = 0;
};

// Opens (creating if needed) a RocksDB store in `dir`. UNAVAILABLE when the directory is locked
// by another process, with RocksDB's message.
absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDbStore(const std::string& dir);

std::unique_ptr<KvStore> NewMemoryStore();

// Forwards every call to a wrapped store (RocksDB's StackableDB): wrappers override what they
// change. `base` may be owned or, for a view of a store someone else owns, borrowed.
class KvStoreWrapper : public KvStore {
 public:
  explicit KvStoreWrapper(std::unique_ptr<KvStore> base) : owned_(std::move(base)) {
    base_ = owned_.get();
  }
  explicit KvStoreWrapper(KvStore* borrowed) : base_(borrowed) {}

  absl::Status Write(const WriteBatch& batch, Durability durability = Durability::kSync) override {
    return base_->Write(batch, durability);
  }
  absl::Status Sync() override { return base_->Sync(); }
  absl::StatusOr<std::optional<std::string>> Get(Table table, const std::string& key) override {
    return base_->Get(table, key);
  }
  absl::Status Scan(
      Table table, const std::string& prefix,
      const std::function<bool(const std::string&, const std::string&)>& fn) override {
    return base_->Scan(table, prefix, fn);
  }

 protected:
  KvStore* base() { return base_; }

 private:
  std::unique_ptr<KvStore> owned_;
  KvStore* base_ = nullptr;
};

// Wraps a store; after FailWritesAfter(n), the (n+1)-th and later writes fail UNAVAILABLE
// without touching the wrapped store; after FailSyncs(), every Sync() fails with DATA_LOSS (and
// so does every kSync write, which is a write and a sync) while the writes themselves reach the
// wrapped store, as when fsync reports an I/O error.
class FaultInjectingStore : public KvStoreWrapper {
 public:
  using KvStoreWrapper::KvStoreWrapper;
  void FailWritesAfter(int writes) { writes_left_ = writes; }
  void FailSyncs() { fail_syncs_ = true; }
  void Heal() {
    writes_left_ = -1;
    fail_syncs_ = false;
  }

  absl::Status Write(const WriteBatch& batch, Durability durability = Durability::kSync) override;
  absl::Status Sync() override;

 private:
  std::atomic<int> writes_left_{-1};  // -1: never fail
  std::atomic<bool> fail_syncs_{false};
};

}  // namespace hat

#endif  // HATFLEET_SERVER_STORAGE_KV_STORE_H_
