// Prng: the project's own pseudo-random generator, so that one seed gives the same sequence (and
// therefore the same sampled SubTransformers) on every platform and standard library.
//
// std::mt19937 is portable but std::uniform_int_distribution is not (each library maps bits to
// integers its own way), so the mapping from bits to choices is defined here too:
//   - state: xoshiro256** (Blackman & Vigna 2018), seeded by four SplitMix64 outputs of the seed;
//   - Uniform(n): Lemire's multiply-shift with rejection (unbiased);
//   - UniformDouble(): the top 53 bits scaled by 2^-53, in [0, 1).
// Not thread-safe; not for cryptography.
#ifndef HATFLEET_COMMON_PRNG_H_
#define HATFLEET_COMMON_PRNG_H_

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace hat {

// One step of SplitMix64: advances `state` and returns the next output.
uint64_t SplitMix64Next(uint64_t& state);

class Prng {
 public:
  explicit Prng(uint64_t seed);

  // The next 64 random bits.
  uint64_t Next();

  // Uniform integer in [0, n). REQUIRES: n > 0.
  uint64_t Uniform(uint64_t n);

  // Uniform double in [0, 1).
  double UniformDouble();

  // A uniformly chosen element. REQUIRES: !values.empty().
  int Choose(const std::vector<int>& values) { return values[Uniform(values.size())]; }

  // Fisher-Yates with this generator (last position first), so a seed gives the same order on
  // every platform.
  template <typename T>
  void Shuffle(std::vector<T>& values) {
    for (size_t i = values.size(); i > 1; --i) std::swap(values[i - 1], values[Uniform(i)]);
  }

 private:
  uint64_t s_[4];
};

}  // namespace hat

#endif  // HATFLEET_COMMON_PRNG_H_
