// DataParallelGroup: the ranks of one data-parallel training run, over LibTorch's distributed
// package (c10d): a TCPStore for the rendezvous (rank 0 serves it at the master address) and a
// Gloo process group for the collectives, both from libtorch_cpu. On one machine or several.
//
// Every call is collective: each rank makes the same calls in the same order with tensors of the
// same shapes. A rank that dies or hangs makes the others' next collective fail after
// `timeout_s` (or at once when its connection closes) with UNAVAILABLE naming the operation;
// no exception escapes (c10::Error is caught here).
#ifndef HATFLEET_TRAIN_DATA_PARALLEL_H_
#define HATFLEET_TRAIN_DATA_PARALLEL_H_

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "train/distributed_options.h"

namespace hat {

class DataParallelGroup {
 public:
  // Rendezvous: blocks until all world_size ranks have joined (or timeout_s passes).
  static absl::StatusOr<std::unique_ptr<DataParallelGroup>> Join(const DistributedOptions& options);
  ~DataParallelGroup();

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }

  // Sums the tensors over the ranks, in place; `what` names the operation in errors. The tensors
  // travel as one flat buffer (one collective, whatever their number).
  absl::Status AllReduceSum(const std::vector<at::Tensor>& tensors, const std::string& what);
  // Rank `root`'s bytes on every rank (through the store: checkpoints, results).
  absl::StatusOr<std::string> ShareBytes(const std::string& key, const std::string& bytes,
                                         int root);

 private:
  struct Impl;
  DataParallelGroup(DistributedOptions options, std::unique_ptr<Impl> impl);
  absl::Status Failure(const std::string& what, const std::string& error) const;

  DistributedOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hat

#endif  // HATFLEET_TRAIN_DATA_PARALLEL_H_
