// Learning-rate schedules; see lr_schedule.h.
#include "train/lr_schedule.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace hat {

absl::StatusOr<LrSchedule::Kind> LrSchedule::ParseKind(absl::string_view name) {
  if (name == "inverse_sqrt") return Kind::kInverseSqrt;
  if (name == "cosine") return Kind::kCosine;
  return absl::InvalidArgumentError(absl::StrCat("learning-rate schedule '", name,
                                                 "' is unknown (expected inverse_sqrt or cosine)"));
}

std::string LrSchedule::KindName() const {
  return kind == Kind::kCosine ? "cosine" : "inverse_sqrt";
}

absl::Status LrSchedule::Validate() const {
  if (!(peak_lr > 0 && peak_lr < 10)) {
    return absl::InvalidArgumentError(absl::StrCat("lr=", peak_lr, ": must be in (0, 10)"));
  }
  if (warmup_steps < 0) {
    return absl::InvalidArgumentError(absl::StrCat("warmup=", warmup_steps, ": must be >= 0"));
  }
  if (warmup_init_lr < 0 || warmup_init_lr > peak_lr || min_lr < 0 || min_lr > peak_lr) {
    return absl::InvalidArgumentError("warmup_init_lr and min_lr must be in [0, lr]");
  }
  if (kind == Kind::kCosine && total_steps <= warmup_steps) {
    return absl::InvalidArgumentError(
        absl::StrCat("cosine schedule: steps=", total_steps, " must exceed warmup=", warmup_steps));
  }
  return absl::OkStatus();
}

double LrSchedule::At(int64_t step) const {
  step = std::max<int64_t>(step, 1);
  if (step <= warmup_steps) {
    return warmup_init_lr + (peak_lr - warmup_init_lr) * static_cast<double>(step) /
                                static_cast<double>(warmup_steps);
  }
  if (kind == Kind::kInverseSqrt) {
    return peak_lr * std::sqrt(static_cast<double>(std::max<int64_t>(warmup_steps, 1)) /
                               static_cast<double>(step));
  }
  const double t = static_cast<double>(std::min(step, total_steps) - warmup_steps) /
                   static_cast<double>(total_steps - warmup_steps);
  return min_lr + 0.5 * (peak_lr - min_lr) * (1 + std::cos(M_PI * t));
}

}  // namespace hat
