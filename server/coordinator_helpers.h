// Small helpers shared by the coordinator's source files (coordinator*.cc), not part of its API.
#ifndef HATFLEET_SERVER_COORDINATOR_HELPERS_H_
#define HATFLEET_SERVER_COORDINATOR_HELPERS_H_

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace hat::coordinator_internal {

// Device classes, host groups and ids: 1-64 characters of [A-Za-z0-9._-], so they are safe in
// storage keys (which use '/') and in file names. INVALID_ARGUMENT naming `field` otherwise.
absl::Status CheckName(const std::string& field, const std::string& value, bool allow_empty);

google::protobuf::Timestamp Stamp(int64_t unix_ms);

// A task's storage key: its job id and its index, zero-padded so that tasks sort in order.
std::string TaskKey(const std::string& job_id, int index);

// A lease's id: its task's key and the task's attempt number ("job-000001/000003#2"). Reports and
// heartbeats name it, so the coordinator can tell which of a task's leases they answer.
std::string LeaseId(const std::string& task_key, int attempt);

// The attempt number in `lease_id` when it is a lease id of `task_key` (any number >= 1), else 0.
int LeaseAttempt(const std::string& lease_id, const std::string& task_key);

// Zero-padded so that keys sort by version within a device class.
std::string PredictorKey(const std::string& device_class, int64_t version);

// Artifacts are keyed by their id ("art-000001": zero-padded, so keys sort by creation).
std::string ArtifactKey(const std::string& artifact_id);

}  // namespace hat::coordinator_internal

#endif  // HATFLEET_SERVER_COORDINATOR_HELPERS_H_
