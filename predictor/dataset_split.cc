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
  prng.Shuffle(order);
  const int train_end = rows * 8 / 10;
  const int valid_end = rows * 9 / 10;
  DatasetSplit split;
  split.train.assign(order.begin(), order.begin() + train_end);
  split.valid.assign(order.begin() + train_end, order.begin() + valid_end);
  split.test.assign(order.begin() + valid_end, order.end());
  return split;
}

}  // namespace hat
