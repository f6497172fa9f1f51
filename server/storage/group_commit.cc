// Group commit; see group_commit.h.
#include "server/storage/group_commit.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace hat {

uint64_t GroupCommit::Written() {
  absl::MutexLock lock(&mu_);
  return ++written_;
}

uint64_t GroupCommit::Newest() const {
  absl::MutexLock lock(&mu_);
  return written_;
}

absl::Status GroupCommit::WaitDurable(uint64_t ticket) {
  absl::MutexLock lock(&mu_);
  while (durable_ < ticket) {
    if (!broken_.ok()) return broken_;
    // The last sync covering this write failed: it is not acknowledged (the caller retries).
    if (ticket > failed_after_ && ticket <= failed_upto_) return failed_;
    if (syncing_) {
      synced_.Wait(&mu_);
      continue;
    }
    // This caller syncs for everyone: for every write that has a ticket now (each returned
    // before its ticket was taken, so the sync covers it).
    syncing_ = true;
    const uint64_t covers = written_;
    ++syncs_;
    mu_.Unlock();
    const absl::Status synced = store_->Sync();
    mu_.Lock();
    syncing_ = false;
    if (synced.ok()) {
      durable_ = std::max(durable_, covers);
    } else if (synced.code() == absl::StatusCode::kDataLoss) {
      broken_ = absl::UnavailableError(
          absl::StrCat("the store could not make writes durable (", synced.message(),
                       "); nothing written since is acknowledged: restart hat-server, which "
                       "recovers from what its disk holds"));
    } else {
      failed_ = synced;
      failed_after_ = durable_;
      failed_upto_ = covers;
    }
    synced_.SignalAll();
  }
  return absl::OkStatus();
}

absl::Status GroupCommit::Broken() const {
  absl::MutexLock lock(&mu_);
  return broken_;
}

GroupCommit::Stats GroupCommit::stats() const {
  absl::MutexLock lock(&mu_);
  return {written_, syncs_};
}

}  // namespace hat
