// Training throughput of hatfleet's trainer on synthetic batches of a fixed shape, the C++ side
// of bench/train_peer.py (same model, same step, same threads). Trains Transformer-tiny (the
// Multi30k baseline: 4+4 layers, d 128, FFN 256, 4 heads, vocabulary 10,000) as one fixed
// SubTransformer for --steps updates and prints the median step time as JSON.
//
//   train_throughput_bench [--sentences 128] [--length 24] [--steps 30] [--threads 2]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "common/builtin_spaces.h"
#include "common/config_io.h"
#include "common/prng.h"
#include "train/trainer.h"

int main(int argc, char** argv) {
  int sentences = 128, length = 24, steps = 30, threads = 2;
  const int warmup = 3;
  CLI::App app{"Training throughput of Transformer-tiny on synthetic batches"};
  app.add_option("--sentences", sentences, "Sentences per batch")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--length", length, "Tokens per sentence")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  app.add_option("--steps", steps, "Timed updates")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app.add_option("--threads", threads)->check(CLI::Range(1, 256))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<hat::DesignSpace> space = hat::BuiltinSpace("tiny");
  if (!space.ok()) return 1;
  // The same Transformer-tiny the Multi30k benchmark trains.
  absl::StatusOr<hat::SubTransformerConfig> tiny =
      hat::LoadConfigInSpace(HAT_SOURCE_DIR "/data/configs/transformer-tiny.yml", *space);
  if (!tiny.ok()) {
    std::cerr << tiny.status() << "\n";
    return 1;
  }

  // A subword model is part of every run's checkpoint; any small one does here.
  std::vector<std::string> text = {"a b c d e f g h", "h g f e d c b a", "abc def ghi"};
  absl::StatusOr<hat::SubwordModel> subword = hat::SubwordModel::TrainBpe(text, {16, 1});
  if (!subword.ok()) {
    std::cerr << subword.status() << "\n";
    return 1;
  }
  hat::PreparedCorpus corpus;
  corpus.layout.source_lang = "src";
  corpus.layout.target_lang = "tgt";
  corpus.subword = std::make_shared<const hat::SubwordModel>(*std::move(subword));
  hat::Prng prng(1);
  auto sentence = [&] {
    std::vector<int32_t> s(length);
    for (int32_t& id : s) id = 4 + static_cast<int32_t>(prng.Uniform(space->super.vocab_size - 4));
    s.back() = 2;
    return s;
  };
  for (int i = 0; i < sentences * (steps + warmup); ++i) {
    corpus.train.source.push_back(sentence());
    corpus.train.target.push_back(sentence());
  }
  corpus.valid.source = {sentence()};
  corpus.valid.target = {sentence()};

  const std::string out = std::filesystem::temp_directory_path() / "hatfleet-train-bench";
  std::filesystem::remove_all(out);
  hat::TrainOptions options;
  options.space = *space;
  options.config = *tiny;
  options.steps = steps + warmup;
  options.batching.max_tokens = sentences * length;
  options.schedule.peak_lr = 5e-4;
  options.schedule.warmup_steps = 1000;
  options.threads = threads;
  options.out_dir = out;
  options.save_every = 1000000;  // only the final checkpoint
  std::vector<double> at;
  absl::StatusOr<hat::TrainResult> result = hat::TrainTransformer(
      options, corpus, [&](const hat::TrainProgress& p) { at.push_back(p.elapsed_s); }, 1);
  std::filesystem::remove_all(out);
  if (!result.ok()) {
    std::cerr << result.status() << "\n";
    return 1;
  }
  // Step times from consecutive reports, without the warm-up steps and the last step (which
  // also writes a checkpoint and validates).
  std::vector<double> step_s;
  for (size_t i = warmup; i + 1 < at.size(); ++i) step_s.push_back(at[i] - at[i - 1]);
  std::sort(step_s.begin(), step_s.end());
  const double median = step_s[step_s.size() / 2];
  std::printf(
      "{\"tokens_per_s\": %.1f, \"step_ms\": %.2f, \"steps\": %zu, \"threads\": %d, "
      "\"sentences\": %d, \"length\": %d}\n",
      2.0 * sentences * length / median, median * 1e3, step_s.size(), threads, sentences, length);
  return 0;
}
