// GroupCommit: one WAL sync acknowledges a group of writes.
//
// A writer applies its batch with Durability::kBuffered while it holds the lock that orders its
// writes (the coordinator's), takes a ticket with Written() before releasing that lock, and then,
// without the lock, waits in WaitDurable(ticket). The first waiter to find no sync running starts
// one for every write issued so far; the writers that arrive while it runs wait for the next one,
// which covers all of them. So under load a single fsync stands for many writes, and no lock is
// held while the disk works (LevelDB's and RocksDB's group commit, one level up).
//
// A sync that fails with DATA_LOSS (fsync reported an I/O error) fails every write it covered,
// and every later one: the operating system may have dropped the pages it could not write, so
// nothing buffered since the last good sync can be vouched for (PostgreSQL's lesson from
// "fsyncgate"). The owner refuses further writes (Broken()) until the process restarts and
// recovers from what the disk holds. Any other failure (the store is reopening after a full
// disk: UNAVAILABLE) fails the writes that sync covered, which are not acknowledged and retried,
// and the next sync tries again.
//
// Thread safety: all methods may be called concurrently.
#ifndef HATFLEET_SERVER_STORAGE_GROUP_COMMIT_H_
#define HATFLEET_SERVER_STORAGE_GROUP_COMMIT_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "server/storage/kv_store.h"

namespace hat {

class GroupCommit {
 public:
  explicit GroupCommit(KvStore* store) : store_(store) {}

  // The ticket of a kBuffered write that has just returned OK; call it before the lock ordering
  // the writes is released, so that tickets follow the order of the writes.
  uint64_t Written();
  // The ticket of the newest write so far: waiting for it makes everything already visible durable
  // (for answers that report state some other call wrote, such as "already stored").
  uint64_t Newest() const;
  // Blocks until a sync that began after write `ticket` returned has succeeded. The sync's error
  // when the sync covering it failed; UNAVAILABLE when the store broke before.
  absl::Status WaitDurable(uint64_t ticket);
  // Not OK once a sync failed: the reason, for refusing further writes.
  absl::Status Broken() const;

  struct Stats {
    uint64_t writes = 0;  // tickets taken
    uint64_t syncs = 0;   // Sync() calls made
  };
  Stats stats() const;

 private:
  KvStore* const store_;
  mutable absl::Mutex mu_;
  absl::CondVar synced_;                       // a sync ended
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;  // the newest ticket
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;  // every ticket up to this one is durable
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status broken_ ABSL_GUARDED_BY(mu_);
  // The newest sync that failed without breaking the store, and the tickets it covered.
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  uint64_t failed_upto_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_after_ ABSL_GUARDED_BY(mu_) = 0;  // durable_ when it failed
};

}  // namespace hat

#endif  // HATFLEET_SERVER_STORAGE_GROUP_COMMIT_H_
