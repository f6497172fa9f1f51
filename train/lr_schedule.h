// Learning-rate schedules of HAT's training recipes (fairseq's): linear warm-up from
// warmup_init_lr to peak_lr, then either inverse square root decay (IWSLT, Multi30k) or a cosine
// down to min_lr at total_steps (WMT).
#ifndef HATFLEET_TRAIN_LR_SCHEDULE_H_
#define HATFLEET_TRAIN_LR_SCHEDULE_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace hat {

struct LrSchedule {
  enum class Kind { kInverseSqrt, kCosine };
  Kind kind = Kind::kInverseSqrt;
  double peak_lr = 5e-4;
  int64_t warmup_steps = 4000;
  double warmup_init_lr = 1e-7;
  double min_lr = 1e-7;     // cosine: the rate at total_steps
  int64_t total_steps = 0;  // cosine: the length of the schedule

  // "inverse_sqrt" or "cosine".
  static absl::StatusOr<Kind> ParseKind(absl::string_view name);
  std::string KindName() const;
  // INVALID_ARGUMENT naming the field.
  absl::Status Validate() const;
  // The rate for update `step` (1-based: the first update is step 1).
  double At(int64_t step) const;
};

}  // namespace hat

#endif  // HATFLEET_TRAIN_LR_SCHEDULE_H_
