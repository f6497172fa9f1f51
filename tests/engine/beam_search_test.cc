// Beam search on a constructed decoder whose best sequence greedy search cannot find.
#include "engine/beam_search.h"

#include <ATen/ATen.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kEos = 2, kPad = 1, kVocab = 8;

// A decoder whose next-token distribution depends on the prefix each row has generated, read
// from a table; rows follow Reorder like a real decoder's cache.
class TableDecoder : public StepDecoder {
 public:
  using Table = std::map<std::vector<int64_t>, std::map<int64_t, double>>;
  TableDecoder(Table table, int rows) : table_(std::move(table)), prefixes_(rows) {}

  at::Tensor Step(const at::Tensor& tokens) override {
    const int64_t rows = tokens.size(0);
    at::Tensor out =
        at::full({rows, kVocab}, -std::numeric_limits<double>::infinity(), at::kDouble);
    for (int64_t r = 0; r < rows; ++r) {
      if (steps_ > 0) prefixes_[r].push_back(tokens[r].item<int64_t>());
      auto it = table_.find(prefixes_[r]);
      if (it == table_.end()) {
        out[r][kEos] = 0.0;  // unknown prefix: end here
        continue;
      }
      for (const auto& [token, p] : it->second) out[r][token] = std::log(p);
    }
    ++steps_;
    return out;
  }

  void Reorder(const at::Tensor& order) override {
    std::vector<std::vector<int64_t>> next;
    for (int64_t i = 0; i < order.size(0); ++i) next.push_back(prefixes_[order[i].item<int64_t>()]);
    prefixes_ = std::move(next);
  }

 private:
  Table table_;
  std::vector<std::vector<int64_t>> prefixes_;
  int steps_ = 0;
};

// Greedy takes 3 (0.6) then 5 (0.4) then eos (0.5): probability 0.12. The best sequence is
// 4 eos: 0.4 * 0.9 = 0.36, which needs the second beam.
TableDecoder::Table Trap() {
  return {
      {{}, {{3, 0.6}, {4, 0.4}}},     {{3}, {{5, 0.4}, {kEos, 0.3}, {6, 0.3}}},
      {{4}, {{kEos, 0.9}, {7, 0.1}}}, {{3, 5}, {{kEos, 0.5}, {6, 0.5}}},
      {{3, 6}, {{kEos, 1.0}}},        {{3, 5, 6}, {{kEos, 1.0}}},
      {{4, 7}, {{kEos, 1.0}}},
  };
}

SearchOptions Beam(int beam, double length_penalty) {
  SearchOptions options;
  options.beam = beam;
  options.length_penalty = length_penalty;
  return options;
}

TEST(BeamSearchTest, BeamFindsTheBestSequenceGreedyMisses) {
  TableDecoder greedy_decoder(Trap(), 1);
  ASSERT_OK_AND_ASSIGN(auto g, BeamSearch(greedy_decoder, 1, Beam(1, 0)));
  EXPECT_THAT(g[0].tokens, ElementsAre(3, 5, kEos));
  EXPECT_NEAR(g[0].log_prob, std::log(0.6 * 0.4 * 0.5), 1e-9);

  TableDecoder beam_decoder(Trap(), 2);
  const SearchOptions beam = Beam(2, 0);
  ASSERT_OK_AND_ASSIGN(auto b, BeamSearch(beam_decoder, 1, beam));
  EXPECT_THAT(b[0].tokens, ElementsAre(4, kEos));
  EXPECT_NEAR(b[0].log_prob, std::log(0.4 * 0.9), 1e-9);
}

TEST(BeamSearchTest, SentencesOfABatchAreSearchedIndependently) {
  TableDecoder decoder(Trap(), 3 * 2);
  const SearchOptions beam = Beam(2, 0);
  ASSERT_OK_AND_ASSIGN(auto b, BeamSearch(decoder, 3, beam));
  ASSERT_EQ(b.size(), 3u);
  for (const Hypothesis& h : b) EXPECT_THAT(h.tokens, ElementsAre(4, kEos));
}

TEST(BeamSearchTest, LengthPenaltyNormalisesScores) {
  TableDecoder decoder(Trap(), 2);
  const SearchOptions beam = Beam(2, 1.0);
  ASSERT_OK_AND_ASSIGN(auto b, BeamSearch(decoder, 1, beam));
  EXPECT_NEAR(b[0].score, b[0].log_prob / static_cast<double>(b[0].tokens.size()), 1e-12);
}

// Step 1 ranks: 3 eos (0.36), 3 5 (0.24), 4 eos (0.22), 4 6 (0.18). With beam 2 only the first
// eos is within the beam; "4 eos" must not end the search, because "3 5 eos" (0.24 over 3
// tokens) beats "3 eos" (0.36 over 2) once scores are divided by length.
TEST(BeamSearchTest, OnlyEosWithinTheBeamEndsAHypothesis) {
  TableDecoder::Table table = {
      {{}, {{3, 0.6}, {4, 0.4}}}, {{3}, {{kEos, 0.6}, {5, 0.4}}}, {{4}, {{kEos, 0.55}, {6, 0.45}}},
      {{3, 5}, {{kEos, 1.0}}},    {{4, 6}, {{kEos, 1.0}}},
  };
  TableDecoder decoder(table, 2);
  const SearchOptions beam = Beam(2, 1.0);
  ASSERT_OK_AND_ASSIGN(auto b, BeamSearch(decoder, 1, beam));
  EXPECT_THAT(b[0].tokens, ElementsAre(3, 5, kEos));
  EXPECT_NEAR(b[0].log_prob, std::log(0.6 * 0.4), 1e-9);
}

TEST(BeamSearchTest, MaxStepsForcesEos) {
  TableDecoder::Table loop = {{{}, {{5, 1.0}}}, {{5}, {{5, 1.0}}}, {{5, 5}, {{5, 1.0}}}};
  TableDecoder decoder(loop, 1);
  SearchOptions opt;
  opt.beam = 1;
  opt.max_steps = 3;
  ASSERT_OK_AND_ASSIGN(auto b, BeamSearch(decoder, 1, opt));
  EXPECT_THAT(b[0].tokens, ElementsAre(5, 5, kEos));
}

TEST(BeamSearchTest, IdsBeyondTheVocabularyAreNeverGenerated) {
  // Unlimited, greedy takes 3 then 5 then eos. With ids 5-7 outside the vocabulary, the prefix 3
  // can only end (eos, renormalised to probability 1).
  TableDecoder decoder(Trap(), 1);
  SearchOptions opt = Beam(1, 0);
  opt.vocab_size = 5;
  ASSERT_OK_AND_ASSIGN(auto b, BeamSearch(decoder, 1, opt));
  EXPECT_THAT(b[0].tokens, ElementsAre(3, kEos));
  EXPECT_NEAR(b[0].log_prob, std::log(0.6), 1e-12);
}

TEST(BeamSearchTest, BadOptionsAreRefused) {
  TableDecoder decoder(Trap(), 1);
  SearchOptions opt;
  opt.beam = 0;
  EXPECT_THAT(BeamSearch(decoder, 1, opt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("beam=0")));
  opt.beam = 1;
  opt.length_penalty = -1;
  EXPECT_THAT(BeamSearch(decoder, 1, opt),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("length_penalty=-1")));
  opt.length_penalty = 1;
  opt.vocab_size = kEos;
  EXPECT_THAT(BeamSearch(decoder, 1, opt),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("vocab_size=2: must leave eos and pad in the vocabulary")));
  opt.vocab_size = kVocab + 1;
  EXPECT_THAT(BeamSearch(decoder, 1, opt),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("vocab_size=9: the decoder has only 8 outputs")));
}

}  // namespace
}  // namespace hat
