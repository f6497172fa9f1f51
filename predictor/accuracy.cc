// Accuracy metrics; see accuracy.h.
#include "predictor/accuracy.h"

#include <cmath>

namespace hat {

double KendallTau(const std::vector<double>& a, const std::vector<double>& b) {
  const size_t n = a.size();
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = i + 1; j < n; ++j) {
      const double da = a[i] - a[j];
      const double db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0) {
        ++ties_a;
      } else if (db == 0) {
        ++ties_b;
      } else if ((da > 0) == (db > 0)) {
        ++concordant;
      } else {
        ++discordant;
      }
    }
  }
  const double denominator =
      std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  return denominator > 0 ? (concordant - discordant) / denominator : 0.0;
}

AccuracyMetrics ComputeAccuracy(const std::vector<double>& predicted,
                                const std::vector<double>& actual) {
  AccuracyMetrics m;
  m.rows = static_cast<int>(actual.size());
  if (actual.empty()) return m;
  double squared = 0, relative = 0;
  int within5 = 0, within10 = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    const double error = predicted[i] - actual[i];
    const double rel = std::abs(error) / actual[i];
    squared += error * error;
    relative += rel;
    within5 += rel <= 0.05;
    within10 += rel <= 0.10;
  }
  m.rmse_ms = std::sqrt(squared / m.rows);
  m.mape_pct = 100.0 * relative / m.rows;
  m.kendall_tau = KendallTau(predicted, actual);
  m.within_5pct = 100.0 * within5 / m.rows;
  m.within_10pct = 100.0 * within10 / m.rows;
  return m;
}

}  // namespace hat
