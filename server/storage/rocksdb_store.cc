// The RocksDB-backed KvStore: one column family per table, synchronous writes or WAL syncs, and
// recovery from a full disk by reopening.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>
#include <sys/statvfs.h>

#include <atomic>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/status_macros.h"
#include "server/storage/kv_store.h"

namespace hat {
namespace {

absl::Status FromRocks(const rocksdb::Status& s, absl::string_view what) {
  if (s.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(what, ": RocksDB: ", s.ToString());
  if (s.IsIOError() || s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) {
    return absl::UnavailableError(message);
  }
  if (s.IsCorruption()) return absl::DataLossError(message);
  if (s.IsInvalidArgument() || s.IsNotSupported()) return absl::InvalidArgumentError(message);
  return absl::InternalError(message);
}

// An open RocksDB instance and its column family handles ([0] = default, then kAllTables order).
struct OpenDb {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ~OpenDb() {
    if (db == nullptr) return;  // DB::Open failed
    for (rocksdb::ColumnFamilyHandle* h : handles) db->DestroyColumnFamilyHandle(h);
    db->Close().PermitUncheckedError();
  }
};

absl::StatusOr<std::unique_ptr<OpenDb>> OpenDbIn(const std::string& dir) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.max_open_files = 256;
  // Opening must not need much disk: the WAL's data stays in memtables (and the WAL) instead of
  // being flushed to a new table file at once. A store reopened after its disk filled up (below)
  // then opens with little space free.
  options.avoid_flush_during_recovery = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}};
  for (Table t : kAllTables) families.push_back({TableName(t), rocksdb::ColumnFamilyOptions()});
  auto open = std::make_unique<OpenDb>();
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &open->handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening store in ", dir));
  open->db.reset(raw);
  return open;
}

// Free bytes for unprivileged writers on the file system holding `dir`; -1 when unknown.
int64_t FreeBytes(const std::string& dir) {
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.f_bavail) * static_cast<int64_t>(st.f_frsize);
}

// A store refuses writes once below this much free space after a write failed for lack of it.
constexpr int64_t kFreeBytesToResume = 8 << 20;

class RocksDbStore : public KvStore {
 public:
  RocksDbStore(std::string dir, std::unique_ptr<OpenDb> open)
      : dir_(std::move(dir)), open_(std::move(open)) {}

  absl::Status Write(const WriteBatch& batch, Durability durability) override {
    HAT_RETURN_IF_ERROR(ReopenAfterFailedWrite());
    absl::ReaderMutexLock lock(&mu_);
    if (open_ == nullptr) return Closed();
    rocksdb::WriteBatch wb;
    for (const WriteBatch::Op& op : batch.ops()) {
      rocksdb::Status s = op.value ? wb.Put(Handle(op.table), op.key, *op.value)
                                   : wb.Delete(Handle(op.table), op.key);
      if (!s.ok()) return FromRocks(s, "write batch");
    }
    rocksdb::WriteOptions options;
    options.sync = durability == Durability::kSync;  // kSync: durable before any acknowledgement
    const rocksdb::Status s = open_->db->Write(options, &wb);
    if (s.IsIOError()) {
      failed_write_ = true;
      if (s.IsNoSpace() || s.ToString().find("No space left") != std::string::npos) {
        return absl::UnavailableError(absl::StrCat(
            "the disk holding the store (", dir_,
            ") is full; the write was not acknowledged (RocksDB: ", s.ToString(), ")"));
      }
    }
    return FromRocks(s, "write");
  }

  absl::Status Sync() override {
    // After a failed write (a full disk) RocksDB works again only reopened, which replays the
    // WAL: once there is room, the sync reopens it like a write would (callers that only wait
    // for durability, such as retried reports, must not wait for someone else's write).
    // UNAVAILABLE while the disk is still full: not synced yet, nothing lost, try again.
    HAT_RETURN_IF_ERROR(ReopenAfterFailedWrite());
    absl::ReaderMutexLock lock(&mu_);
    if (open_ == nullptr) return Closed();
    // RocksDB syncs the WAL up to its last record, concurrent writers go on meanwhile.
    const rocksdb::Status s = open_->db->SyncWAL();
    if (s.IsIOError()) {
      // fsync failed: what it was to write may be gone from the page cache. Nothing since the
      // last good sync can be vouched for (GroupCommit stops acknowledging).
      failed_write_ = true;
      return absl::DataLossError(absl::StrCat("syncing the WAL: RocksDB: ", s.ToString()));
    }
    return FromRocks(s, "syncing the WAL");
  }

  absl::StatusOr<std::optional<std::string>> Get(Table table, const std::string& key) override {
    absl::ReaderMutexLock lock(&mu_);
    if (open_ == nullptr) return Closed();
    std::string value;
    rocksdb::Status s = open_->db->Get(rocksdb::ReadOptions(), Handle(table), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, absl::StrCat("get ", TableName(table), "/", key));
    return std::optional<std::string>(std::move(value));
  }

  absl::Status Scan(
      Table table, const std::string& prefix,
      const std::function<bool(const std::string&, const std::string&)>& fn) override {
    absl::ReaderMutexLock lock(&mu_);
    if (open_ == nullptr) return Closed();
    std::unique_ptr<rocksdb::Iterator> it(
        open_->db->NewIterator(rocksdb::ReadOptions(), Handle(table)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (!fn(it->key().ToString(), it->value().ToString())) break;
    }
    return FromRocks(it->status(), absl::StrCat("scan ", TableName(table)));
  }

 private:
  // After a write failed with an I/O error (a full disk), RocksDB refuses further writes, and the
  // RocksDB 7.8 of Debian bookworm cannot resume in place: DB::Resume() reports success but the
  // WAL's writer keeps its error (facebook/rocksdb#11643, fixed in 9.4), and the next write
  // aborts the process on an assertion. So the store is closed and opened again instead, once
  // the disk has room; reads go on meanwhile. Nothing acknowledged is lost: the writes before the
  // failed one are in the WAL, which the reopened store replays. The failed write was not
  // acknowledged; should its WAL record have reached the disk all the same, it is replayed too,
  // and the caller's retry finds it done (reports and submissions are idempotent).
  absl::Status ReopenAfterFailedWrite() ABSL_LOCKS_EXCLUDED(mu_) {
    if (!failed_write_) return absl::OkStatus();
    absl::WriterMutexLock lock(&mu_);
    if (!failed_write_) return absl::OkStatus();  // another writer reopened it
    const int64_t free_bytes = FreeBytes(dir_);
    if (free_bytes >= 0 && free_bytes < kFreeBytesToResume) {
      return absl::UnavailableError(
          absl::StrCat("the disk holding the store (", dir_, ") is full (", free_bytes / 1024,
                       " KiB free; writes resume at ", kFreeBytesToResume >> 20,
                       " MiB); the write was not acknowledged"));
    }
    if (open_ != nullptr) {
      // Closing must not flush memtables: that writes through the failed WAL writer.
      open_->db->SetDBOptions({{"avoid_flush_during_shutdown", "true"}}).PermitUncheckedError();
      open_.reset();
    }
    absl::StatusOr<std::unique_ptr<OpenDb>> reopened = OpenDbIn(dir_);
    if (!reopened.ok()) {
      reopen_error_ = reopened.status().ToString();
      return absl::UnavailableError(
          absl::StrCat("reopening the store after a failed write: ", reopen_error_));
    }
    open_ = *std::move(reopened);
    failed_write_ = false;
    return absl::OkStatus();
  }

  absl::Status Closed() const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return absl::UnavailableError(absl::StrCat("the store is closed after a failed write (",
                                               reopen_error_, "); it reopens on the next write"));
  }

  rocksdb::ColumnFamilyHandle* Handle(Table t) ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return open_->handles[static_cast<int>(t) + 1];
  }

  const std::string dir_;
  std::atomic<bool> failed_write_{false};
  absl::Mutex mu_;  // shared by every operation; held exclusively to reopen
  std::unique_ptr<OpenDb> open_ ABSL_GUARDED_BY(mu_);
  std::string reopen_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDbStore(const std::string& dir) {
  HAT_ASSIGN_OR_RETURN(std::unique_ptr<OpenDb> open, OpenDbIn(dir));
  return std::unique_ptr<KvStore>(new RocksDbStore(dir, std::move(open)));
}

}  // namespace hat
