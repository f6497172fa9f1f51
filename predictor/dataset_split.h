// HAT's split of a latency dataset: rows shuffled at random, then 80% train, 10% valid, 10% test.
// HAT's shuffle is unseeded; here it is the project PRNG's, so a seed names the split.
#ifndef HATFLEET_PREDICTOR_DATASET_SPLIT_H_
#define HATFLEET_PREDICTOR_DATASET_SPLIT_H_

#include <cstdint>
#include <vector>

namespace hat {

struct DatasetSplit {
  std::vector<int> train;
  std::vector<int> valid;
  std::vector<int> test;
};

// Row indices of `rows` rows; train = the first 80% of a seeded Fisher-Yates shuffle, valid the
// next 10%, test the rest.
DatasetSplit SplitRows(int rows, uint64_t seed);

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_DATASET_SPLIT_H_
