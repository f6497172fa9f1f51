// bench/cuda_check: the engine's CUDA path on a GPU. Debian's LibTorch is CPU-only, so this is
// built against a CUDA LibTorch by bench/cuda_check.sh on a machine that has one (CMake builds it
// here too, where it reports that CUDA is unavailable and exits 2).
//
// For SubTransformers sampled across a design space (random weights, as latency is measured):
//   1. correctness: the same model on CUDA and on the CPU gives the same teacher-forced logits
//      (a padded batch of two sentences), and the incremental decoder (KV cache, the beam sharing
//      its sentence's encoder keys) gives, step by step, the teacher-forced logits on each device;
//      beam search runs on CUDA (whether its output equals the CPU's is reported: random weights
//      make near-ties, so equal tokens are not required);
//   2. latency: HAT's protocol (HAT's workload: 30 source tokens, 30 decoder steps, beam 5) on the
//      GPU, as `hatctl measure --device cuda` and `hat-agent --device cuda` run it.
// Prints one JSON object; exit 0 when every correctness check passed, 1 when one failed.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/builtin_spaces.h"
#include "common/config_io.h"
#include "common/sampling.h"
#include "common/status_macros.h"
#include "engine/beam_search.h"
#include "engine/latency_workload.h"
#include "engine/runtime.h"
#include "engine/sub_transformer.h"
#include "engine/super_transformer.h"
#include "engine/torch_status.h"
#include "engine/transformer_forward.h"
#include "measure/hardware.h"
#include "measure/measure_json.h"
#include "measure/measurer.h"

namespace hat {
namespace {

constexpr int64_t kPad = 1, kEos = 2;

struct Inputs {
  at::Tensor source;  // [2, 24], the second sentence padded after 18 tokens
  at::Tensor prev;    // [2, 12], eos first (teacher forcing)
};

Inputs MakeInputs(int64_t vocab, uint64_t seed) {
  at::Generator gen = at::detail::createCPUGenerator(seed);
  Inputs in;
  in.source = at::randint(4, vocab, {2, 24}, gen, at::kLong);
  in.source.index_put_({1, at::indexing::Slice(18)}, kPad);
  in.prev = at::randint(4, vocab, {2, 12}, gen, at::kLong);
  in.prev.index_put_({at::indexing::Slice(), 0}, kEos);
  return in;
}

// Largest |a - b| over the largest |a|: the relative error of a whole tensor.
double RelativeError(const at::Tensor& a, const at::Tensor& b) {
  const double scale = std::max(a.abs().max().item<double>(), 1e-12);
  return (a - b.to(a.device())).abs().max().item<double>() / scale;
}

// Steps the incremental decoder over `prev` (every hypothesis of a sentence fed the same
// tokens) and returns the logits of the first hypothesis of each sentence, [2, T, vocab].
at::Tensor IncrementalLogits(const SubTransformer& model, const EncoderOutput& encoder,
                             const at::Tensor& prev, int beam) {
  IncrementalDecoder decoder(model.weights(), encoder, beam, static_cast<int>(prev.size(1)),
                             model.decoding_kernels());
  std::vector<at::Tensor> steps;
  for (int64_t t = 0; t < prev.size(1); ++t) {
    const at::Tensor tokens = prev.select(1, t).repeat_interleave(beam);
    steps.push_back(decoder.Step(tokens).view({prev.size(0), beam, -1}).select(1, 0));
  }
  return at::stack(steps, 1);
}

absl::StatusOr<nlohmann::json> CheckConfig(const SuperTransformer& super,
                                           const SubTransformerConfig& config,
                                           const std::string& device, uint64_t seed,
                                           double tolerance, bool* passed) {
  HAT_ASSIGN_OR_RETURN(SubTransformer cpu, SubTransformer::Extract(super, config));
  HAT_ASSIGN_OR_RETURN(SubTransformer dev, SubTransformer::Extract(super, config));
  HAT_RETURN_IF_ERROR(dev.MoveTo(device));
  c10::InferenceMode inference;
  const Inputs in = MakeInputs(super.space().super.vocab_size, seed);
  const at::Device target(device);
  const EncoderOutput enc_cpu = Encode(cpu.weights(), in.source);
  const EncoderOutput enc_dev = Encode(dev.weights(), in.source.to(target));
  const at::Tensor full_cpu = DecodeAll(cpu.weights(), in.prev, enc_cpu);
  const at::Tensor full_dev = DecodeAll(dev.weights(), in.prev.to(target), enc_dev);
  const int beam = 4;
  const at::Tensor step_cpu = IncrementalLogits(cpu, enc_cpu, in.prev, beam);
  const at::Tensor step_dev = IncrementalLogits(dev, enc_dev, in.prev.to(target), beam);

  const double encoder_error = RelativeError(enc_cpu.layers.back(), enc_dev.layers.back());
  const double logits_error = RelativeError(full_cpu, full_dev);
  const double incremental_error_dev = RelativeError(full_dev, step_dev);
  const double incremental_error_cpu = RelativeError(full_cpu, step_cpu);

  SearchOptions search;
  search.beam = 5;
  search.max_steps = 20;
  IncrementalDecoder search_cpu(cpu.weights(), enc_cpu, search.beam, search.max_steps,
                                cpu.decoding_kernels());
  IncrementalDecoder search_dev(dev.weights(), enc_dev, search.beam, search.max_steps,
                                dev.decoding_kernels());
  HAT_ASSIGN_OR_RETURN(std::vector<Hypothesis> best_cpu, BeamSearch(search_cpu, 2, search));
  HAT_ASSIGN_OR_RETURN(std::vector<Hypothesis> best_dev, BeamSearch(search_dev, 2, search));
  bool same_tokens = best_cpu.size() == best_dev.size();
  for (size_t i = 0; same_tokens && i < best_cpu.size(); ++i) {
    same_tokens = best_cpu[i].tokens == best_dev[i].tokens;
  }

  const bool ok = encoder_error <= tolerance && logits_error <= tolerance &&
                  incremental_error_dev <= tolerance && incremental_error_cpu <= tolerance;
  *passed = *passed && ok;
  return nlohmann::json{{"config", CanonicalKey(config)},
                        {"passed", ok},
                        {"encoder_rel_error_device_vs_cpu", encoder_error},
                        {"logits_rel_error_device_vs_cpu", logits_error},
                        {"incremental_vs_full_rel_error_device", incremental_error_dev},
                        {"incremental_vs_full_rel_error_cpu", incremental_error_cpu},
                        {"beam_search_same_tokens", same_tokens}};
}

absl::Status Run(const std::string& space_name, const std::string& device, int configs,
                 const std::vector<std::string>& config_files, int measure_configs, uint64_t seed,
                 double tolerance, int* exit_code) {
  HAT_RETURN_IF_ERROR(CheckDevice(device));
  HAT_RETURN_IF_ERROR(ConfigureThreads(4));
  HAT_ASSIGN_OR_RETURN(const DesignSpace space, BuiltinSpace(space_name));
  std::vector<SubTransformerConfig> sampled;
  std::vector<std::string> names;
  if (config_files.empty()) {
    sampled = SampleConfigs(space, configs, seed);
    names.assign(sampled.size(), "sampled");
  }
  for (const std::string& file : config_files) {
    HAT_ASSIGN_OR_RETURN(SubTransformerConfig config, LoadConfigInSpace(file, space));
    sampled.push_back(std::move(config));
    names.push_back(std::filesystem::path(file).stem().string());
  }
  nlohmann::json out = {{"space", space_name},
                        {"tolerance", tolerance},
                        {"device", device},
                        {"hardware", HardwareToJson(DescribeRuntime(device))}};

  HAT_ASSIGN_OR_RETURN(auto super, SuperTransformer::Create(space, seed));
  bool passed = true;
  for (size_t i = 0; i < sampled.size(); ++i) {
    absl::StatusOr<nlohmann::json> checked = CallTorch("cuda check", [&] {
      return CheckConfig(*super, sampled[i], device, seed + i, tolerance, &passed);
    });
    if (!checked.ok()) return checked.status();
    (*checked)["name"] = names[i];
    out["correctness"].push_back(*checked);
    std::cerr << "checked " << i + 1 << "/" << sampled.size() << "\n";
  }

  HAT_ASSIGN_OR_RETURN(auto factory, LatencyWorkloadFactory::Create(space, device, seed));
  const MeasurementProtocol protocol = MeasurementProtocol::Hat();
  const int measured = std::min<int>(measure_configs, sampled.size());
  for (int i = 0; i < measured; ++i) {
    HAT_ASSIGN_OR_RETURN(auto workload, factory->Create(sampled[i], WorkloadShape{}));
    HAT_ASSIGN_OR_RETURN(ConfigMeasurement m, MeasureWorkload(*workload, protocol));
    nlohmann::json row = MeasurementToJson(m, protocol);
    row["config"] = CanonicalKey(sampled[i]);
    row["name"] = names[i];
    out["latency"].push_back(row);
    std::cerr << "measured " << i + 1 << "/" << measured << ": " << m.total_ms << " ms\n";
  }
  out["passed"] = passed;
  std::cout << out.dump(2) << "\n";
  *exit_code = passed ? 0 : 1;
  return absl::OkStatus();
}

}  // namespace
}  // namespace hat

int main(int argc, char** argv) {
  CLI::App app{"The engine's CUDA path against its CPU path, and GPU latency (HAT protocol)"};
  std::string space = "hat-wmt14-en-de", device = "cuda";
  int configs = 8, measure_configs = 8;
  std::vector<std::string> config_files;
  uint64_t seed = 1;
  double tolerance = 1e-3;
  app.add_option("--space", space, "Built-in design space")->capture_default_str();
  app.add_option("--device", device,
                 "cuda; cpu compares the CPU path with itself (checks this program)")
      ->capture_default_str();
  app.add_option("--configs", configs, "SubTransformers checked")->capture_default_str();
  app.add_option("--config", config_files,
                 "Check these configs (HAT YAML or hatfleet JSON) instead of sampled ones");
  app.add_option("--measure", measure_configs, "Of those, measured")->capture_default_str();
  app.add_option("--seed", seed)->capture_default_str();
  app.add_option("--tolerance", tolerance, "Largest relative error allowed")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  int exit_code = 1;
  const absl::Status status =
      hat::Run(space, device, configs, config_files, measure_configs, seed, tolerance, &exit_code);
  if (!status.ok()) {
    std::cerr << "cuda_check: " << status << "\n";
    return status.code() == absl::StatusCode::kFailedPrecondition ? 2 : 1;
  }
  return exit_code;
}
