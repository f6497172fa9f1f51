// GatedSyncStore: a KvStore whose Sync() waits at a gate the test opens, so that a test can hold
// a sync "on the disk" for as long as it needs to look at what happens meanwhile.
#ifndef HATFLEET_TESTS_SUPPORT_GATED_SYNC_STORE_H_
#define HATFLEET_TESTS_SUPPORT_GATED_SYNC_STORE_H_

#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/storage/kv_store.h"

namespace hat::testing {

class GatedSyncStore : public KvStoreWrapper {
 public:
  using KvStoreWrapper::KvStoreWrapper;

  void CloseGate() {
    absl::MutexLock lock(&mu_);
    open_ = false;
  }
  void OpenGate() {
    absl::MutexLock lock(&mu_);
    open_ = true;
  }
  // Blocks until `n` syncs have begun (counting those that went through an open gate); false
  // when that has not happened within `watchdog` (a code path that never syncs fails, not hangs).
  bool WaitForSyncs(int n, absl::Duration watchdog = absl::Seconds(60)) {
    absl::MutexLock lock(&mu_);
    want_ = n;
    return mu_.AwaitWithTimeout(absl::Condition(this, &GatedSyncStore::Reached), watchdog);
  }
  int syncs() {
    absl::MutexLock lock(&mu_);
    return syncs_;
  }

  absl::Status Sync() override {
    {
      absl::MutexLock lock(&mu_);
      ++syncs_;
      mu_.Await(absl::Condition(&open_));
    }
    return base()->Sync();
  }

 private:
  bool Reached() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return syncs_ >= want_; }

  absl::Mutex mu_;
  bool open_ ABSL_GUARDED_BY(mu_) = true;
  int syncs_ ABSL_GUARDED_BY(mu_) = 0;
  int want_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_SUPPORT_GATED_SYNC_STORE_H_
