// The small-row kernel equals at::linear for every row count, ragged panels and odd widths.
#include "engine/packed_linear.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace hat {
namespace {

TEST(PackedLinearTest, EqualsLinearForManyShapes) {
  at::manual_seed(3);
  for (int64_t out : {1, 31, 32, 33, 100, 1000}) {
    for (int64_t in : {1, 7, 64, 129}) {
      const at::Tensor w = at::randn({out, in});
      const at::Tensor b = at::randn({out});
      const PackedLinear with_bias(w, b), without_bias(w, at::Tensor());
      for (int64_t rows : {1, 2, 5, 8, 9, 17}) {
        const at::Tensor x = at::randn({rows, in});
        const at::Tensor want = at::linear(x, w, b);
        const double tol = 1e-5 * std::max(1.0, want.abs().max().item<double>());
        EXPECT_LT((with_bias(x) - want).abs().max().item<double>(), tol)
            << out << "x" << in << " rows " << rows;
        EXPECT_LT((without_bias(x) - at::linear(x, w)).abs().max().item<double>(), tol);
      }
    }
  }
}

TEST(PackedLinearTest, KeepsLeadingDimensions) {
  const at::Tensor w = at::randn({40, 16});
  const PackedLinear packed(w, at::Tensor());
  const at::Tensor x = at::randn({3, 1, 16});
  const at::Tensor y = packed(x);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 1, 40}));
  EXPECT_TRUE(at::allclose(y, at::linear(x, w), 1e-5, 1e-5));
}

TEST(PackedLinearTest, WrongWidthIsAnError) {
  const PackedLinear packed(at::randn({4, 3}), at::Tensor());
  EXPECT_THROW(packed(at::randn({2, 5})), c10::Error);
}

}  // namespace
}  // namespace hat
