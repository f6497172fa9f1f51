// Combining repeated measurements and correcting host drift; see repeated_measurements.h.
#include "predictor/repeated_measurements.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/median.h"

namespace hat {
namespace {

using LatencyPart = double LatencyRecord::*;
constexpr LatencyPart kParts[] = {&LatencyRecord::encoder_ms, &LatencyRecord::decoder_ms};

// The measurements that reveal the host's state: timed measurements of configs measured at
// least twice, in order of start time.
std::vector<int> RepeatedInTimeOrder(const std::vector<LatencyRecord>& rows) {
  std::unordered_map<std::string, int> count;
  for (const LatencyRecord& r : rows) {
    if (!r.config_key.empty() && r.started_at_ms > 0) ++count[r.config_key];
  }
  std::vector<int> repeated;
  for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
    const LatencyRecord& r = rows[i];
    if (!r.config_key.empty() && r.started_at_ms > 0 && count[r.config_key] >= 2) {
      repeated.push_back(i);
    }
  }
  std::stable_sort(repeated.begin(), repeated.end(),
                   [&rows](int a, int b) { return rows[a].started_at_ms < rows[b].started_at_ms; });
  return repeated;
}

// Each repeated measurement's deviation (log) from its config's level: the mean over the
// config's measurements of log latency minus the drift estimated so far.
std::vector<double> Deviations(const std::vector<LatencyRecord>& rows,
                               const std::vector<int>& repeated, LatencyPart part,
                               const std::vector<double>& drift) {
  std::unordered_map<std::string, std::pair<double, int>> level_sum;
  for (int i : repeated) {
    auto& [sum, n] = level_sum[rows[i].config_key];
    sum += std::log(rows[i].*part) - drift[i];
    ++n;
  }
  std::vector<double> deviation;
  deviation.reserve(repeated.size());
  for (int i : repeated) {
    const auto& [sum, n] = level_sum.at(rows[i].config_key);
    deviation.push_back(std::log(rows[i].*part) - sum / n);
  }
  return deviation;
}

// The host's drift (log factor) when measurement `target` started: the median deviation of the
// `neighbours` repeated measurements of other configs nearest to it in time, within `window_ms`
// of it (nullopt when there is none). Median, not mean: one measurement hit by a hiccup must
// not move its neighbours.
std::optional<double> DriftAt(const std::vector<LatencyRecord>& rows, int target,
                              const std::vector<int>& repeated,
                              const std::vector<double>& deviation, int neighbours,
                              int64_t window_ms) {
  const int64_t t = rows[target].started_at_ms;
  const int n = static_cast<int>(repeated.size());
  int right = static_cast<int>(
      std::lower_bound(repeated.begin(), repeated.end(), t,
                       [&rows](int i, int64_t time) { return rows[i].started_at_ms < time; }) -
      repeated.begin());
  int left = right - 1;
  std::vector<double> near;
  while (static_cast<int>(near.size()) < neighbours && (left >= 0 || right < n)) {
    const bool take_left = right >= n || (left >= 0 && t - rows[repeated[left]].started_at_ms <=
                                                           rows[repeated[right]].started_at_ms - t);
    const int p = take_left ? left-- : right++;
    if (std::abs(rows[repeated[p]].started_at_ms - t) > window_ms) break;  // the rest are farther
    // Repeated measurements always have a key; the target's own config says nothing new.
    if (rows[repeated[p]].config_key == rows[target].config_key) continue;
    near.push_back(deviation[p]);
  }
  if (near.empty()) return std::nullopt;
  return Median(std::move(near));
}

}  // namespace

int CorrectHostDrift(std::vector<LatencyRecord>* measurements,
                     const RepeatedMeasurementOptions& options) {
  std::vector<LatencyRecord>& rows = *measurements;
  const std::vector<int> repeated = RepeatedInTimeOrder(rows);
  if (static_cast<int>(repeated.size()) < options.drift_neighbours + 1) return 0;
  int corrected = 0;
  for (LatencyPart part : kParts) {
    // Alternate between the configs' levels (given the drift) and the drift (given the levels).
    // The first round takes each config's plain mean as its level, which still carries the
    // drift of the moments it was measured at; later rounds remove it, because a config's
    // neighbours in time differ from pass to pass.
    std::vector<double> drift(rows.size(), 0.0);
    std::vector<bool> known(rows.size(), false);  // has neighbours within the window
    for (int round = 0; round < options.drift_rounds; ++round) {
      const std::vector<double> deviation = Deviations(rows, repeated, part, drift);
      std::vector<double> next(rows.size(), 0.0);
      for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
        if (rows[i].started_at_ms <= 0) continue;
        const std::optional<double> d = DriftAt(rows, i, repeated, deviation,
                                                options.drift_neighbours, options.drift_window_ms);
        known[i] = d.has_value();
        next[i] = d.value_or(0.0);
      }
      // The reference is the host's average state over the collection, not any one moment.
      double sum = 0;
      int n = 0;
      for (int i : repeated) {
        if (!known[i]) continue;
        sum += next[i];
        ++n;
      }
      const double mean = n > 0 ? sum / n : 0.0;
      for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
        if (known[i]) next[i] -= mean;
      }
      drift = std::move(next);
    }
    corrected = 0;
    for (int i = 0; i < static_cast<int>(rows.size()); ++i) {
      if (!known[i]) continue;
      rows[i].*part *= std::exp(-drift[i]);
      ++corrected;
    }
  }
  return corrected;
}

void CombineRepeatedMeasurements(LatencyDataset* dataset,
                                 const RepeatedMeasurementOptions& options) {
  dataset->measurements = static_cast<int>(dataset->rows.size());
  dataset->drift_corrected =
      options.correct_host_drift ? CorrectHostDrift(&dataset->rows, options) : 0;
  std::vector<LatencyRecord> combined;
  std::vector<std::vector<int>> members;  // per combined row: its measurements
  std::unordered_map<std::string, int> row_of_key;
  for (int i = 0; i < static_cast<int>(dataset->rows.size()); ++i) {
    const LatencyRecord& r = dataset->rows[i];
    if (!r.config_key.empty()) {
      auto [it, inserted] = row_of_key.emplace(r.config_key, static_cast<int>(combined.size()));
      if (!inserted) {
        members[it->second].push_back(i);
        continue;
      }
    }
    combined.push_back(r);
    members.push_back({i});
  }
  for (size_t c = 0; c < combined.size(); ++c) {
    if (members[c].size() < 2) continue;
    for (LatencyPart part : kParts) {
      std::vector<double> values;
      for (int i : members[c]) values.push_back(dataset->rows[i].*part);
      combined[c].*part = Median(std::move(values));
    }
  }
  dataset->rows = std::move(combined);
}

}  // namespace hat
