// Records in the store are protobuf messages behind a one-byte format version, so a future
// layout change is detected instead of misread.
#ifndef HATFLEET_SERVER_STORAGE_RECORD_CODEC_H_
#define HATFLEET_SERVER_STORAGE_RECORD_CODEC_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace hat {

inline constexpr char kRecordVersion = 1;

inline std::string EncodeRecord(const google::protobuf::Message& message) {
  std::string out(1, kRecordVersion);
  message.AppendToString(&out);
  return out;
}

// DATA_LOSS naming `what` for an empty, newer-version or unparsable record.
inline absl::Status DecodeRecord(const std::string& bytes, const std::string& what,
                                 google::protobuf::Message* message) {
  if (bytes.empty()) return absl::DataLossError(absl::StrCat(what, ": empty record"));
  if (bytes[0] != kRecordVersion) {
    return absl::DataLossError(absl::StrCat(what, ": record version ", static_cast<int>(bytes[0]),
                                            " is not readable by this build (it reads version ",
                                            static_cast<int>(kRecordVersion), ")"));
  }
  if (!message->ParseFromArray(bytes.data() + 1, static_cast<int>(bytes.size() - 1))) {
    return absl::DataLossError(absl::StrCat(what, ": record does not parse"));
  }
  return absl::OkStatus();
}

}  // namespace hat

#endif  // HATFLEET_SERVER_STORAGE_RECORD_CODEC_H_
