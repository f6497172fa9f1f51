// Every YAML file HAT ships for WMT'14 en-de loads as the kind it is, with its values.
#include "common/hat_yaml.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "common/builtin_spaces.h"
#include "common/file_util.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"

namespace hat {
namespace {

using ::hat::testing::HatConfigPath;
using ::hat::testing::IsOk;
using ::hat::testing::ListFiles;
using ::hat::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(HatYamlTest, EveryShippedFileLoadsAsItsKind) {
  const std::map<std::string, HatYamlKind> kind_of_dir = {
      {"supertransformer", HatYamlKind::kSpace},
      {"latency_dataset", HatYamlKind::kLatencyDataset},
      {"latency_predictor", HatYamlKind::kPredictor},
      {"evo_search", HatYamlKind::kEvoSearch},
      {"subtransformer", HatYamlKind::kSubTransformer},
  };
  int loaded = 0;
  for (const auto& [dir, kind] : kind_of_dir) {
    for (const std::string& path : ListFiles(HatConfigPath(dir), "", ".yml")) {
      absl::StatusOr<HatYamlFile> file = LoadHatYamlFile(path);
      ASSERT_THAT(file, IsOk()) << path;
      const HatYamlKind want = FileStem(path) == "common" ? HatYamlKind::kTraining : kind;
      EXPECT_EQ(file->kind, want) << path << " loaded as " << HatYamlKindName(file->kind);
      ++loaded;
    }
  }
  // 1 space, 3 latency datasets, 3 predictors, 3 evo searches, 17 SubTransformers + common.yml.
  EXPECT_EQ(loaded, 28);
}

TEST(HatYamlTest, SpaceFileCarriesItsTrainingSettings) {
  ASSERT_OK_AND_ASSIGN(HatYamlFile f,
                       LoadHatYamlFile(HatConfigPath("supertransformer/space0.yml")));
  ASSERT_TRUE(f.space.has_value());
  ASSERT_TRUE(f.training.has_value());
  EXPECT_EQ(f.training->max_update, 40000);
  EXPECT_EQ(f.training->warmup_updates, 10000);
  EXPECT_EQ(f.training->lr_scheduler, "cosine");
  EXPECT_DOUBLE_EQ(*f.training->max_lr, 0.001);
  EXPECT_DOUBLE_EQ(f.training->adam_beta2, 0.98);
  EXPECT_DOUBLE_EQ(f.training->dropout, 0.3);
  EXPECT_DOUBLE_EQ(f.training->label_smoothing, 0.1);
  EXPECT_EQ(f.training->update_freq, 16);
  EXPECT_TRUE(f.training->fp16);
}

TEST(HatYamlTest, LatencyDatasetSettings) {
  ASSERT_OK_AND_ASSIGN(HatYamlFile f,
                       LoadHatYamlFile(HatConfigPath("latency_dataset/gpu_titanxp.yml")));
  ASSERT_TRUE(f.latency_dataset.has_value());
  EXPECT_TRUE(f.latency_dataset->gpu);
  EXPECT_EQ(f.latency_dataset->dataset_size, 2000);
  EXPECT_EQ(f.latency_dataset->timed_runs, 20);
  DesignSpace want = *BuiltinSpace("hat-wmt14-en-de-latency");
  want.name = "gpu_titanxp";
  EXPECT_EQ(f.latency_dataset->space, want);
}

TEST(HatYamlTest, PredictorSettings) {
  ASSERT_OK_AND_ASSIGN(HatYamlFile f,
                       LoadHatYamlFile(HatConfigPath("latency_predictor/cpu_xeon.yml")));
  ASSERT_TRUE(f.predictor.has_value());
  EXPECT_THAT(f.predictor->feature_norm, ElementsAre(640, 6, 2048, 6, 640, 6, 2048, 6, 6, 2));
  EXPECT_DOUBLE_EQ(f.predictor->lat_norm, 300);
  EXPECT_EQ(f.predictor->hidden_dim, 400);
  EXPECT_EQ(f.predictor->hidden_layer_num, 3);
  EXPECT_EQ(f.predictor->train_steps, 5000);
  EXPECT_EQ(f.predictor->batch_size, 128);
  EXPECT_DOUBLE_EQ(f.predictor->lr, 1e-5);
}

TEST(HatYamlTest, EvoSearchSettings) {
  ASSERT_OK_AND_ASSIGN(HatYamlFile f,
                       LoadHatYamlFile(HatConfigPath("evo_search/wmt14ende_xeon.yml")));
  ASSERT_TRUE(f.evo_search.has_value());
  EXPECT_EQ(f.evo_search->iterations, 30);
  EXPECT_EQ(f.evo_search->population_size, 125);
  EXPECT_EQ(f.evo_search->parent_size, 25);
  EXPECT_EQ(f.evo_search->mutation_size, 50);
  EXPECT_EQ(f.evo_search->crossover_size, 50);
  EXPECT_DOUBLE_EQ(f.evo_search->mutation_prob, 0.3);
  EXPECT_DOUBLE_EQ(f.evo_search->latency_constraint_ms, 200);
}

TEST(HatYamlTest, InconsistentOrForeignFilesAreRefusedWithTheKey) {
  hat::testing::TempDir dir;
  const std::string evo = dir.File("evo.yml");
  ASSERT_THAT(WriteFileAtomically(evo,
                                  "evo-iter: 30\npopulation-size: 125\nparent-size: 25\n"
                                  "mutation-size: 50\ncrossover-size: 40\nmutation-prob: 0.3\n"),
              IsOk());
  EXPECT_THAT(LoadHatYamlFile(evo),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("population-size (line 2)=125: must equal parent-size + "
                                 "mutation-size + crossover-size (25 + 50 + 40)")));
  const std::string predictor = dir.File("p.yml");
  ASSERT_THAT(WriteFileAtomically(predictor,
                                  "feature-norm: [640, 6]\nlat-norm: 300\n"
                                  "feature-dim: 10\nhidden-dim: 400\n"
                                  "hidden-layer-num: 3\ntrain-steps: 5000\nbsz: 128\n"
                                  "lr: 1e-5\n"),
              IsOk());
  EXPECT_THAT(LoadHatYamlFile(predictor),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("feature-norm (line 1): has 2 entries but feature-dim is 10")));
  const std::string training = dir.File("t.yml");
  ASSERT_THAT(WriteFileAtomically(training, "max-update: 10\nadam-betas: (0.9 0.98)\n"), IsOk());
  EXPECT_THAT(LoadHatYamlFile(training),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("adam-betas (line 2)")));
  const std::string other = dir.File("o.yml");
  ASSERT_THAT(WriteFileAtomically(other, "hello: world\n"), IsOk());
  EXPECT_THAT(LoadHatYamlFile(other),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a HAT config")));
}

}  // namespace
}  // namespace hat
