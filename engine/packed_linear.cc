// The small-row linear kernel; see packed_linear.h.
#include "engine/packed_linear.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <cstring>

namespace hat {
namespace {

// 16 floats; GCC lowers operations on it to the widest vectors the clone is compiled for.
typedef float Vec16 __attribute__((vector_size(64)));

constexpr int kVecsPerPanel = PackedLinear::kPanel / 16;

// y[m][0..kPanel) = bias + sum_k x[m][k] * panel[k][0..kPanel) for rows m < ROWS.
// Always inlined: the kernels must be compiled inside each instruction-set clone of RunPanels
// below, not once for the baseline target.
#define HAT_ALWAYS_INLINE inline __attribute__((always_inline))

template <int ROWS>
HAT_ALWAYS_INLINE void PanelKernel(const float* x, int64_t x_stride, const float* panel, int64_t in,
                                   const float* bias, float* out, int64_t out_stride,
                                   int64_t columns) {
  Vec16 acc[ROWS][kVecsPerPanel];
  Vec16 b[kVecsPerPanel];
  std::memset(b, 0, sizeof(b));
  if (bias != nullptr) std::memcpy(b, bias, sizeof(float) * columns);
  for (int m = 0; m < ROWS; ++m) {
    for (int v = 0; v < kVecsPerPanel; ++v) acc[m][v] = b[v];
  }
  for (int64_t k = 0; k < in; ++k) {
    Vec16 w[kVecsPerPanel];
    std::memcpy(w, panel + k * PackedLinear::kPanel, sizeof(w));
    for (int m = 0; m < ROWS; ++m) {
      const float xm = x[m * x_stride + k];
      for (int v = 0; v < kVecsPerPanel; ++v) acc[m][v] += xm * w[v];
    }
  }
  for (int m = 0; m < ROWS; ++m) {
    if (columns == PackedLinear::kPanel) {
      std::memcpy(out + m * out_stride, acc[m], sizeof(acc[m]));
    } else {
      float tmp[PackedLinear::kPanel];
      std::memcpy(tmp, acc[m], sizeof(tmp));
      std::memcpy(out + m * out_stride, tmp, sizeof(float) * columns);
    }
  }
}

template <int ROWS>
HAT_ALWAYS_INLINE void Panels(const float* x, int64_t in, const float* packed, const float* bias,
                              float* y, int64_t out, int64_t begin, int64_t end) {
  for (int64_t p = begin; p < end; ++p) {
    const int64_t col = p * PackedLinear::kPanel;
    const int64_t columns = std::min<int64_t>(PackedLinear::kPanel, out - col);
    PanelKernel<ROWS>(x, in, packed + p * in * PackedLinear::kPanel, in,
                      bias == nullptr ? nullptr : bias + col, y + col, out, columns);
  }
}

// One clone per instruction set; the dynamic loader picks the best the CPU supports.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HAT_KERNEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define HAT_KERNEL_CLONES
#endif

HAT_KERNEL_CLONES
void RunPanels(const float* x, int64_t rows, int64_t in, const float* packed, const float* bias,
               float* y, int64_t out, int64_t begin, int64_t end) {
  switch (rows) {
    case 1:
      return Panels<1>(x, in, packed, bias, y, out, begin, end);
    case 2:
      return Panels<2>(x, in, packed, bias, y, out, begin, end);
    case 3:
      return Panels<3>(x, in, packed, bias, y, out, begin, end);
    case 4:
      return Panels<4>(x, in, packed, bias, y, out, begin, end);
    case 5:
      return Panels<5>(x, in, packed, bias, y, out, begin, end);
    case 6:
      return Panels<6>(x, in, packed, bias, y, out, begin, end);
    case 7:
      return Panels<7>(x, in, packed, bias, y, out, begin, end);
    default:
      return Panels<8>(x, in, packed, bias, y, out, begin, end);
  }
}

}  // namespace

PackedLinear::PackedLinear(const at::Tensor& weight, const at::Tensor& bias) {
  TORCH_CHECK(weight.dim() == 2 && weight.scalar_type() == at::kFloat && weight.is_cpu(),
              "PackedLinear needs a 2-D float32 CPU weight");
  out_ = weight.size(0);
  in_ = weight.size(1);
  const int64_t panels = (out_ + kPanel - 1) / kPanel;
  // [out, in] -> [panels, in, kPanel], the last panel zero-padded. Panel by panel, so packing
  // needs no second full-size copy of the weight (the output projection of a WMT model is 80 MB,
  // and a device's memory is the measurement's).
  packed_ = at::zeros({panels, in_, kPanel}, weight.options());
  for (int64_t p = 0; p < panels; ++p) {
    const int64_t rows = std::min(kPanel, out_ - p * kPanel);
    packed_[p].narrow(1, 0, rows).copy_(weight.narrow(0, p * kPanel, rows).t());
  }
  if (bias.defined()) bias_ = bias.contiguous();
}

at::Tensor PackedLinear::operator()(const at::Tensor& x) const {
  TORCH_CHECK(x.size(-1) == in_, "PackedLinear: input has ", x.size(-1), " features, expected ",
              in_);
  at::Tensor x2 = x.reshape({-1, in_}).contiguous();
  const int64_t rows = x2.size(0);
  std::vector<int64_t> out_shape(x.sizes().begin(), x.sizes().end());
  out_shape.back() = out_;
  at::Tensor y = at::empty({rows, out_}, x.options());
  const float* packed = packed_.data_ptr<float>();
  const float* bias = bias_.defined() ? bias_.data_ptr<float>() : nullptr;
  const int64_t panels = packed_.size(0);
  for (int64_t r = 0; r < rows; r += kMaxRows) {
    const int64_t chunk = std::min(kMaxRows, rows - r);
    const float* xr = x2.data_ptr<float>() + r * in_;
    float* yr = y.data_ptr<float>() + r * out_;
    // Panels are independent: split them over LibTorch's intra-op threads.
    at::parallel_for(0, panels, 64, [&](int64_t begin, int64_t end) {
      RunPanels(xr, chunk, in_, packed, bias, yr, out_, begin, end);
    });
  }
  return y.view(out_shape);
}

}  // namespace hat
