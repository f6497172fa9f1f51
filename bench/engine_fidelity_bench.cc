// Benchmark: does the measurement library report what a bare timing loop sees?
//
// For configs sampled from a space, the latency from MeasureWorkload (default protocol) is set
// beside the median of a bare loop that times the same forward calls (Encode, then incremental
// decoding with the packed kernels) with nothing else around them. Both alternate per config,
// `--repeats` times, so drift hits both alike.
//
//   build/bin/engine_fidelity_bench [--space hat-wmt14-en-de] [--configs 5] [--repeats 3]
//                                   [--runs 20] [--threads 1]
// Output: JSON lines per config and a summary line with the median |library/bare - 1|.
#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "common/builtin_spaces.h"
#include "common/median.h"
#include "common/sampling.h"
#include "engine/latency_workload.h"
#include "engine/runtime.h"
#include "engine/sub_transformer.h"
#include "engine/super_transformer.h"
#include "engine/transformer_forward.h"
#include "measure/measurer.h"

namespace {

using hat::Median;

// The bare loop: warm-ups, then `runs` timed iterations of encoder + decoder, median in ms.
double BareLoopMs(const hat::SubTransformer& model, const hat::MeasurementProtocol& p, int runs) {
  c10::InferenceMode inference;
  at::Tensor src = at::full({1, p.source_tokens}, 7, at::kLong);
  src[0][0] = hat::kEosIdx;
  std::vector<at::Tensor> steps;
  for (int k = 0; k < p.decoder_steps; ++k) {
    steps.push_back(at::full({p.beam}, k + 1 < p.decoder_steps ? 7 : hat::kEosIdx, at::kLong));
  }
  std::vector<double> t;
  for (int i = 0; i < p.warmup_runs + runs; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const hat::EncoderOutput enc = hat::Encode(model.weights(), src);
    hat::IncrementalDecoder dec(model.weights(), enc, p.beam, p.decoder_steps,
                                model.decoding_kernels());
    for (const at::Tensor& tok : steps) dec.Step(tok);
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (i >= p.warmup_runs) t.push_back(ms);
  }
  return Median(t);
}

}  // namespace

int main(int argc, char** argv) {
  std::string space_name = "hat-wmt14-en-de";
  int configs = 5, repeats = 3, runs = 20, threads = 1;
  CLI::App app{"hatfleet's latency measurement against a bare LibTorch loop"};
  app.add_option("--space", space_name, "Design space")->capture_default_str();
  app.add_option("--configs", configs)->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--repeats", repeats)->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--runs", runs, "Timed runs of the bare loop")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--threads", threads)->check(CLI::Range(1, 256))->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  auto space = hat::BuiltinSpace(space_name);
  if (!space.ok() || !hat::ConfigureThreads(threads).ok()) {
    std::fprintf(stderr, "bad --space or --threads\n");
    return 2;
  }
  const hat::HardwareInfo hw = hat::DescribeRuntime("cpu");
  std::printf("{\"machine\": \"%s\", \"threads\": %d, \"blas\": \"%s\"}\n", hw.cpu_model.c_str(),
              hw.threads, hw.blas.c_str());
  auto super = hat::SuperTransformer::Create(*space, 1);
  auto factory = hat::LatencyWorkloadFactory::Create(*space, "cpu", 1);
  if (!super.ok() || !factory.ok()) return 1;
  hat::MeasurementProtocol protocol = hat::MeasurementProtocol::Default();
  protocol.threads = threads;
  protocol.reference_runs = 0;  // the bare loop has no drift correction either
  const auto sampled = hat::SampleConfigs(*space, configs, 7);
  std::vector<double> deviations;
  for (int c = 0; c < configs; ++c) {
    auto model = hat::SubTransformer::Extract(**super, sampled[c]);
    auto workload = (*factory)->Create(
        sampled[c], {protocol.source_tokens, protocol.decoder_steps, protocol.beam});
    if (!model.ok() || !workload.ok()) return 1;
    std::vector<double> lib, bare;
    for (int r = 0; r < repeats; ++r) {
      auto m = hat::MeasureWorkload(**workload, protocol);
      if (!m.ok()) return 1;
      lib.push_back(m->total_ms);
      bare.push_back(BareLoopMs(*model, protocol, runs));
    }
    const double ratio = Median(lib) / Median(bare);
    deviations.push_back(std::fabs(ratio - 1));
    std::printf("{\"config\": %d, \"library_ms\": %.3f, \"bare_ms\": %.3f, \"ratio\": %.4f}\n", c,
                Median(lib), Median(bare), ratio);
    std::fflush(stdout);
  }
  std::printf("{\"summary\": \"median |library/bare - 1|\", \"value\": %.4f, \"max\": %.4f}\n",
              Median(deviations), *std::max_element(deviations.begin(), deviations.end()));
  return 0;
}
