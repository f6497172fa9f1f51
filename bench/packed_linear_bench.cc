// Benchmark: PackedLinear against at::linear (OpenBLAS) on the linear layers of incremental
// decoding in HAT's WMT space: beam rows 5, and the output projection onto 32,768 words.
//
//   build/bin/packed_linear_bench [--threads N] [--reps R]
// Prints the median time per call of each over R repetitions, and the ratio.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/packed_linear.h"
#include "engine/runtime.h"

namespace {

template <typename Fn>
double MedianMs(Fn&& fn, int reps) {
  for (int i = 0; i < 3; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto start = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                    .count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, reps = 50;
  CLI::App app{"PackedLinear against at::linear on incremental decoding's shapes"};
  app.add_option("--threads", threads)->check(CLI::Range(1, 256))->capture_default_str();
  app.add_option("--reps", reps)->check(CLI::Range(1, 100000))->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (!hat::ConfigureThreads(threads).ok()) return 2;
  const hat::HardwareInfo hw = hat::DescribeRuntime("cpu");
  std::printf("# %s, %d thread(s), LibTorch %s, %s\n", hw.cpu_model.c_str(), hw.threads,
              hw.libtorch_version.c_str(), hw.blas.c_str());
  std::printf("%-34s %10s %10s %8s\n", "shape (rows x in -> out)", "linear_ms", "packed_ms",
              "speedup");
  struct Shape {
    const char* name;
    int64_t rows, in, out;
  };
  const Shape shapes[] = {
      {"output projection 5x512->32768", 5, 512, 32768},
      {"output projection 5x640->32768", 5, 640, 32768},
      {"self-attn qkv 5x640->1536", 5, 640, 1536},
      {"ffn fc1 5x640->3072", 5, 640, 3072},
      {"ffn fc2 5x3072->640", 5, 3072, 640},
      {"one row 1x512->32768", 1, 512, 32768},
  };
  at::manual_seed(1);
  for (const Shape& s : shapes) {
    const at::Tensor w = at::randn({s.out, s.in});
    const at::Tensor b = at::randn({s.out});
    const at::Tensor x = at::randn({s.rows, s.in});
    const hat::PackedLinear packed(w, b);
    at::InferenceMode guard;
    const double linear = MedianMs([&] { at::linear(x, w, b); }, reps);
    const double fast = MedianMs([&] { packed(x); }, reps);
    std::printf("%-34s %10.3f %10.3f %7.2fx\n", s.name, linear, fast, linear / fast);
  }
  return 0;
}
