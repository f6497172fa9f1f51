// Constraint specs, sweeps and the Pareto front; see sweep.h.
#include "search/sweep.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace hat {

absl::StatusOr<ConstraintSpec> ParseConstraintSpec(const std::string& text) {
  const size_t colon = text.rfind(':');
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("constraint '", text.substr(0, 200), "': ", why,
                                                   " (expected CLASS:LIMIT_MS[,LIMIT_MS...])"));
  };
  if (colon == std::string::npos || colon == 0) return bad("no device class");
  ConstraintSpec spec;
  spec.device_class = text.substr(0, colon);
  for (absl::string_view part : absl::StrSplit(text.substr(colon + 1), ',')) {
    double limit = 0;
    if (!absl::SimpleAtod(part, &limit) || !(limit > 0) || limit > 1e9) {
      return bad(absl::StrCat("limit '", part, "' is not a positive number of milliseconds"));
    }
    spec.limits_ms.push_back(limit);
  }
  return spec;
}

absl::StatusOr<std::vector<SweepPoint>> ExpandSweep(const std::vector<ConstraintSpec>& specs) {
  if (specs.empty()) {
    return absl::InvalidArgumentError("no latency constraint: give at least one CLASS:LIMIT_MS");
  }
  std::set<std::string> classes;
  int swept = -1;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (!classes.insert(specs[i].device_class).second) {
      return absl::InvalidArgumentError(absl::StrCat("device class '", specs[i].device_class,
                                                     "' has two constraints: give one, with a list "
                                                     "of limits to sweep"));
    }
    if (specs[i].limits_ms.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("device class '", specs[i].device_class, "': no limit"));
    }
    if (specs[i].limits_ms.size() > 1) {
      if (swept >= 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "'", specs[swept].device_class, "' and '", specs[i].device_class,
            "' both list several limits: one constraint may be swept, the others are fixed"));
      }
      swept = static_cast<int>(i);
    }
  }
  const size_t runs = swept < 0 ? 1 : specs[swept].limits_ms.size();
  std::vector<SweepPoint> points(runs);
  for (size_t r = 0; r < runs; ++r) {
    for (size_t i = 0; i < specs.size(); ++i) {
      const double limit =
          static_cast<int>(i) == swept ? specs[i].limits_ms[r] : specs[i].limits_ms[0];
      points[r].emplace_back(specs[i].device_class, limit);
    }
  }
  return points;
}

size_t FrontAxis(const std::vector<ConstraintSpec>& specs) {
  for (size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].limits_ms.size() > 1) return i;
  }
  return 0;
}

std::vector<FrontPoint> ParetoFront(std::vector<FrontPoint> points) {
  std::sort(points.begin(), points.end(), [](const FrontPoint& a, const FrontPoint& b) {
    if (a.latency_ms != b.latency_ms) return a.latency_ms < b.latency_ms;
    return a.loss < b.loss;
  });
  std::vector<FrontPoint> front;
  for (const FrontPoint& p : points) {
    // Fastest first: a point belongs when it is better than every faster one already taken.
    if (front.empty() || p.loss < front.back().loss) front.push_back(p);
  }
  return front;
}

}  // namespace hat
