// Benchmark: active (uncertainty) sampling against uniform sampling of a latency dataset, on
// HAT's published datasets used as pools of already-measured configs.
//
//   build/bin/active_sampling_bench [--seeds 5] FILE.csv...
//
// Per file and seed: 10% of the rows are held out for testing (HAT's split with that seed); the
// rest is the pool. "random" measures pool rows in a random order; "uncertainty" measures 20 at
// random, then repeatedly fits the cost-linear predictor and adds NextBatch's 10 pool rows (the 5
// it is least sure of and 5 at random). At 20, 40, 80, 160 and 320 measured rows both fit the same
// predictor on what they measured and are scored on the test rows. Prints one JSON line per (file,
// seed, strategy, rows) and a table of medians over seeds.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/median.h"
#include "predictor/accuracy.h"
#include "predictor/active_sampling.h"
#include "predictor/latency_records.h"

namespace hat {
namespace {

constexpr int kCheckpoints[] = {20, 40, 80, 160, 320};
constexpr int kInitial = 20;
constexpr int kBatch = 10;

struct Score {
  double mape = 0, rmse = 0;
};

LatencyDataset Subset(const LatencyDataset& d, const std::vector<int>& rows) {
  LatencyDataset out;
  for (int i : rows) out.rows.push_back(d.rows[i]);
  return out;
}

Score Evaluate(const LatencyDataset& d, const std::vector<int>& measured,
               const std::vector<int>& test, const CostWorkload& w, uint64_t seed) {
  auto p = FitForSampling(Subset(d, measured), w, seed);
  if (!p.ok()) {
    std::fprintf(stderr, "fit failed: %s\n", std::string(p.status().message()).c_str());
    std::exit(1);
  }
  std::vector<std::array<double, kNumHatFeatures>> features;
  std::vector<double> actual;
  for (int i : test) {
    features.push_back(d.rows[i].hat_features);
    actual.push_back(d.rows[i].total_ms());
  }
  auto predictions = p->Predict(features);  // kept alive: the loop reads into it
  if (!predictions.ok()) std::exit(1);
  std::vector<double> predicted;
  for (const LatencyPrediction& x : *predictions) predicted.push_back(x.latency_ms);
  const AccuracyMetrics m = ComputeAccuracy(predicted, actual);
  return {m.mape_pct, m.rmse_ms};
}

}  // namespace
}  // namespace hat

int main(int argc, char** argv) {
  using namespace hat;
  int seeds = 5;
  std::vector<std::string> files;
  CLI::App app{"Active (uncertainty) against uniform sampling of a latency dataset"};
  app.add_option("--seeds", seeds, "Splits and sampling orders")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("files", files, "HAT latency CSV files")->required()->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  const CostWorkload workload;  // HAT's WMT workload
  // (file, strategy, rows) -> scores over seeds
  std::map<std::tuple<std::string, std::string, int>, std::vector<Score>> results;
  for (const std::string& file : files) {
    auto dataset = LoadLatencyDataset(file, LatencyFileFormat::kHatCsv);
    if (!dataset.ok()) {
      std::fprintf(stderr, "%s\n", std::string(dataset.status().message()).c_str());
      return 1;
    }
    const std::string name = file.substr(file.find_last_of('/') + 1);
    for (int seed = 1; seed <= seeds; ++seed) {
      const DatasetSplit split = SplitRows(static_cast<int>(dataset->rows.size()), seed);
      std::vector<int> pool = split.train;  // already shuffled
      pool.insert(pool.end(), split.valid.begin(), split.valid.end());
      // random: the pool's shuffled order
      for (int n : kCheckpoints) {
        const std::vector<int> measured(pool.begin(), pool.begin() + n);
        results[{name, "random", n}].push_back(
            Evaluate(*dataset, measured, split.test, workload, seed));
      }
      // uncertainty: 20 at random, then batches of the least certain
      std::vector<int> measured(pool.begin(), pool.begin() + kInitial);
      std::set<int> taken(measured.begin(), measured.end());
      for (int n : kCheckpoints) {
        while (static_cast<int>(measured.size()) < n) {
          auto p = FitForSampling(Subset(*dataset, measured), workload, seed);
          if (!p.ok()) return 1;
          std::vector<int> remaining;
          std::vector<std::array<double, kNumHatFeatures>> features;
          for (int i : pool) {
            if (taken.count(i)) continue;
            remaining.push_back(i);
            features.push_back(dataset->rows[i].hat_features);
          }
          const int k = std::min<int>(kBatch, n - static_cast<int>(measured.size()));
          auto pick = NextBatch(*p, features, k);
          if (!pick.ok()) return 1;
          for (int j : *pick) {
            measured.push_back(remaining[j]);
            taken.insert(remaining[j]);
          }
        }
        results[{name, "uncertainty", n}].push_back(
            Evaluate(*dataset, measured, split.test, workload, seed));
      }
      std::fprintf(stderr, "%s seed %d done\n", name.c_str(), seed);
    }
  }
  for (const auto& [key, scores] : results) {
    for (size_t s = 0; s < scores.size(); ++s) {
      std::printf(
          "{\"file\": \"%s\", \"strategy\": \"%s\", \"rows\": %d, \"seed\": %zu, "
          "\"test_mape_pct\": %.4f, \"test_rmse_ms\": %.4f}\n",
          std::get<0>(key).c_str(), std::get<1>(key).c_str(), std::get<2>(key), s + 1,
          scores[s].mape, scores[s].rmse);
    }
  }
  std::printf(
      "\n| dataset | rows measured | random MAPE %% | uncertainty MAPE %% | random RMSE ms "
      "| uncertainty RMSE ms |\n|---|---|---|---|---|---|\n");
  for (const std::string& file : files) {
    const std::string name = file.substr(file.find_last_of('/') + 1);
    for (int n : kCheckpoints) {
      auto med = [&](const std::string& strategy, bool mape) {
        std::vector<double> v;
        for (const Score& s : results[{name, strategy, n}]) v.push_back(mape ? s.mape : s.rmse);
        return Median(v);
      };
      std::printf("| %s | %d | %.2f | %.2f | %.1f | %.1f |\n", name.c_str(), n, med("random", true),
                  med("uncertainty", true), med("random", false), med("uncertainty", false));
    }
  }
  return 0;
}
