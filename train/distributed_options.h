// DistributedOptions: where a data-parallel training rank finds its group (train/data_parallel.h),
// from flags or torchrun's environment variables. No LibTorch here: the trainer's options hold it.
#ifndef HATFLEET_TRAIN_DISTRIBUTED_OPTIONS_H_
#define HATFLEET_TRAIN_DISTRIBUTED_OPTIONS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace hat {

struct DistributedOptions {
  int world_size = 1;
  int rank = 0;
  // HOST:PORT where rank 0 serves the rendezvous store (the others connect to it).
  std::string master = "127.0.0.1:29500";
  double timeout_s = 300;  // rendezvous and each collective

  bool enabled() const { return world_size > 1; }
  // This rank's place in the group as `hatctl supernet train` flags (--world-size, --rank,
  // --master), for the processes that start other ranks.
  std::vector<std::string> Flags() const;
  // INVALID_ARGUMENT naming the field.
  absl::Status Validate() const;
  // From torchrun's environment variables (WORLD_SIZE, RANK, MASTER_ADDR, MASTER_PORT), for the
  // fields they set, with a Kubernetes indexed Job's JOB_COMPLETION_INDEX as the rank when RANK
  // is unset; `options` otherwise. INVALID_ARGUMENT for a malformed value.
  static absl::StatusOr<DistributedOptions> FromEnvironment(DistributedOptions options);
};

// HOST:PORT split at the last colon; false when malformed (no host, port outside 1-65535).
bool SplitHostPort(const std::string& text, std::string* host, int* port);

}  // namespace hat

#endif  // HATFLEET_TRAIN_DISTRIBUTED_OPTIONS_H_
