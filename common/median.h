// The median of a set of values: the middle one, or the mean of the two middle ones.
#ifndef HATFLEET_COMMON_MEDIAN_H_
#define HATFLEET_COMMON_MEDIAN_H_

#include <algorithm>
#include <vector>

namespace hat {

// 0 for no values. Linear time (nth_element); takes its argument by value to reorder it.
inline double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  const size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  const double upper = values[mid];
  if (values.size() % 2 == 1) return upper;
  return 0.5 * (upper + *std::max_element(values.begin(), values.begin() + mid));
}

}  // namespace hat

#endif  // HATFLEET_COMMON_MEDIAN_H_
