// Latency constraints as users write them, and the limit sweep: "cpu:120" is one limit on device
// class cpu, "cpu:150,120,90" a sweep over three limits (one search each, sharing the fitness
// cache), whose winners form a Pareto front of validation loss against predicted latency.
#ifndef HATFLEET_SEARCH_SWEEP_H_
#define HATFLEET_SEARCH_SWEEP_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace hat {

struct ConstraintSpec {
  std::string device_class;
  std::vector<double> limits_ms;  // one, or several for a sweep
};

// "CLASS:LIMIT_MS[,LIMIT_MS...]". INVALID_ARGUMENT naming the text and what is wrong.
absl::StatusOr<ConstraintSpec> ParseConstraintSpec(const std::string& text);

// One search's limits: (device class, limit) per constraint.
using SweepPoint = std::vector<std::pair<std::string, double>>;

// The searches a set of constraints asks for: one per limit of the (at most one) constraint that
// lists several, the others' single limits in each. INVALID_ARGUMENT for no constraints, a
// device class named twice, or two constraints that both list several limits.
absl::StatusOr<std::vector<SweepPoint>> ExpandSweep(const std::vector<ConstraintSpec>& specs);

// The constraint the front is drawn against: the swept one, else the first.
size_t FrontAxis(const std::vector<ConstraintSpec>& specs);

// A point of the front: a winner's validation loss and its predicted latency on the swept device.
struct FrontPoint {
  int index = 0;  // which winner
  double loss = 0;
  double latency_ms = 0;
};

// The winners no other winner beats in both loss and latency, fastest first.
std::vector<FrontPoint> ParetoFront(std::vector<FrontPoint> points);

}  // namespace hat

#endif  // HATFLEET_SEARCH_SWEEP_H_
