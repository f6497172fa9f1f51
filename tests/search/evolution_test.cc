// The search core on synthetic fitness and latency (milliseconds, no LibTorch): it finds the
// known optimum under a limit, never admits a candidate over a limit, ends an impossible limit
// at once naming the fastest latency, is deterministic, resumes exactly, never evaluates a
// config twice, and its random baseline spends the same budget.
#include "search/evolution.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/sampling.h"
#include "search/fitness_cache.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_corpus.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

// The active gene values of a config, with inactive layers as 0: what the synthetic functions
// look at.
std::vector<double> ActiveGenes(const SubTransformerConfig& c) {
  const SubTransformerConfig a = ActiveOnly(c);
  std::vector<double> genes = {double(a.encoder.embed_dim), double(a.decoder.embed_dim),
                               double(a.decoder.layer_num)};
  for (int i = 0; i < 2; ++i) {
    const bool enc = i < a.encoder.layer_num, dec = i < a.decoder.layer_num;
    genes.push_back(enc ? a.encoder.ffn_embed_dim[i] : 0);
    genes.push_back(enc ? a.encoder.self_attention_heads[i] : 0);
    genes.push_back(dec ? a.decoder.ffn_embed_dim[i] : 0);
    genes.push_back(dec ? a.decoder.self_attention_heads[i] : 0);
    genes.push_back(dec ? a.decoder.ende_attention_heads[i] : 0);
    genes.push_back(dec ? a.decoder.arbitrary_ende_attn[i] : 0);
  }
  return genes;
}

// Loss: how far a config is from the largest one (bigger is better, as with real models), with
// distinct weights per gene so that the optimum under a limit is unique.
class DistanceFitness : public FitnessEvaluator {
 public:
  absl::StatusOr<std::vector<double>> Evaluate(
      const std::vector<SubTransformerConfig>& configs) override {
    std::vector<double> losses;
    for (const SubTransformerConfig& c : configs) {
      ++calls_[CanonicalKey(c)];
      evaluated_.push_back(c);
      losses.push_back(Loss(c));
    }
    return losses;
  }
  std::string Identity() const override { return "synthetic-distance"; }

  static double Loss(const SubTransformerConfig& c) {
    const std::vector<double> genes = ActiveGenes(c);
    const std::vector<double> best = ActiveGenes(LargestConfig(hat::testing::ToySpace()));
    double loss = 0;
    for (size_t i = 0; i < genes.size(); ++i) loss += (i + 1.5) * std::abs(genes[i] - best[i]);
    return loss;
  }
  std::map<std::string, int> calls_;  // evaluations per config
  std::vector<SubTransformerConfig> evaluated_;
};

// Latency: linear in the genes (a bigger network is slower); every prediction is recorded.
class LinearLatency : public LatencyModel {
 public:
  explicit LinearLatency(double scale) : scale_(scale) {}
  absl::StatusOr<std::vector<double>> PredictMs(
      const std::vector<SubTransformerConfig>& configs) override {
    std::vector<double> out;
    for (const SubTransformerConfig& c : configs) out.push_back(Ms(c));
    return out;
  }
  double Ms(const SubTransformerConfig& c) const {
    double ms = 1;
    for (double g : ActiveGenes(c)) ms += 0.05 * g;
    return ms * scale_;
  }

 private:
  double scale_;
};

// HAT's proportions, scaled to the toy space (17,408 configs): 50 = 10 + 20 + 20, 15 iterations.
EvolutionOptions Small(uint64_t seed) {
  EvolutionOptions o;
  o.iterations = 15;
  o.population = 50;
  o.parents = 10;
  o.mutations = 20;
  o.crossovers = 20;
  o.seed = seed;
  return o;
}

// Every distinct config of the toy space (17,408): each gene's choices for the active layers.
std::vector<SubTransformerConfig> Enumerate() {
  const DesignSpace space = hat::testing::ToySpace();
  std::vector<SubTransformerConfig> out{SmallestConfig(space)};
  for (const GeneInfo& info : AllGenes()) {
    std::vector<SubTransformerConfig> next;
    for (const SubTransformerConfig& c : out) {
      if (!info.per_layer) {
        for (int v : space.Choices(info.gene)) {
          SubTransformerConfig d = c;
          *d.MutableScalar(info.gene) = v;
          next.push_back(d);
        }
        continue;
      }
      // Every combination over the active layers (the layer counts come first in gene order).
      std::vector<SubTransformerConfig> partial{c};
      for (int layer = 0; layer < c.LayerNum(info.decoder); ++layer) {
        std::vector<SubTransformerConfig> grown;
        for (const SubTransformerConfig& p : partial) {
          for (int v : space.Choices(info.gene)) {
            SubTransformerConfig d = p;
            (*d.MutableList(info.gene))[layer] = v;
            grown.push_back(d);
          }
        }
        partial = std::move(grown);
      }
      next.insert(next.end(), partial.begin(), partial.end());
    }
    out = std::move(next);
  }
  return out;
}

class EvolutionTest : public ::testing::Test {
 protected:
  absl::StatusOr<EvolutionSearch> Make(EvolutionOptions o, double limit_ms,
                                       SearchState state = SearchState()) {
    return EvolutionSearch::Create(hat::testing::ToySpace(), o, {{"cpu", limit_ms, &latency_}},
                                   &fitness_, cache_.get(), std::move(state));
  }
  absl::StatusOr<ScoredConfig> Run(EvolutionSearch& search) {
    while (!search.done()) {
      absl::StatusOr<IterationReport> report = search.Step();
      if (!report.ok()) return report.status();
    }
    return search.best();
  }
  // The median latency of the space: a limit that cuts it in half.
  double MedianLatency() {
    std::vector<double> ms;
    for (const SubTransformerConfig& c : Enumerate()) ms.push_back(latency_.Ms(c));
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  }

  DistanceFitness fitness_;
  LinearLatency latency_{1.0};
  std::unique_ptr<FitnessCache> cache_ = NewMemoryFitnessCache();
};

TEST_F(EvolutionTest, FindsTheKnownOptimumUnderTheLimitAndAdmitsNothingOverIt) {
  const double limit = MedianLatency();
  // The optimum by brute force: the lowest loss among the configs within the limit.
  double optimum = 1e300, unconstrained = 1e300;
  for (const SubTransformerConfig& c : Enumerate()) {
    unconstrained = std::min(unconstrained, DistanceFitness::Loss(c));
    if (latency_.Ms(c) <= limit) optimum = std::min(optimum, DistanceFitness::Loss(c));
  }
  ASSERT_LT(unconstrained, optimum) << "the limit must bind for this test to mean something";
  ASSERT_OK_AND_ASSIGN(EvolutionSearch search, Make(Small(3), limit));
  ASSERT_OK_AND_ASSIGN(ScoredConfig best, Run(search));
  EXPECT_DOUBLE_EQ(best.loss, optimum);
  ASSERT_EQ(best.latency_ms.size(), 1u);
  EXPECT_LE(best.latency_ms[0], limit);
  // No evaluated config broke the limit (only admitted candidates are evaluated).
  for (const SubTransformerConfig& c : fitness_.evaluated_) {
    EXPECT_LE(latency_.Ms(c), limit) << CanonicalKey(c);
  }
  // Nothing was evaluated twice, and the budget holds.
  for (const auto& [key, calls] : fitness_.calls_) EXPECT_EQ(calls, 1) << key;
  EXPECT_LE(search.state().evaluations, Small(3).EvolutionBudget());
  EXPECT_EQ(search.state().evaluations, static_cast<int64_t>(fitness_.calls_.size()));
  EXPECT_GT(search.state().cache_hits, 0);  // parents are carried over, not re-evaluated
  // The best loss never gets worse from one iteration to the next (parents survive).
  const auto& history = search.state().best_per_iteration;
  ASSERT_EQ(history.size(), 15u);
  for (size_t i = 1; i < history.size(); ++i) EXPECT_LE(history[i].loss, history[i - 1].loss);
}

TEST_F(EvolutionTest, AnImpossibleLimitEndsAtOnceNamingTheFastestLatency) {
  const SubTransformerConfig smallest = SmallestConfig(hat::testing::ToySpace());
  const double fastest = latency_.Ms(smallest);
  EXPECT_THAT(Make(Small(1), fastest * 0.5).status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrFormat("the fastest predicted latency in the space is "
                                                 "%.4g ms",
                                                 fastest))));
  EXPECT_TRUE(fitness_.calls_.empty());  // refused before any fitness was spent
  // A limit only the smallest config meets: the population cannot be filled, and the redraw cap
  // ends the search instead of drawing forever (HAT's behaviour).
  EvolutionOptions o = Small(1);
  o.max_redraws = 200;
  ASSERT_OK_AND_ASSIGN(EvolutionSearch search, Make(o, fastest));
  EXPECT_THAT(search.Step().status(),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("200 candidates in a row broke a limit: no SubTransformer")));
  EXPECT_TRUE(fitness_.calls_.empty());
}

TEST_F(EvolutionTest, SameSeedSameSearchAndTheBestSequenceIsPinned) {
  const double limit = MedianLatency();
  std::vector<std::string> first, second;
  std::string final_key;
  for (auto* keys : {&first, &second}) {
    std::unique_ptr<FitnessCache> fresh = NewMemoryFitnessCache();
    ASSERT_OK_AND_ASSIGN(
        EvolutionSearch search,
        EvolutionSearch::Create(hat::testing::ToySpace(), Small(11), {{"cpu", limit, &latency_}},
                                &fitness_, fresh.get()));
    ASSERT_THAT(Run(search).status(), IsOk());
    for (const ScoredConfig& s : search.state().best_per_iteration) {
      keys->push_back(absl::StrFormat("%.1f", s.loss));
    }
    final_key = CanonicalKey(search.best().config);
  }
  EXPECT_EQ(first, second);
  // Pinned: a change to sampling, the operators or the iteration seeds shows here.
  EXPECT_EQ(absl::StrJoin(first, " "),
            "436.0 423.5 423.5 398.0 398.0 389.5 389.5 389.5 384.0 384.0 384.0 384.0 384.0 384.0 "
            "384.0");
  EXPECT_EQ(final_key, "enc:24:2:ffn=32,64:sa=2,2|dec:24:2:ffn=32,64:sa=2,2:ea=2,2:at=1,1");
}

TEST_F(EvolutionTest, AResumedSearchEndsAsTheUninterruptedOne) {
  const double limit = MedianLatency();
  ASSERT_OK_AND_ASSIGN(EvolutionSearch whole, Make(Small(5), limit));
  ASSERT_OK_AND_ASSIGN(ScoredConfig whole_best, Run(whole));

  std::unique_ptr<FitnessCache> fresh = NewMemoryFitnessCache();
  ASSERT_OK_AND_ASSIGN(
      EvolutionSearch first,
      EvolutionSearch::Create(hat::testing::ToySpace(), Small(5), {{"cpu", limit, &latency_}},
                              &fitness_, fresh.get()));
  for (int i = 0; i < 3; ++i) ASSERT_THAT(first.Step().status(), IsOk());
  // Saved as text after iteration 3 and read back, as a job's checkpoint is.
  ASSERT_OK_AND_ASSIGN(SearchState saved,
                       SearchState::FromJson(first.state().ToJson(), hat::testing::ToySpace()));
  EXPECT_EQ(saved.iteration, 3);
  ASSERT_OK_AND_ASSIGN(
      EvolutionSearch resumed,
      EvolutionSearch::Create(hat::testing::ToySpace(), Small(5), {{"cpu", limit, &latency_}},
                              &fitness_, fresh.get(), saved));
  ASSERT_OK_AND_ASSIGN(ScoredConfig resumed_best, Run(resumed));
  EXPECT_EQ(CanonicalKey(resumed_best.config), CanonicalKey(whole_best.config));
  ASSERT_EQ(resumed.state().best_per_iteration.size(), whole.state().best_per_iteration.size());
  for (size_t i = 0; i < whole.state().best_per_iteration.size(); ++i) {
    EXPECT_EQ(CanonicalKey(resumed.state().best_per_iteration[i].config),
              CanonicalKey(whole.state().best_per_iteration[i].config))
        << "iteration " << i + 1;
  }
  EXPECT_THAT(SearchState::FromJson("{\"iteration\": 1}", hat::testing::ToySpace()).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a search state")));
}

TEST_F(EvolutionTest, RandomSearchSpendsEvolutionsBudgetAndEvolutionBeatsItOnEverySeed) {
  const double limit = MedianLatency();
  for (uint64_t seed : {1, 2, 3}) {
    SCOPED_TRACE(seed);
    std::unique_ptr<FitnessCache> a = NewMemoryFitnessCache(), b = NewMemoryFitnessCache();
    ASSERT_OK_AND_ASSIGN(EvolutionSearch evolution,
                         EvolutionSearch::Create(hat::testing::ToySpace(), Small(seed),
                                                 {{"cpu", limit, &latency_}}, &fitness_, a.get()));
    ASSERT_OK_AND_ASSIGN(ScoredConfig e, Run(evolution));
    EvolutionOptions r = Small(seed);
    r.strategy = SearchStrategy::kRandom;
    ASSERT_OK_AND_ASSIGN(EvolutionSearch random,
                         EvolutionSearch::Create(hat::testing::ToySpace(), r,
                                                 {{"cpu", limit, &latency_}}, &fitness_, b.get()));
    ASSERT_OK_AND_ASSIGN(ScoredConfig best_random, Run(random));
    EXPECT_EQ(random.state().evaluations + random.state().cache_hits, r.EvolutionBudget());
    EXPECT_LE(best_random.latency_ms[0], limit);
    // With the same budget evolution does better on every seed (random search evaluates more
    // distinct configs: evolution's offspring repeat one another and cost nothing twice).
    EXPECT_LT(e.loss, best_random.loss);
    EXPECT_LE(evolution.state().evaluations, random.state().evaluations);
  }
}

// Random search scores a population's worth of candidates per step, so it shows progress and
// can resume between batches; its answer is the best of all its candidates whatever the batching.
TEST_F(EvolutionTest, RandomSearchScoresItsCandidatesInBatchesAndResumesBetweenThem) {
  const double limit = MedianLatency();
  EvolutionOptions r = Small(7);
  r.strategy = SearchStrategy::kRandom;
  const int steps = r.Steps();
  EXPECT_EQ(steps, static_cast<int>((r.EvolutionBudget() + r.population - 1) / r.population));
  ASSERT_GT(steps, 1);
  ASSERT_OK_AND_ASSIGN(EvolutionSearch whole, Make(r, limit));
  std::vector<double> best_per_step;
  while (!whole.done()) {
    ASSERT_OK_AND_ASSIGN(IterationReport report, whole.Step());
    EXPECT_EQ(report.total_iterations, steps);
    EXPECT_LE(report.evaluations + report.cache_hits,
              static_cast<int64_t>(report.iteration) * r.population);
    best_per_step.push_back(report.best.loss);
  }
  ASSERT_EQ(static_cast<int>(best_per_step.size()), steps);
  EXPECT_TRUE(std::is_sorted(best_per_step.rbegin(), best_per_step.rend()))
      << "the best so far never gets worse";
  EXPECT_EQ(whole.state().evaluations + whole.state().cache_hits, r.EvolutionBudget());

  // The answer is the best of every candidate: score them all at once and compare.
  std::unique_ptr<FitnessCache> other = NewMemoryFitnessCache();
  ASSERT_OK_AND_ASSIGN(EvolutionSearch first, EvolutionSearch::Create(hat::testing::ToySpace(), r,
                                                                      {{"cpu", limit, &latency_}},
                                                                      &fitness_, other.get()));
  ASSERT_THAT(first.Step().status(), IsOk());
  double lowest = first.state().best_per_iteration.back().loss;
  for (const SubTransformerConfig& c : first.state().population) {
    lowest = std::min(lowest, DistanceFitness::Loss(c));
  }
  EXPECT_EQ(whole.best().loss, lowest);

  // Resumed from the state saved after the first batch, read back as text: the same answer.
  ASSERT_OK_AND_ASSIGN(SearchState saved,
                       SearchState::FromJson(first.state().ToJson(), hat::testing::ToySpace()));
  ASSERT_OK_AND_ASSIGN(
      EvolutionSearch resumed,
      EvolutionSearch::Create(hat::testing::ToySpace(), r, {{"cpu", limit, &latency_}}, &fitness_,
                              other.get(), saved));
  ASSERT_OK_AND_ASSIGN(ScoredConfig resumed_best, Run(resumed));
  EXPECT_EQ(CanonicalKey(resumed_best.config), CanonicalKey(whole.best().config));
  EXPECT_EQ(resumed.state().iteration, steps);
}

TEST(FitnessCacheTest, TheFileCacheKeepsLossesAcrossRunsAndSurvivesATornLastLine) {
  hat::testing::TempDir dir;
  const std::string path = dir.File("fitness.jsonl");
  {
    ASSERT_OK_AND_ASSIGN(auto cache, OpenFileFitnessCache(path));
    ASSERT_THAT(cache->Put("super-1", "enc:32", 4.5), IsOk());
    ASSERT_THAT(cache->Put("super-2", "enc:32", 3.25), IsOk());
  }
  std::ofstream(path, std::ios::app) << "{\"fitness\": \"super-1\", \"conf";  // killed mid-write
  ASSERT_OK_AND_ASSIGN(auto reopened, OpenFileFitnessCache(path));
  ASSERT_OK_AND_ASSIGN(std::optional<double> a, reopened->Get("super-1", "enc:32"));
  ASSERT_OK_AND_ASSIGN(std::optional<double> b, reopened->Get("super-2", "enc:32"));
  ASSERT_OK_AND_ASSIGN(std::optional<double> none, reopened->Get("super-3", "enc:32"));
  EXPECT_EQ(a, 4.5);
  EXPECT_EQ(b, 3.25);  // another SuperTransformer's loss is its own
  EXPECT_FALSE(none.has_value());
  std::ofstream(dir.File("bad.jsonl")) << "not json\n{\"fitness\": \"x\"}\n";
  EXPECT_THAT(OpenFileFitnessCache(dir.File("bad.jsonl")).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad.jsonl:1")));
}

TEST(EvolutionOptionsTest, BadSettingsNameTheSetting) {
  EvolutionOptions o;
  EXPECT_THAT(o.Validate(), IsOk());
  EXPECT_EQ(o.EvolutionBudget(), 125 + 29 * 100);
  o.population = 100;
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("population=100: must equal parents")));
  o = EvolutionOptions();
  o.mutation_prob = 1.5;
  EXPECT_THAT(o.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("mutation_prob=1.5")));
  o = EvolutionOptions();
  o.parents = 1;
  o.population = 101;
  EXPECT_THAT(o.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("need at least 2 parents")));
  EXPECT_THAT(ParseSearchStrategy("annealing").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("evolution or random")));
}

}  // namespace
}  // namespace hat
