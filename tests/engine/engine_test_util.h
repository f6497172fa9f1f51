// Shared fixtures for engine tests: small spaces and deterministic inputs.
#ifndef HATFLEET_TESTS_ENGINE_ENGINE_TEST_UTIL_H_
#define HATFLEET_TESTS_ENGINE_ENGINE_TEST_UTIL_H_

#include <ATen/ATen.h>

#include "common/builtin_spaces.h"
#include "common/design_space.h"

namespace hat::testing {

// The tiny space with a small vocabulary, so tests build models in milliseconds.
inline DesignSpace SmallTinySpace() {
  DesignSpace s = *BuiltinSpace("tiny-latency");
  s.super.vocab_size = 50;
  s.super.max_positions = 64;
  return s;
}

// Random token ids in [4, vocab) (no special symbols), [batch, length].
inline at::Tensor RandomTokens(int64_t batch, int64_t length, int64_t vocab, uint64_t seed) {
  at::manual_seed(seed);
  return at::randint(4, vocab, {batch, length}, at::kLong);
}

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_ENGINE_ENGINE_TEST_UTIL_H_
