// The data pipeline: reading plain and gzip text, corpus layouts, the BPE model, the prepared
// corpus and its cache (reuse, corruption), and token-count batching.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "nmt/batching.h"
#include "nmt/corpus_layout.h"
#include "nmt/prepared_corpus.h"
#include "nmt/subword_model.h"
#include "nmt/text_file.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_corpus.h"

namespace hat {
namespace {

using ::hat::testing::StatusIs;
using ::hat::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

void WriteGzip(const std::string& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, text.data(), static_cast<unsigned>(text.size())),
            static_cast<int>(text.size()));
  gzclose(f);
}

TEST(TextFileTest, ReadsPlainAndGzipLinesWithoutLineEndings) {
  TempDir dir;
  std::ofstream(dir.File("a.txt")) << "one\r\ntwo\n\nthree";
  WriteGzip(dir.File("b.gz"), "ein\nzwei\n");
  ASSERT_OK_AND_ASSIGN(auto plain, ReadLines(dir.File("a.txt")));
  EXPECT_THAT(plain, ElementsAre("one", "two", "", "three"));
  ASSERT_OK_AND_ASSIGN(auto gz, ReadLines(dir.File("b.gz")));
  EXPECT_THAT(gz, ElementsAre("ein", "zwei"));
}

TEST(TextFileTest, MissingAndBinaryFilesAreRefused) {
  TempDir dir;
  EXPECT_THAT(ReadLines(dir.File("none")), StatusIs(absl::StatusCode::kNotFound));
  std::ofstream(dir.File("bin"), std::ios::binary) << "ok\nbad" << '\0' << "x\n";
  EXPECT_THAT(ReadLines(dir.File("bin")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bin:2: NUL byte")));
}

TEST(CorpusLayoutTest, ManifestNamesLanguagesAndSplitPrefixes) {
  TempDir dir;
  std::ofstream(dir.File("corpus.json"))
      << R"({"languages": ["en", "de"], "splits": {"valid": "val", "test": "test_2016"}})";
  std::ofstream(dir.File("val.de")) << "x\n";
  WriteGzip(dir.File("test_2016.en.gz"), "y\n");
  ASSERT_OK_AND_ASSIGN(CorpusLayout layout, ReadCorpusLayout(dir.path()));
  EXPECT_EQ(layout.source_lang, "en");
  EXPECT_EQ(layout.target_lang, "de");
  ASSERT_OK_AND_ASSIGN(std::string valid, layout.File("valid", "de"));
  EXPECT_EQ(valid, dir.File("val.de"));
  ASSERT_OK_AND_ASSIGN(std::string test, layout.File("test", "en"));
  EXPECT_EQ(test, dir.File("test_2016.en.gz"));
  EXPECT_THAT(layout.File("train", "en"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no train file for 'en'")));
  // The other direction is available; a third language is not.
  ASSERT_OK_AND_ASSIGN(CorpusLayout reverse, ReadCorpusLayout(dir.path(), "de", "en"));
  EXPECT_EQ(reverse.source_lang, "de");
  EXPECT_THAT(ReadCorpusLayout(dir.path(), "en", "fr"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not en-fr")));
}

TEST(CorpusLayoutTest, BadManifestsAndMissingLanguagesAreNamed) {
  TempDir dir;
  EXPECT_THAT(ReadCorpusLayout(dir.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("languages unknown")));
  ASSERT_OK(ReadCorpusLayout(dir.path(), "en", "de").status());
  std::ofstream(dir.File("corpus.json")) << R"({"splits": {"dev": "x"}})";
  EXPECT_THAT(ReadCorpusLayout(dir.path(), "en", "de"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("splits.dev")));
  std::ofstream(dir.File("corpus.json")) << "{not json";
  EXPECT_THAT(ReadCorpusLayout(dir.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a JSON object")));
  EXPECT_THAT(ReadCorpusLayout(dir.File("absent")), StatusIs(absl::StatusCode::kNotFound));
}

TEST(SubwordModelTest, BpeRoundTripsTextWithFairseqSpecialIds) {
  std::vector<std::string> text;
  for (const auto& [en, de] : hat::testing::ToyPairs(100, 1)) {
    text.push_back(en);
    text.push_back(de);
  }
  ASSERT_OK_AND_ASSIGN(SubwordModel model, SubwordModel::TrainBpe(text, {60, 1}));
  EXPECT_LE(model.vocab_size(), 60);
  ASSERT_OK_AND_ASSIGN(std::vector<int32_t> ids, model.Encode("a red dog sits on the mat"));
  for (int32_t id : ids) EXPECT_GT(id, 3) << "no special id inside a sentence";
  ids.push_back(2);  // eos is dropped on decoding
  ASSERT_OK_AND_ASSIGN(std::string back, model.Decode(ids));
  EXPECT_EQ(back, "a red dog sits on the mat");

  TempDir dir;
  ASSERT_OK(model.Save(dir.File("m.model")));
  ASSERT_OK_AND_ASSIGN(SubwordModel loaded, SubwordModel::Load(dir.File("m.model")));
  ASSERT_OK_AND_ASSIGN(std::vector<int32_t> again, loaded.Encode("a red dog sits on the mat"));
  ids.pop_back();
  EXPECT_EQ(again, ids);
  std::ofstream(dir.File("bad.model")) << "not a model";
  EXPECT_THAT(SubwordModel::Load(dir.File("bad.model")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("bad.model")));
  EXPECT_THAT(SubwordModel::TrainBpe({}, {}), StatusIs(absl::StatusCode::kInvalidArgument));
}

class PreparedCorpusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hat::testing::WriteToyCorpus(corpus_.path());
    options_.vocab_size = 60;
    options_.threads = 1;
    options_.cache_dir = cache_.path();
  }
  TempDir corpus_, cache_;
  PrepareOptions options_;
};

TEST_F(PreparedCorpusTest, EncodesEverySplitWithEosAndReusesTheCache) {
  ASSERT_OK_AND_ASSIGN(CorpusLayout layout, ReadCorpusLayout(corpus_.path()));
  ASSERT_OK_AND_ASSIGN(PreparedCorpus first, PrepareCorpus(layout, options_));
  EXPECT_FALSE(first.from_cache);
  EXPECT_EQ(first.train.size(), 200u);
  EXPECT_EQ(first.valid.size(), 16u);
  EXPECT_EQ(first.test.size(), 16u);
  for (const auto& s : first.train.target) EXPECT_EQ(s.back(), 2);
  ASSERT_OK_AND_ASSIGN(PreparedCorpus second, PrepareCorpus(layout, options_));
  EXPECT_TRUE(second.from_cache);
  EXPECT_EQ(second.cache_path, first.cache_path);
  EXPECT_EQ(second.train.source, first.train.source);
  EXPECT_EQ(second.test.target, first.test.target);
  // The other direction shares the entry, with the sides swapped.
  ASSERT_OK_AND_ASSIGN(CorpusLayout reverse, ReadCorpusLayout(corpus_.path(), "de", "en"));
  ASSERT_OK_AND_ASSIGN(PreparedCorpus swapped, PrepareCorpus(reverse, options_));
  EXPECT_TRUE(swapped.from_cache);
  EXPECT_EQ(swapped.train.source, first.train.target);
}

TEST_F(PreparedCorpusTest, ACorruptCacheEntryIsRebuiltNotTrusted) {
  ASSERT_OK_AND_ASSIGN(CorpusLayout layout, ReadCorpusLayout(corpus_.path()));
  ASSERT_OK_AND_ASSIGN(PreparedCorpus first, PrepareCorpus(layout, options_));
  const std::string ids = first.cache_path + "/train.de.ids";
  std::filesystem::resize_file(ids, std::filesystem::file_size(ids) - 7);
  ASSERT_OK_AND_ASSIGN(PreparedCorpus again, PrepareCorpus(layout, options_));
  EXPECT_FALSE(again.from_cache);
  EXPECT_EQ(again.train.target, first.train.target);
}

TEST_F(PreparedCorpusTest, ChangedDataGetsAnotherEntry) {
  ASSERT_OK_AND_ASSIGN(CorpusLayout layout, ReadCorpusLayout(corpus_.path()));
  ASSERT_OK_AND_ASSIGN(PreparedCorpus first, PrepareCorpus(layout, options_));
  std::ofstream(corpus_.File("test.en"), std::ios::app) << "a dog\n";
  std::ofstream(corpus_.File("test.de"), std::ios::app) << "ein hund\n";
  ASSERT_OK_AND_ASSIGN(PreparedCorpus second, PrepareCorpus(layout, options_));
  EXPECT_FALSE(second.from_cache);
  EXPECT_NE(second.cache_path, first.cache_path);
  EXPECT_EQ(second.test.size(), 17u);
}

TEST_F(PreparedCorpusTest, MisalignedFilesAreRefusedNamingBoth) {
  std::ofstream(corpus_.File("valid.de"), std::ios::app) << "extra\n";
  ASSERT_OK_AND_ASSIGN(CorpusLayout layout, ReadCorpusLayout(corpus_.path()));
  EXPECT_THAT(
      PrepareCorpus(layout, options_),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("valid.en has 16 lines but " + corpus_.File("valid.de") + " has 17")));
}

EncodedSplit SplitOfLengths(const std::vector<int>& lengths) {
  EncodedSplit split;
  for (int n : lengths) {
    split.source.push_back(std::vector<int32_t>(n, 5));
    split.target.push_back(std::vector<int32_t>(n + 1, 6));
  }
  return split;
}

TEST(BatchingTest, EveryPairOnceWithinTheTokenBudget) {
  const EncodedSplit split = SplitOfLengths({3, 9, 4, 12, 5, 5, 7, 2, 30, 8});
  BatchingOptions options;
  options.max_tokens = 24;
  options.max_length = 20;  // the 30-token pair is skipped
  ASSERT_OK_AND_ASSIGN(BatchPlan plan, MakeBatches(split, options, 7));
  EXPECT_EQ(plan.skipped_too_long, 1);
  std::multiset<int> seen;
  for (const auto& batch : plan.batches) {
    size_t longest = 0;
    for (int i : batch) {
      seen.insert(i);
      longest = std::max({longest, split.source[i].size(), split.target[i].size()});
    }
    EXPECT_LE(batch.size() * longest, 24u);
  }
  EXPECT_EQ(seen, (std::multiset<int>{0, 1, 2, 3, 4, 5, 6, 7, 9}));
  // Sorted by length: the first batch starts with the three shortest pairs (target lengths 3, 4,
  // 5), then one of the two of length 6 (4 x 6 = 24 tokens).
  ASSERT_EQ(plan.batches[0].size(), 4u);
  EXPECT_THAT(std::vector<int>(plan.batches[0].begin(), plan.batches[0].begin() + 3),
              ElementsAre(7, 0, 2));
}

TEST(BatchingTest, ASentenceLongerThanTheBudgetIsNamed) {
  BatchingOptions options;
  options.max_tokens = 4;
  EXPECT_THAT(MakeBatches(SplitOfLengths({2, 6}), options, 1),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sentence pair 2 has 7")));
}

TEST(BatchingTest, EpochOrdersArePermutationsThatDifferBetweenEpochs) {
  const std::vector<int> a = EpochOrder(50, 3, 0), b = EpochOrder(50, 3, 1);
  EXPECT_EQ(std::set<int>(a.begin(), a.end()).size(), 50u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a, EpochOrder(50, 3, 0));
}

}  // namespace
}  // namespace hat
