// GroupCommit: one sync for the writes issued while another ran, and a failed sync that stops
// everything after it.
#include "server/storage/group_commit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/support/gated_sync_store.h"
#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::GatedSyncStore;
using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

TEST(GroupCommitTest, OneSyncAcknowledgesEveryWriteIssuedWhileTheLastOneRan) {
  GatedSyncStore store(NewMemoryStore());
  GroupCommit group(&store);
  store.CloseGate();
  const uint64_t first = group.Written();
  std::thread leader([&] { EXPECT_THAT(group.WaitDurable(first), IsOk()); });
  ASSERT_TRUE(store.WaitForSyncs(1));  // on the disk, covering the first write only
  const uint64_t second = group.Written();
  const uint64_t third = group.Written();
  std::thread a([&] { EXPECT_THAT(group.WaitDurable(second), IsOk()); });
  std::thread b([&] { EXPECT_THAT(group.WaitDurable(third), IsOk()); });
  store.OpenGate();
  leader.join();
  a.join();
  b.join();
  // One sync for the first write, one for the two that came while it ran (a sync per write
  // would make three).
  EXPECT_EQ(group.stats().writes, 3u);
  EXPECT_EQ(group.stats().syncs, 2u);
  EXPECT_EQ(store.syncs(), 2);
}

TEST(GroupCommitTest, AWriteAlreadyCoveredNeedsNoSync) {
  GatedSyncStore store(NewMemoryStore());
  GroupCommit group(&store);
  const uint64_t first = group.Written();
  const uint64_t second = group.Written();
  ASSERT_THAT(group.WaitDurable(second), IsOk());
  EXPECT_THAT(group.WaitDurable(first), IsOk());
  EXPECT_THAT(group.WaitDurable(0), IsOk());  // "nothing written yet" is durable
  EXPECT_EQ(store.syncs(), 1);
  // Alone, every write waits for its own sync: nothing is acknowledged before it is durable.
  EXPECT_THAT(group.WaitDurable(group.Written()), IsOk());
  EXPECT_EQ(store.syncs(), 2);
}

TEST(GroupCommitTest, AFailedSyncFailsItsWritesAndEveryLaterOne) {
  FaultInjectingStore store(NewMemoryStore());
  GroupCommit group(&store);
  ASSERT_THAT(group.WaitDurable(group.Written()), IsOk());
  EXPECT_THAT(group.Broken(), IsOk());
  store.FailSyncs();
  const uint64_t lost = group.Written();
  EXPECT_THAT(group.WaitDurable(lost),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("could not make writes durable (injected sync failure")));
  // (kv_store_test: the injected failure is DATA_LOSS, like fsync's EIO.)
  // The disk seems fine again, but what the failed sync held may be gone: nothing is vouched for.
  store.Heal();
  EXPECT_THAT(group.WaitDurable(group.Written()),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("restart hat-server")));
  EXPECT_THAT(group.Broken(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(group.stats().syncs, 2u);  // the good one and the failed one
}

// A store that cannot sync for now (reopening after a full disk) is no lost write: the writes
// that sync covered are not acknowledged, and the next sync makes them durable.
class SyncsLaterStore : public KvStoreWrapper {
 public:
  using KvStoreWrapper::KvStoreWrapper;
  absl::Status Sync() override {
    if (refuse_next_) {
      refuse_next_ = false;
      return absl::UnavailableError("the store reopens after a failed write");
    }
    return KvStoreWrapper::Sync();
  }
  bool refuse_next_ = true;
};

TEST(GroupCommitTest, ASyncTheStoreCannotDoNowFailsItsWritesButNotTheLaterOnes) {
  SyncsLaterStore store(NewMemoryStore());
  GroupCommit group(&store);
  const uint64_t first = group.Written();
  EXPECT_THAT(group.WaitDurable(first),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("reopens")));
  EXPECT_THAT(group.Broken(), IsOk());
  // Its retry: a later write's sync covers the first one too.
  EXPECT_THAT(group.WaitDurable(group.Written()), IsOk());
  EXPECT_THAT(group.WaitDurable(first), IsOk());
  EXPECT_EQ(group.stats().syncs, 2u);
}

}  // namespace
}  // namespace hat
