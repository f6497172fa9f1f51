// The search's fitness, the validation loss of a SubTransformer with inherited weights, three
// ways on the same configs and the same validation subset, interleaved:
//   whole-batch:  the decoder's logits for a whole batch, then the label-smoothed loss over them
//                 (how ValidationLoss computed it before the chunked loss);
//   chunked:      ValidationLoss today (LabelSmoothedLossFromHidden: padding dropped, logits made
//                 256 rows at a time), --threads intra-op threads;
//   two-at-once:  chunked, two configs evaluated at the same time on two threads of one thread
//                 each (what a search could do with its two cores instead of intra-op threads).
// Prints one JSON line per config and a summary line with the medians of seconds per config.
//
//   validation_loss_bench --supernet DIR [--configs 10] [--seed 3] [--valid-sentences 500]
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "common/sampling.h"
#include "engine/super_transformer.h"
#include "engine/transformer_forward.h"
#include "nmt/batching.h"
#include "nmt/corpus_layout.h"
#include "nmt/prepared_corpus.h"
#include "train/label_smoothed_loss.h"
#include "train/trained_model.h"
#include "train/validation.h"

namespace {

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The loss as ValidationLoss computed it before the chunked loss.
double WholeBatchLoss(const hat::SuperTransformer& super, const hat::SubTransformerConfig& config,
                      const hat::ValidationSet& set) {
  const hat::SubTransformerWeights w = *super.Slice(config);
  c10::InferenceMode inference;
  double loss = 0;
  for (const hat::TrainingBatch& batch : set.batches) {
    const at::Tensor logits = hat::DecodeAll(w, batch.prev_output, hat::Encode(w, batch.source));
    loss += hat::LabelSmoothedLoss(logits, batch.target, 0.1, hat::kPaddingIdx).loss.item<double>();
  }
  return loss / static_cast<double>(set.target_tokens);
}

}  // namespace

int main(int argc, char** argv) {
  std::string supernet;
  int configs = 10, seed = 3, valid_sentences = 500, threads = 2;
  CLI::App app{"The search's fitness computed three ways, per config"};
  app.add_option("--supernet", supernet, "SuperTransformer checkpoint or run directory")
      ->required();
  app.add_option("--configs", configs)->check(CLI::Range(2, 1000))->capture_default_str();
  app.add_option("--seed", seed)->capture_default_str();
  app.add_option("--valid-sentences", valid_sentences)->capture_default_str();
  app.add_option("--threads", threads)->check(CLI::Range(1, 64))->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  absl::StatusOr<hat::TrainedModel> model = hat::LoadTrainedModel(supernet);
  if (!model.ok()) {
    std::cerr << model.status() << "\n";
    return 1;
  }
  absl::StatusOr<hat::CorpusLayout> layout = hat::ReadCorpusLayout(
      model->info.corpus_dir, model->info.source_lang, model->info.target_lang);
  if (!layout.ok()) {
    std::cerr << layout.status() << "\n";
    return 1;
  }
  absl::StatusOr<hat::EncodedSplit> valid = hat::EncodeSplit(*layout, "valid", *model->subword);
  absl::StatusOr<hat::ValidationSet> set =
      valid.ok() ? hat::MakeValidationSet(*valid, valid_sentences, 4096,
                                          model->info.space.super.max_positions)
                 : absl::StatusOr<hat::ValidationSet>(valid.status());
  if (!set.ok()) {
    std::cerr << set.status() << "\n";
    return 1;
  }
  const std::vector<hat::SubTransformerConfig> sampled =
      hat::SampleConfigs(model->info.space, configs, seed);
  auto chunked = [&](const hat::SubTransformerConfig& c) {
    return hat::ValidationLoss(*model->super, c, *set, 0.1)->loss;
  };

  std::vector<double> whole_s, chunked_s;
  double max_difference = 0;
  for (size_t i = 0; i < sampled.size(); ++i) {
    at::set_num_threads(threads);
    double whole = 0, fast = 0, a = 0, b = 0;
    for (int order = 0; order < 2; ++order) {  // alternate which goes first
      if ((order + i) % 2 == 0) {
        auto start = std::chrono::steady_clock::now();
        a = WholeBatchLoss(*model->super, sampled[i], *set);
        whole += Seconds(start) / 2;
      } else {
        auto start = std::chrono::steady_clock::now();
        b = chunked(sampled[i]);
        fast += Seconds(start) / 2;
      }
    }
    whole_s.push_back(whole * 2);
    chunked_s.push_back(fast * 2);
    max_difference = std::max(max_difference, std::abs(a - b));
    std::cout << "{\"config\": " << i << ", \"whole_batch_s\": " << whole * 2
              << ", \"chunked_s\": " << fast * 2 << ", \"loss\": " << b << "}\n";
  }

  // Two configs at once, one intra-op thread each: seconds per config = wall / configs.
  auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < 2; ++t) {
    workers.emplace_back([&, t] {
      at::set_num_threads(1);
      for (size_t i = t; i < sampled.size(); i += 2) chunked(sampled[i]);
    });
  }
  for (std::thread& w : workers) w.join();
  const double two_at_once = Seconds(start) / static_cast<double>(sampled.size());

  std::cout << "{\"summary\": true, \"configs\": " << sampled.size()
            << ", \"valid_sentences\": " << set->sentences
            << ", \"target_tokens\": " << set->target_tokens << ", \"threads\": " << threads
            << ", \"whole_batch_median_s\": " << Median(whole_s)
            << ", \"chunked_median_s\": " << Median(chunked_s)
            << ", \"two_at_once_mean_s\": " << two_at_once
            << ", \"whole_over_chunked\": " << Median(whole_s) / Median(chunked_s)
            << ", \"max_loss_difference\": " << max_difference << "}\n";
  return 0;
}
