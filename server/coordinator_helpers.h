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

// Zero-padded so that keys sort by version within a device class.
std::string PredictorKey(const std::string& device_class, int64_t version);

// Artifacts are keyed by their id ("art-000001": zero-padded, so keys sort by creation).
std::string ArtifactKey(const std::string& artifact_id);

}  // namespace hat::coordinator_internal

#endif  // HATFLEET_SERVER_COORDINATOR_HELPERS_H_
