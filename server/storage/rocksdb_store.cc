// The RocksDB-backed KvStore: one column family per table, synchronous writes.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include "absl/strings/str_cat.h"
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

class RocksDbStore : public KvStore {
 public:
  RocksDbStore(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : db_(std::move(db)), handles_(std::move(handles)) {}

  ~RocksDbStore() override {
    for (rocksdb::ColumnFamilyHandle* h : handles_) db_->DestroyColumnFamilyHandle(h);
    db_->Close().PermitUncheckedError();
  }

  absl::Status Write(const WriteBatch& batch, Durability durability) override {
    rocksdb::WriteBatch wb;
    for (const WriteBatch::Op& op : batch.ops()) {
      rocksdb::Status s = op.value ? wb.Put(Handle(op.table), op.key, *op.value)
                                   : wb.Delete(Handle(op.table), op.key);
      if (!s.ok()) return FromRocks(s, "write batch");
    }
    rocksdb::WriteOptions options;
    options.sync = durability == Durability::kSync;  // kSync: durable before any acknowledgement
    return FromRocks(db_->Write(options, &wb), "write");
  }

  absl::StatusOr<std::optional<std::string>> Get(Table table, const std::string& key) override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Handle(table), key, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return FromRocks(s, absl::StrCat("get ", TableName(table), "/", key));
    return std::optional<std::string>(std::move(value));
  }

  absl::Status Scan(
      Table table, const std::string& prefix,
      const std::function<bool(const std::string&, const std::string&)>& fn) override {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), Handle(table)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (!fn(it->key().ToString(), it->value().ToString())) break;
    }
    return FromRocks(it->status(), absl::StrCat("scan ", TableName(table)));
  }

 private:
  rocksdb::ColumnFamilyHandle* Handle(Table t) { return handles_[static_cast<int>(t) + 1]; }

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // [0] = default, then kAllTables order
};

}  // namespace

absl::StatusOr<std::unique_ptr<KvStore>> OpenRocksDbStore(const std::string& dir) {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.max_open_files = 256;
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()}};
  for (Table t : kAllTables) families.push_back({TableName(t), rocksdb::ColumnFamilyOptions()});
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(options, dir, families, &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening store in ", dir));
  return std::unique_ptr<KvStore>(new RocksDbStore(std::unique_ptr<rocksdb::DB>(raw), handles));
}

}  // namespace hat
