// Seeded 80/10/10 split; see dataset_split.h.
#include "predictor/dataset_split.h"

#include <numeric>
#include <utility>

#include "common/prng.h"

namespace hat {

DatasetSplit SplitRows(int rows, uint64_t seed) {
  std::vector<int> order(rows);
  std::iota(order.begin(), order.end(), 0);
  Prng prng(seed);
  for (int i = rows - 1; i > 0; --i) {
    std::swap(order[i], order[prng.Uniform(static_cast<uint64_t>(i) + 1)]);
  }
  const int train_end = rows * 8 / 10;
  const int valid_end = rows * 9 / 10;
  DatasetSplit split;
  split.train.assign(order.begin(), order.begin() + train_end);
  split.valid.assign(order.begin() + train_end, order.begin() + valid_end);
  split.test.assign(order.begin() + valid_end, order.end());
  return split;
}

}  // namespace hat
