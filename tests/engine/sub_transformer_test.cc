// Standalone SubTransformers: parameter count, save/load round trip, corrupt files refused.
#include "engine/sub_transformer.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include "common/cost_model.h"
#include "common/file_util.h"
#include "common/sampling.h"
#include "engine/super_transformer.h"
#include "engine/transformer_forward.h"
#include "tests/engine/engine_test_util.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::RandomTokens;
using ::hat::testing::SmallTinySpace;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

class SubTransformerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    space_ = SmallTinySpace();
    auto super = SuperTransformer::Create(space_, 3);
    ASSERT_TRUE(super.ok()) << super.status();
    super_ = *super;
    config_ = SampleConfigs(space_, 1, 12)[0];
  }
  DesignSpace space_;
  std::shared_ptr<SuperTransformer> super_;
  SubTransformerConfig config_;
  hat::testing::TempDir dir_;
};

TEST_F(SubTransformerTest, ParameterCountMatchesTheCostModel) {
  for (const SubTransformerConfig& config : SampleConfigs(space_, 5, 2)) {
    ASSERT_OK_AND_ASSIGN(SubTransformer model, SubTransformer::Extract(*super_, config));
    ASSERT_OK_AND_ASSIGN(ModelCost cost, EstimateCost(config, space_));
    EXPECT_EQ(model.ParameterCount(), cost.params) << CanonicalKey(config);
  }
}

TEST_F(SubTransformerTest, SaveLoadRoundTripGivesIdenticalOutputs) {
  ASSERT_OK_AND_ASSIGN(SubTransformer model, SubTransformer::Extract(*super_, config_));
  const std::string path = dir_.File("model.pt");
  ASSERT_THAT(model.Save(path), IsOk());
  ASSERT_OK_AND_ASSIGN(SubTransformer loaded, SubTransformer::Load(path));
  EXPECT_EQ(CanonicalKey(loaded.config()), CanonicalKey(config_));
  EXPECT_EQ(loaded.ParameterCount(), model.ParameterCount());
  c10::InferenceMode inference;
  const at::Tensor src = RandomTokens(2, 6, space_.super.vocab_size, 3);
  const at::Tensor prev = RandomTokens(2, 4, space_.super.vocab_size, 4);
  const at::Tensor a = DecodeAll(model.weights(), prev, Encode(model.weights(), src));
  const at::Tensor b = DecodeAll(loaded.weights(), prev, Encode(loaded.weights(), src));
  EXPECT_TRUE(at::equal(a, b));
}

// A random SubTransformer is the extracted one's twin in every tensor's name and shape (what
// latency depends on), drawn from its seed.
TEST_F(SubTransformerTest, RandomHasTheExtractedModelsTensorsAndIsSeeded) {
  for (const SubTransformerConfig& config : SampleConfigs(space_, 4, 7)) {
    ASSERT_OK_AND_ASSIGN(SubTransformer extracted, SubTransformer::Extract(*super_, config));
    ASSERT_OK_AND_ASSIGN(SubTransformer random, SubTransformer::Random(space_, config, 5));
    EXPECT_EQ(CanonicalKey(random.config()), CanonicalKey(extracted.config()));
    EXPECT_EQ(random.ParameterCount(), extracted.ParameterCount());
    EXPECT_EQ(random.max_positions(), extracted.max_positions());
    EXPECT_EQ(random.ResidentBytes(), extracted.ResidentBytes());
    EXPECT_GT(random.ResidentBytes(), 4 * random.ParameterCount());  // + positions, packed copies
    const std::string pe = dir_.File("extracted.pt"), pr = dir_.File("random.pt");
    ASSERT_THAT(extracted.Save(pe), IsOk());
    ASSERT_THAT(random.Save(pr), IsOk());
    torch::serialize::InputArchive ae, ar;
    ae.load_from(pe);
    ar.load_from(pr);
    ASSERT_EQ(ae.keys(), ar.keys());
    for (const std::string& key : ae.keys()) {
      if (key == "meta") continue;
      at::Tensor te, tr;
      ae.read(key, te);
      ar.read(key, tr);
      EXPECT_EQ(te.sizes(), tr.sizes()) << key;
      EXPECT_TRUE(at::isfinite(tr).all().item<bool>()) << key;
      // Drawn from the same distribution: the same spread (what the arithmetic sees).
      if (te.numel() >= 512) {
        const double se = te.std().item<double>(), sr = tr.std().item<double>();
        if (se == 0) {
          EXPECT_TRUE(at::equal(te, tr)) << key;  // constants: biases 0, norms 1
        } else {
          EXPECT_NEAR(sr / se, 1.0, 0.1) << key << ": std " << sr << " vs " << se;
        }
      }
    }
  }
  c10::InferenceMode inference;
  const at::Tensor src = RandomTokens(2, 6, space_.super.vocab_size, 3);
  const at::Tensor prev = RandomTokens(2, 4, space_.super.vocab_size, 4);
  auto run = [&](uint64_t seed) {
    absl::StatusOr<SubTransformer> m = SubTransformer::Random(space_, config_, seed);
    EXPECT_TRUE(m.ok()) << m.status();
    return DecodeAll(m->weights(), prev, Encode(m->weights(), src));
  };
  const at::Tensor a = run(5), b = run(5), c = run(6);
  EXPECT_TRUE(at::isfinite(a).all().item<bool>());
  EXPECT_TRUE(at::equal(a, b));
  EXPECT_FALSE(at::equal(a, c));
}

TEST_F(SubTransformerTest, TruncatedOrGarbageFileIsRefused) {
  ASSERT_OK_AND_ASSIGN(SubTransformer model, SubTransformer::Extract(*super_, config_));
  const std::string path = dir_.File("model.pt");
  ASSERT_THAT(model.Save(path), IsOk());
  ASSERT_OK_AND_ASSIGN(std::string bytes, ReadFileToString(path, 1 << 30));
  const std::string truncated = dir_.File("truncated.pt");
  ASSERT_THAT(WriteFileAtomically(truncated, bytes.substr(0, bytes.size() / 2)), IsOk());
  EXPECT_THAT(SubTransformer::Load(truncated),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated.pt")));
  const std::string garbage = dir_.File("garbage.pt");
  ASSERT_THAT(WriteFileAtomically(garbage, "this is not a model"), IsOk());
  EXPECT_THAT(SubTransformer::Load(garbage),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("not a readable SubTransformer")));
  EXPECT_THAT(SubTransformer::Load(dir_.File("absent.pt")),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("absent.pt")));
}

TEST_F(SubTransformerTest, TensorsOfAnotherConfigAreRefusedByName) {
  // A file whose metadata claims FFN 512 but whose tensors are of an FFN-64 model.
  SubTransformerConfig wide = config_;
  wide.decoder.ffn_embed_dim.assign(wide.decoder.ffn_embed_dim.size(), 512);
  SubTransformerConfig narrow = config_;
  narrow.decoder.ffn_embed_dim.assign(narrow.decoder.ffn_embed_dim.size(), 64);
  ASSERT_OK_AND_ASSIGN(SubTransformer a, SubTransformer::Extract(*super_, wide));
  ASSERT_OK_AND_ASSIGN(SubTransformer b, SubTransformer::Extract(*super_, narrow));
  const std::string pa = dir_.File("a.pt"), pb = dir_.File("b.pt"), mixed = dir_.File("mixed.pt");
  ASSERT_THAT(a.Save(pa), IsOk());
  ASSERT_THAT(b.Save(pb), IsOk());
  torch::serialize::InputArchive meta_source, tensor_source;
  meta_source.load_from(pa);
  tensor_source.load_from(pb);
  torch::serialize::OutputArchive out;
  c10::IValue meta;
  meta_source.read("meta", meta);
  out.write("meta", meta);
  for (const std::string& key : tensor_source.keys()) {
    if (key == "meta") continue;
    at::Tensor t;
    tensor_source.read(key, t);
    out.write(key, t);
  }
  out.save_to(mixed);
  EXPECT_THAT(SubTransformer::Load(mixed),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("tensor decoder.0.fc1.weight has shape [64, ")));
}

TEST_F(SubTransformerTest, NewerFormatIsRefusedWithBothVersions) {
  torch::serialize::OutputArchive out;
  out.write("meta", c10::IValue(std::string(R"({"format": "hatfleet.subtransformer.v7"})")));
  const std::string path = dir_.File("future.pt");
  out.save_to(path);
  EXPECT_THAT(SubTransformer::Load(path),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("'hatfleet.subtransformer.v7' is not readable by this build "
                                 "(it reads hatfleet.subtransformer.v1)")));
}

}  // namespace
}  // namespace hat
