// A toy parallel corpus on disk for data-pipeline and training tests: "English" sentences over a
// dozen words and their word-by-word "German" translations, so that a small model can learn the
// task in a few hundred steps. corpus.json names the languages (en, de).
#ifndef HATFLEET_TESTS_SUPPORT_TOY_CORPUS_H_
#define HATFLEET_TESTS_SUPPORT_TOY_CORPUS_H_

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "common/design_space.h"

namespace hat::testing {

inline std::vector<std::pair<std::string, std::string>> ToyPairs(int count, int offset) {
  static const char* kEnglish[] = {"a",   "dog", "cat", "runs", "sits", "on",
                                   "the", "red", "big", "mat",  "in",   "park"};
  static const char* kGerman[] = {"ein", "hund", "katze",  "rennt", "sitzt", "auf",
                                  "der", "rote", "grosse", "matte", "im",    "park"};
  std::vector<std::pair<std::string, std::string>> pairs;
  uint64_t state = 0x2545F4914F6CDD1DULL + static_cast<uint64_t>(offset);
  auto next = [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int i = 0; i < count; ++i) {
    const int len = 3 + static_cast<int>(next() % 5);
    std::string en, de;
    for (int w = 0; w < len; ++w) {
      const int k = static_cast<int>(next() % 12);
      en += (w ? " " : "") + std::string(kEnglish[k]);
      de += (w ? " " : "") + std::string(kGerman[k]);
    }
    pairs.emplace_back(en, de);
  }
  return pairs;
}

// Writes train (train_pairs), valid and test (16 each) splits and corpus.json into `dir`.
inline void WriteToyCorpus(const std::string& dir, int train_pairs = 200) {
  const std::pair<const char*, int> splits[] = {
      {"train", train_pairs}, {"valid", 16}, {"test", 16}};
  int offset = 0;
  for (const auto& [split, n] : splits) {
    std::ofstream en(dir + "/" + split + ".en"), de(dir + "/" + split + ".de");
    for (const auto& [e, d] : ToyPairs(n, ++offset)) {
      en << e << "\n";
      de << d << "\n";
    }
  }
  std::ofstream(dir + "/corpus.json") << R"({"languages": ["en", "de"]})";
}

// A small SuperTransformer space for training tests: embed {32, 24}, FFN {64, 32}, heads {2, 1},
// 2 encoder layers, decoder depth {2, 1}, qkv 32, vocabulary 128, 64 positions.
inline DesignSpace ToySpace() {
  DesignSpace s;
  s.name = "toy";
  s.super = {32, 32, 64, 64, 2, 2, 2, 2, 32, 128, 64};
  s.MutableChoices(Gene::kEncoderEmbedDim) = {32, 24};
  s.MutableChoices(Gene::kEncoderLayerNum) = {2};
  s.MutableChoices(Gene::kEncoderFfnEmbedDim) = {64, 32};
  s.MutableChoices(Gene::kEncoderSelfAttentionHeads) = {2, 1};
  s.MutableChoices(Gene::kDecoderEmbedDim) = {32, 24};
  s.MutableChoices(Gene::kDecoderLayerNum) = {2, 1};
  s.MutableChoices(Gene::kDecoderFfnEmbedDim) = {64, 32};
  s.MutableChoices(Gene::kDecoderSelfAttentionHeads) = {2, 1};
  s.MutableChoices(Gene::kDecoderEndeAttentionHeads) = {2, 1};
  s.MutableChoices(Gene::kDecoderArbitraryEndeAttn) = {-1, 1};
  return s;
}

}  // namespace hat::testing

#endif  // HATFLEET_TESTS_SUPPORT_TOY_CORPUS_H_
