// One suite for every KvStore: memory and RocksDB behave the same; RocksDB keeps what it
// acknowledged across reopening; fault injection fails writes without applying them.
#include "server/storage/kv_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::Pair;

class KvStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "memory") {
      store_ = NewMemoryStore();
    } else {
      auto s = OpenRocksDbStore(dir_.File("db"));
      ASSERT_TRUE(s.ok()) << s.status();
      store_ = *std::move(s);
    }
  }
  std::vector<std::pair<std::string, std::string>> ScanAll(Table t, const std::string& prefix) {
    std::vector<std::pair<std::string, std::string>> rows;
    EXPECT_THAT(store_->Scan(t, prefix,
                             [&](const std::string& k, const std::string& v) {
                               rows.emplace_back(k, v);
                               return true;
                             }),
                IsOk());
    return rows;
  }
  hat::testing::TempDir dir_;
  std::unique_ptr<KvStore> store_;
};

TEST_P(KvStoreTest, PutGetDelete) {
  WriteBatch b;
  b.Put(Table::kJobs, "job-1", "a");
  b.Put(Table::kTasks, "job-1", "other table");
  ASSERT_THAT(store_->Write(b), IsOk());
  ASSERT_OK_AND_ASSIGN(auto v, store_->Get(Table::kJobs, "job-1"));
  EXPECT_EQ(v, std::optional<std::string>("a"));
  ASSERT_OK_AND_ASSIGN(auto other, store_->Get(Table::kTasks, "job-1"));
  EXPECT_EQ(other, std::optional<std::string>("other table"));
  WriteBatch d;
  d.Delete(Table::kJobs, "job-1");
  ASSERT_THAT(store_->Write(d), IsOk());
  ASSERT_OK_AND_ASSIGN(auto gone, store_->Get(Table::kJobs, "job-1"));
  EXPECT_FALSE(gone.has_value());
}

TEST_P(KvStoreTest, ScanIsOrderedAndBoundedByPrefix) {
  WriteBatch b;
  for (const char* k : {"rpi4/j2/000001", "rpi4/j1/000002", "rpi4/j1/000001", "rpi40/x", "rpi/y"}) {
    b.Put(Table::kMeasurements, k, k);
  }
  ASSERT_THAT(store_->Write(b), IsOk());
  std::vector<std::string> keys;
  for (const auto& [k, v] : ScanAll(Table::kMeasurements, "rpi4/")) keys.push_back(k);
  EXPECT_THAT(keys, ElementsAre("rpi4/j1/000001", "rpi4/j1/000002", "rpi4/j2/000001"));
  int seen = 0;
  ASSERT_THAT(store_->Scan(Table::kMeasurements, "",
                           [&](const std::string&, const std::string&) { return ++seen < 2; }),
              IsOk());
  EXPECT_EQ(seen, 2) << "returning false stops the scan";
}

TEST_P(KvStoreTest, BatchesAreAppliedWhole) {
  WriteBatch b;
  b.Put(Table::kMeta, "k", "1");
  b.Put(Table::kMeta, "k", "2");  // later ops win
  b.Delete(Table::kMeta, "never-there");
  ASSERT_THAT(store_->Write(b), IsOk());
  EXPECT_THAT(ScanAll(Table::kMeta, ""), ElementsAre(Pair("k", "2")));
}

TEST_P(KvStoreTest, BufferedWritesAreVisibleLikeSyncOnes) {
  WriteBatch b;
  b.Put(Table::kTasks, "job-1/000000", "leased");
  ASSERT_THAT(store_->Write(b, Durability::kBuffered), IsOk());
  ASSERT_OK_AND_ASSIGN(auto v, store_->Get(Table::kTasks, "job-1/000000"));
  EXPECT_EQ(v, std::optional<std::string>("leased"));
}

TEST_P(KvStoreTest, FaultInjectionFailsWithoutApplying) {
  FaultInjectingStore faulty(std::move(store_));
  faulty.FailWritesAfter(1);
  WriteBatch first, second;
  first.Put(Table::kJobs, "a", "1");
  second.Put(Table::kJobs, "b", "2");
  ASSERT_THAT(faulty.Write(first), IsOk());
  EXPECT_THAT(faulty.Write(second), StatusIs(absl::StatusCode::kUnavailable, ::testing::_));
  ASSERT_OK_AND_ASSIGN(auto b, faulty.Get(Table::kJobs, "b"));
  EXPECT_FALSE(b.has_value());
  faulty.Heal();
  EXPECT_THAT(faulty.Write(second), IsOk());
}

TEST_P(KvStoreTest, InjectedSyncFailuresLetWritesThroughButFailTheirSync) {
  FaultInjectingStore faulty(std::move(store_));
  WriteBatch b;
  b.Put(Table::kJobs, "a", "1");
  ASSERT_THAT(faulty.Write(b, Durability::kBuffered), IsOk());
  EXPECT_THAT(faulty.Sync(), IsOk());
  faulty.FailSyncs();
  // As after fsync's EIO: the write is in the store, its durability is not.
  EXPECT_THAT(faulty.Write(b),
              StatusIs(absl::StatusCode::kDataLoss, ::testing::HasSubstr("injected sync failure")));
  EXPECT_THAT(faulty.Sync(), StatusIs(absl::StatusCode::kDataLoss, ::testing::_));
  ASSERT_OK_AND_ASSIGN(auto a, faulty.Get(Table::kJobs, "a"));
  EXPECT_EQ(a, std::optional<std::string>("1"));
}

INSTANTIATE_TEST_SUITE_P(Stores, KvStoreTest, ::testing::Values("memory", "rocksdb"));

TEST(RocksDbStoreTest, AcknowledgedWritesSurviveReopening) {
  hat::testing::TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStore(dir.File("db")));
    WriteBatch b;
    b.Put(Table::kMeasurements, "c/j/1", "kept");
    ASSERT_THAT(store->Write(b), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStore(dir.File("db")));
  ASSERT_OK_AND_ASSIGN(auto v, store->Get(Table::kMeasurements, "c/j/1"));
  EXPECT_EQ(v, std::optional<std::string>("kept"));
}

TEST(RocksDbStoreTest, BufferedWritesThenASyncSurviveReopening) {
  hat::testing::TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStore(dir.File("db")));
    for (int i = 0; i < 3; ++i) {
      WriteBatch b;
      b.Put(Table::kMeasurements, "c/j/" + std::to_string(i), "kept");
      ASSERT_THAT(store->Write(b, Durability::kBuffered), IsOk());
    }
    ASSERT_THAT(store->Sync(), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStore(dir.File("db")));
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto v, store->Get(Table::kMeasurements, "c/j/" + std::to_string(i)));
    EXPECT_EQ(v, std::optional<std::string>("kept")) << i;
  }
}

TEST(RocksDbStoreTest, SecondOpenOfALockedStoreIsAClearError) {
  hat::testing::TempDir dir;
  ASSERT_OK_AND_ASSIGN(auto first, OpenRocksDbStore(dir.File("db")));
  EXPECT_THAT(OpenRocksDbStore(dir.File("db")),
              StatusIs(absl::StatusCode::kUnavailable, ::testing::HasSubstr("lock")));
}

}  // namespace
}  // namespace hat
