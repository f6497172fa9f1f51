// PackedLinear: y = x·Wᵀ + b for the few rows of incremental decoding (beam hypotheses), from a
// weight repacked once into column panels so that each decoding step streams it sequentially.
//
// Why: at decoding time x has only beam (·sentences) rows. General GEMM kernels are built for
// many rows and waste most of their vector lanes here; measured on this project's 2-core Xeon,
// OpenBLAS computes [5 x 512]·[512 x 32768] (HAT's output projection) at 10 GMAC/s, a third of
// what the weight stream allows. The kernel below keeps every row's accumulators in registers
// and touches each weight once per call. Results equal at::linear up to float summation order.
//
// The kernel is compiled for AVX-512, AVX2 and a portable baseline and chosen at run time, so one
// binary serves every x86 agent; other architectures get the portable version.
#ifndef HATFLEET_ENGINE_PACKED_LINEAR_H_
#define HATFLEET_ENGINE_PACKED_LINEAR_H_

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace hat {

class PackedLinear {
 public:
  // Rows processed per pass of the kernel; more rows are processed in chunks of this size.
  static constexpr int64_t kMaxRows = 8;
  // Output columns per panel.
  static constexpr int64_t kPanel = 32;

  PackedLinear() = default;
  // Packs `weight` [out, in] (float32, CPU) and keeps `bias` [out] (may be undefined).
  PackedLinear(const at::Tensor& weight, const at::Tensor& bias);

  bool defined() const { return packed_.defined(); }
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  // Memory held: the packed weight and the bias.
  int64_t bytes() const {
    return (packed_.defined() ? packed_.nbytes() : 0) + (bias_.defined() ? bias_.nbytes() : 0);
  }

  // x [..., in] float32 contiguous CPU -> [..., out].
  at::Tensor operator()(const at::Tensor& x) const;

 private:
  int64_t in_ = 0;
  int64_t out_ = 0;
  at::Tensor packed_;  // [ceil(out / kPanel), in, kPanel], zero-padded
  at::Tensor bias_;    // [out] or undefined
};

// The per-step linear layers of a decoder, packed: what IncrementalDecoder uses on CPU.
struct PackedDecoderLayer {
  PackedLinear self_qkv, self_out, ende_q, ende_out, fc1, fc2;
};
struct DecodingKernels {
  std::vector<PackedDecoderLayer> layers;
  PackedLinear output_projection;
};

}  // namespace hat

#endif  // HATFLEET_ENGINE_PACKED_LINEAR_H_
