// Data-parallel groups over c10d's TCPStore and ProcessGroupGloo; see data_parallel.h.
#include "train/data_parallel.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include "absl/strings/str_cat.h"

namespace hat {
namespace {

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

}  // namespace

struct DataParallelGroup::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

DataParallelGroup::DataParallelGroup(DistributedOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}

DataParallelGroup::~DataParallelGroup() = default;

absl::StatusOr<std::unique_ptr<DataParallelGroup>> DataParallelGroup::Join(
    const DistributedOptions& options) {
  if (absl::Status s = options.Validate(); !s.ok()) return s;
  std::string host;
  int port = 0;
  SplitHostPort(options.master, &host, &port);
  auto impl = std::make_unique<Impl>();
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(port);
    store_options.isServer = options.rank == 0;
    store_options.numWorkers = options.world_size;
    store_options.waitWorkers = true;
    store_options.timeout = Millis(options.timeout_s);
    impl->store = c10::make_intrusive<c10d::TCPStore>(host, store_options);
    auto group_options = c10d::ProcessGroupGloo::Options::create(Millis(options.timeout_s));
    // The address the other ranks reach this one at: loopback when the group is on one machine;
    // else the interface GLOO_SOCKET_IFNAME names (as torchrun reads it), or this machine's own
    // hostname. (Not the master's: a rank on another machine cannot bind that address.)
    const bool loopback = host == "localhost" || host.rfind("127.", 0) == 0;
    const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
    group_options->devices.push_back(
        loopback ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
        : interface != nullptr && *interface != '\0'
            ? c10d::ProcessGroupGloo::createDeviceForInterface(interface)
            : c10d::ProcessGroupGloo::createDefaultDevice());
    group_options->threads = 1;
    impl->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, options.rank,
                                                              options.world_size, group_options);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("rank ", options.rank, " of ", options.world_size,
                                               ": joining the group at ", options.master,
                                               " failed: ", e.what()));
  }
  return std::unique_ptr<DataParallelGroup>(new DataParallelGroup(options, std::move(impl)));
}

absl::Status DataParallelGroup::Failure(const std::string& what, const std::string& error) const {
  // c10d's messages run to stack traces: the first line says what happened.
  const std::string first_line = error.substr(0, error.find('\n'));
  return absl::UnavailableError(
      absl::StrCat("rank ", rank(), " of ", world_size(), ": ", what,
                   " failed (a rank died, hung or left): ", first_line.substr(0, 500)));
}

absl::Status DataParallelGroup::AllReduceSum(const std::vector<at::Tensor>& tensors,
                                             const std::string& what) {
  if (tensors.empty()) return absl::OkStatus();
  try {
    std::vector<at::Tensor> flat_list;
    flat_list.reserve(tensors.size());
    for (const at::Tensor& t : tensors) flat_list.push_back(t.detach().reshape({-1}));
    std::vector<at::Tensor> flat = {at::cat(flat_list)};
    impl_->group->allreduce(flat)->wait();
    int64_t offset = 0;
    for (const at::Tensor& t : tensors) {
      const int64_t n = t.numel();
      t.detach().copy_(flat[0].narrow(0, offset, n).view(t.sizes()));
      offset += n;
    }
  } catch (const std::exception& e) {
    return Failure(what, e.what());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> DataParallelGroup::ShareBytes(const std::string& key,
                                                          const std::string& bytes, int root) {
  try {
    if (rank() == root) {
      impl_->store->set(key, std::vector<uint8_t>(bytes.begin(), bytes.end()));
      return bytes;
    }
    const std::vector<uint8_t> got = impl_->store->get(key);  // waits up to the timeout
    return std::string(got.begin(), got.end());
  } catch (const std::exception& e) {
    return Failure(absl::StrCat("sharing '", key, "' from rank ", root), e.what());
  }
}

}  // namespace hat
