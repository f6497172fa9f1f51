// Corpus BLEU and its tokenisers against hand-worked values (each derivation in a comment).
#include "nmt/bleu.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "tests/support/status_matchers.h"

namespace hat {
namespace {

using ::hat::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr double kTolerance = 1e-9;

BleuScore Bleu(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
               BleuTokenize tokenize = BleuTokenize::kNone) {
  absl::StatusOr<BleuScore> s = CorpusBleu(hyps, {refs}, {tokenize, false});
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : BleuScore{};
}

TEST(BleuTest, IdenticalSentencesScoreOneHundred) {
  const BleuScore s = Bleu({"the cat sat on the mat"}, {"the cat sat on the mat"});
  EXPECT_NEAR(s.bleu, 100, kTolerance);
  EXPECT_EQ(s.brevity_penalty, 1);
  EXPECT_THAT(s.matches, ElementsAre(6, 5, 4, 3));
  EXPECT_THAT(s.totals, ElementsAre(6, 5, 4, 3));
}

TEST(BleuTest, NoMatchScoresZero) {
  const BleuScore s = Bleu({"a b c d"}, {"e f g h"});
  EXPECT_EQ(s.bleu, 0);
  EXPECT_THAT(s.matches, ElementsAre(0, 0, 0, 0));
}

TEST(BleuTest, PrecisionsWithoutSmoothing) {
  // the cat sat on a mat / the cat sat on the mat: 5/6, 3/5, 2/4, 1/3 -> (1/12)^(1/4).
  const BleuScore s = Bleu({"the cat sat on a mat"}, {"the cat sat on the mat"});
  EXPECT_THAT(s.matches, ElementsAre(5, 3, 2, 1));
  EXPECT_THAT(s.totals, ElementsAre(6, 5, 4, 3));
  EXPECT_NEAR(s.bleu, 100 * std::pow(1.0 / 12, 0.25), kTolerance);  // 53.7285
}

TEST(BleuTest, ShortHypothesisPaysTheBrevityPenalty) {
  // Every n-gram matches; 4 words against 6: BP = exp(1 - 6/4).
  const BleuScore s = Bleu({"the cat sat on"}, {"the cat sat on the mat"});
  EXPECT_NEAR(s.brevity_penalty, std::exp(-0.5), kTolerance);
  EXPECT_NEAR(s.bleu, 100 * std::exp(-0.5), kTolerance);  // 60.6531
}

TEST(BleuTest, CountsAreClippedByTheReference) {
  // Seven "the" against a reference with two: unigrams 2/7; no higher order matches, smoothed
  // as 100/(2*6), 100/(4*5), 100/(8*4). Length 7 >= 6: no penalty.
  const BleuScore s = Bleu({"the the the the the the the"}, {"the cat is on the mat"});
  EXPECT_THAT(s.matches, ElementsAre(2, 0, 0, 0));
  EXPECT_NEAR(s.precisions[1], 100.0 / 12, kTolerance);
  EXPECT_NEAR(s.precisions[3], 100.0 / 32, kTolerance);
  EXPECT_NEAR(s.bleu, 7.809849842300637, 1e-9);
}

TEST(BleuTest, ExpSmoothingDoublesForEachEmptyOrder) {
  // the cat the cat / the cat sat on the mat: 3/4, 1/3, 0/2 -> 1/(2*2), 0/1 -> 1/(4*1);
  // BP exp(1 - 6/4).
  const BleuScore s = Bleu({"the cat the cat"}, {"the cat sat on the mat"});
  EXPECT_NEAR(s.precisions[2], 25, kTolerance);
  EXPECT_NEAR(s.precisions[3], 25, kTolerance);
  EXPECT_NEAR(s.bleu, 21.444097124017674, 1e-9);
}

TEST(BleuTest, HypothesisTooShortForFourGramsScoresZero) {
  const BleuScore s = Bleu({"the cat"}, {"the cat"});
  EXPECT_EQ(s.bleu, 0);
  EXPECT_EQ(s.totals[2], 0);
}

TEST(BleuTest, CorpusCountsAreSummedNotSentenceScoresAveraged) {
  // a b c d | a b c d and x y | x z w: 5/6, 3/4, 2/2, 1/1; lengths 6 vs 7. The second sentence
  // alone would score 0, the corpus does not.
  const BleuScore s = Bleu({"a b c d", "x y"}, {"a b c d", "x z w"});
  EXPECT_THAT(s.matches, ElementsAre(5, 3, 2, 1));
  EXPECT_EQ(s.hypothesis_length, 6);
  EXPECT_EQ(s.reference_length, 7);
  EXPECT_NEAR(s.bleu, 75.26405111736052, 1e-9);
  EXPECT_EQ(s.sentences, 2);
}

TEST(BleuTest, ClosestReferenceLengthPrefersTheShorterOnATie) {
  // Hypothesis of 5 words; references of 4 and 6 words are equally close: 4 is used, no penalty.
  ASSERT_OK_AND_ASSIGN(BleuScore s, CorpusBleu({"a b c d e"}, {{"a b c d"}, {"a b c d e f"}},
                                               {BleuTokenize::kNone, false}));
  EXPECT_EQ(s.reference_length, 4);
  EXPECT_EQ(s.brevity_penalty, 1);
  // The second reference contains every n-gram of the hypothesis.
  EXPECT_NEAR(s.bleu, 100, kTolerance);
}

TEST(BleuTest, MisalignedFilesAreRefused) {
  EXPECT_THAT(CorpusBleu({"a", "b"}, {{"a"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("reference set 1 has 1 sentences but there are 2 hypotheses")));
  EXPECT_THAT(CorpusBleu({"a"}, {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BleuTest, TokenisationMatters) {
  // 13a splits the period and comma off; whitespace tokenisation does not.
  const BleuScore plain = Bleu({"a dog runs, fast."}, {"a dog runs , fast ."});
  const BleuScore v13a = Bleu({"a dog runs, fast."}, {"a dog runs , fast ."}, BleuTokenize::k13a);
  EXPECT_LT(plain.bleu, 50);
  EXPECT_NEAR(v13a.bleu, 100, kTolerance);
}

TEST(Tokenize13aTest, SplitsPunctuationAsMtevalDoes) {
  EXPECT_EQ(Tokenize13a("Hello, world!"), "Hello , world !");
  EXPECT_EQ(Tokenize13a("The end."), "The end .");
  EXPECT_EQ(Tokenize13a("pi is 3.14 and 1,000 is big"), "pi is 3.14 and 1,000 is big");
  EXPECT_EQ(Tokenize13a("a well-known range: 1990-2000"), "a well-known range : 1990 - 2000");
  EXPECT_EQ(Tokenize13a("it's (really) \"quoted\""), "it's ( really ) \" quoted \"");
  EXPECT_EQ(Tokenize13a("&quot;hi&quot; &amp; bye &lt;3"), "\" hi \" & bye < 3");
  EXPECT_EQ(Tokenize13a("  spaced   out  "), "spaced out");
  EXPECT_EQ(Tokenize13a("Straße, Müller."), "Straße , Müller .");
  EXPECT_EQ(Tokenize13a(""), "");
}

TEST(LowercaseTest, LowersAsciiAndGermanLetters) {
  EXPECT_EQ(LowercaseUtf8("Ein Mann ÄÖÜ Straße"), "ein mann äöü straße");
  EXPECT_EQ(LowercaseUtf8("ŁÓDŹ ΑΒΓ ПРИВЕТ"), "łódź αβγ привет");
  EXPECT_EQ(LowercaseUtf8("\xff\xfe ok"), "\xff\xfe ok");  // invalid bytes kept
}

TEST(BleuTokenizeTest, NamesParse) {
  ASSERT_OK_AND_ASSIGN(BleuTokenize t, ParseBleuTokenize("none"));
  EXPECT_EQ(t, BleuTokenize::kNone);
  EXPECT_THAT(ParseBleuTokenize("intl"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("'intl' is unknown")));
}

}  // namespace
}  // namespace hat
