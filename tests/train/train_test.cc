// Training: schedules, the loss, collation, overfitting a few sentences, exact resume,
// checkpoints (corrupt files refused, averaging), validation loss, translation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "common/sampling.h"
#include "engine/sub_transformer.h"
#include "engine/super_transformer.h"
#include "nmt/corpus_layout.h"
#include "nmt/prepared_corpus.h"
#include "search/supernet_fitness.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_corpus.h"
#include "train/checkpoint.h"
#include "train/collate.h"
#include "train/label_smoothed_loss.h"
#include "train/lr_schedule.h"
#include "train/trainer.h"
#include "train/translator.h"
#include "train/validation.h"

namespace hat {
namespace {

using ::hat::testing::IsOkAndHolds;
using ::hat::testing::StatusIs;
using ::hat::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(LrScheduleTest, WarmupThenInverseSqrtOrCosine) {
  LrSchedule s;
  s.peak_lr = 1e-3;
  s.warmup_steps = 100;
  s.warmup_init_lr = 0;
  EXPECT_DOUBLE_EQ(s.At(50), 5e-4);
  EXPECT_DOUBLE_EQ(s.At(100), 1e-3);
  EXPECT_DOUBLE_EQ(s.At(400), 5e-4);  // sqrt(100 / 400)
  s.kind = LrSchedule::Kind::kCosine;
  s.total_steps = 300;
  s.min_lr = 1e-5;
  EXPECT_DOUBLE_EQ(s.At(200), 1e-5 + 0.5 * (1e-3 - 1e-5));  // half-way: cos = 0
  EXPECT_DOUBLE_EQ(s.At(300), 1e-5);
  s.total_steps = 50;
  EXPECT_THAT(s.Validate(), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("steps=50")));
  EXPECT_THAT(LrSchedule::ParseKind("step"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LabelSmoothedLossTest, HandComputedValuesAndPaddingIgnored) {
  // Two classes, equal logits: -log p = ln 2 for both; the padded position counts nothing.
  const at::Tensor logits = torch::zeros({1, 2, 2});
  const at::Tensor target = torch::tensor({{0, 1}}, torch::kLong);  // second is padding (id 1)
  const LossSums plain = LabelSmoothedLoss(logits, target, 0.0, /*padding_idx=*/1);
  EXPECT_NEAR(plain.nll.item<double>(), std::log(2.0), 1e-6);
  // Logits (ln 3, 0): p = (3/4, 1/4). Target 0: nll = ln(4/3); smoothing ε = 0.2 over V = 2:
  // 0.8·ln(4/3) + 0.1·(ln(4/3) + ln 4).
  const at::Tensor skewed = torch::tensor({{{std::log(3.0), 0.0}}});
  const LossSums smoothed = LabelSmoothedLoss(skewed, torch::tensor({{0}}, torch::kLong), 0.2, 1);
  EXPECT_NEAR(smoothed.nll.item<double>(), std::log(4.0 / 3), 1e-6);
  EXPECT_NEAR(smoothed.loss.item<double>(),
              0.8 * std::log(4.0 / 3) + 0.1 * (std::log(4.0 / 3) + std::log(4.0)), 1e-6);
}

TEST(LabelSmoothedLossTest, GradientEqualsAutogradOfTheDefinition) {
  torch::manual_seed(5);
  const at::Tensor logits = torch::randn({2, 5, 7}, torch::requires_grad());
  at::Tensor target = torch::randint(0, 7, {2, 5}, torch::kLong);
  target.index_put_({0, 4}, 1);  // padding
  target.index_put_({1, 0}, 1);
  const double eps = 0.1;
  const LossSums fast = LabelSmoothedLoss(logits, target, eps, 1);
  const at::Tensor fast_grad = torch::autograd::grad({fast.loss * 0.5}, {logits})[0];
  // The definition, through autograd.
  const at::Tensor lprobs = torch::log_softmax(logits, -1);
  const at::Tensor keep = target.ne(1);
  const at::Tensor nll = -lprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1).masked_fill(~keep, 0);
  const at::Tensor smooth = -lprobs.sum(-1).masked_fill(~keep, 0);
  const at::Tensor reference = (1 - eps) * nll.sum() + eps / 7 * smooth.sum();
  const at::Tensor reference_grad = torch::autograd::grad({reference * 0.5}, {logits})[0];
  EXPECT_NEAR(fast.loss.item<double>(), reference.item<double>(), 1e-5);
  EXPECT_NEAR(fast.nll.item<double>(), nll.sum().item<double>(), 1e-5);
  EXPECT_TRUE(fast_grad.allclose(reference_grad, 1e-5, 1e-6));
  EXPECT_TRUE(fast_grad[0][4].abs().sum().item<double>() == 0) << "padding gets no gradient";
}

TEST(LabelSmoothedLossTest, FromHiddenEqualsTheLossOfTheProjectedLogits) {
  torch::manual_seed(6);
  // A sliced embedding (as a SubTransformer's is) and logits large enough that a log-sum-exp
  // without its maximum subtracted would overflow.
  const at::Tensor embedding = torch::randn({11, 6}).narrow(1, 0, 4);
  const at::Tensor hidden = 40 * torch::randn({3, 5, 4});
  at::Tensor target = torch::randint(0, 11, {3, 5}, torch::kLong);
  target.index_put_({0, 4}, 1);  // padding
  target.index_put_({2, 3}, 1);
  target.index_put_({2, 4}, 1);
  const LossSums reference = LabelSmoothedLoss(at::linear(hidden, embedding), target, 0.1, 1);
  ASSERT_TRUE(std::isfinite(reference.loss.item<double>()));
  for (int64_t chunk : {1, 4, 5, 256}) {  // 12 non-padding rows: chunks that divide and do not
    const LossSums fast = LabelSmoothedLossFromHidden(hidden, embedding, target, 0.1, 1, chunk);
    EXPECT_NEAR(fast.loss.item<double>(), reference.loss.item<double>(),
                1e-4 * std::abs(reference.loss.item<double>()))
        << "chunk " << chunk;
    EXPECT_NEAR(fast.nll.item<double>(), reference.nll.item<double>(),
                1e-4 * std::abs(reference.nll.item<double>()))
        << "chunk " << chunk;
  }
}

TEST(CollateTest, PadsAndShiftsTheTargetForTeacherForcing) {
  EncodedSplit split;
  split.source = {{10, 11, 2}, {12, 2}};
  split.target = {{20, 2}, {21, 22, 23, 2}};
  const TrainingBatch b = Collate(split, {0, 1});
  EXPECT_TRUE(b.source.equal(torch::tensor({{10, 11, 2}, {12, 2, 1}}, torch::kLong)));
  EXPECT_TRUE(b.target.equal(torch::tensor({{20, 2, 1, 1}, {21, 22, 23, 2}}, torch::kLong)));
  EXPECT_TRUE(b.prev_output.equal(torch::tensor({{2, 20, 1, 1}, {2, 21, 22, 23}}, torch::kLong)));
  EXPECT_EQ(b.target_tokens, 6);
}

TEST(SpaceOfConfigTest, TheSuperTransformerHasTheConfigsOwnDimensions) {
  const DesignSpace base = hat::testing::ToySpace();
  SubTransformerConfig c = SmallestConfig(base);
  c.encoder.ffn_embed_dim = {64, 32};
  c.decoder.layer_num = 1;
  const DesignSpace one = SpaceOfConfig(c, base);
  ASSERT_OK(one.Validate());
  // Each of the two encoder layers may take either FFN width used; nothing else varies.
  EXPECT_EQ(one.Cardinality(), 4);
  EXPECT_EQ(one.super.encoder_ffn_embed_dim, 64);
  EXPECT_EQ(one.super.decoder_layers, 1);
  EXPECT_EQ(one.super.encoder_embed_dim, 24);
  EXPECT_OK(ValidateConfig(ActiveOnly(c), one));
}

TEST(ScaledDropoutTest, ScalesByEachStacksEmbedDimOverTheSuperTransformers) {
  const DesignSpace space = hat::testing::ToySpace();  // super embed dims 32 / 32
  SubTransformerConfig c = LargestConfig(space);
  c.encoder.embed_dim = 24;
  const StepDropout d = ScaledDropout(0.2, c, space.super);
  EXPECT_DOUBLE_EQ(d.encoder, 0.2 * 24 / 32);
  EXPECT_DOUBLE_EQ(d.decoder, 0.2);
}

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    hat::testing::WriteToyCorpus(corpus_dir_.path(), train_pairs_);
    ASSERT_OK_AND_ASSIGN(CorpusLayout layout, ReadCorpusLayout(corpus_dir_.path()));
    PrepareOptions prep;
    prep.vocab_size = 60;
    prep.threads = 1;
    prep.cache_dir = cache_.path();
    ASSERT_OK_AND_ASSIGN(corpus_, PrepareCorpus(layout, prep));
    options_.space = hat::testing::ToySpace();
    options_.steps = 20;
    options_.batching.max_tokens = 256;
    options_.schedule.peak_lr = 3e-3;
    options_.schedule.warmup_steps = 5;
    options_.dropout = 0.1;
    options_.threads = 1;
    options_.save_every = 10;
    options_.out_dir = out_.File("run");
  }

  int train_pairs_ = 200;
  TempDir corpus_dir_, cache_, out_;
  PreparedCorpus corpus_;
  TrainOptions options_;
};

std::vector<at::Tensor> Parameters(const std::string& checkpoint) {
  absl::StatusOr<CheckpointInfo> info = ReadCheckpointInfo(checkpoint);
  EXPECT_TRUE(info.ok()) << info.status();
  auto model = SuperTransformer::Create(info->space, 99);
  EXPECT_TRUE(model.ok());
  EXPECT_OK(RestoreCheckpoint(checkpoint, **model, nullptr));
  return (*model)->parameters();
}

TEST_F(TrainerTest, ResumingGivesTheSameWeightsAsAnUninterruptedRun) {
  ASSERT_OK_AND_ASSIGN(TrainResult straight, TrainTransformer(options_, corpus_));
  EXPECT_EQ(straight.final_step, 20);

  options_.out_dir = out_.File("interrupted");
  options_.steps = 10;  // the "interruption": the run ends at its step-10 checkpoint
  ASSERT_OK(TrainTransformer(options_, corpus_).status());
  options_.steps = 20;
  ASSERT_OK_AND_ASSIGN(TrainResult resumed, TrainTransformer(options_, corpus_));
  EXPECT_EQ(resumed.resumed_from, 10);
  EXPECT_EQ(resumed.steps_run, 10);

  // The training time is summed over both runs: the first run's, as its checkpoint recorded it,
  // plus the second's.
  ASSERT_TRUE(straight.total_seconds.has_value());
  EXPECT_DOUBLE_EQ(*straight.total_seconds, straight.seconds);
  ASSERT_OK_AND_ASSIGN(CheckpointInfo at_10,
                       ReadCheckpointInfo(CheckpointPath(options_.out_dir, 10)));
  ASSERT_TRUE(at_10.train_seconds.has_value());
  ASSERT_TRUE(resumed.total_seconds.has_value());
  EXPECT_DOUBLE_EQ(*resumed.total_seconds, *at_10.train_seconds + resumed.seconds);
  EXPECT_GT(*resumed.total_seconds, resumed.seconds);
  ASSERT_OK_AND_ASSIGN(CheckpointInfo at_20, ReadCheckpointInfo(resumed.last_checkpoint));
  EXPECT_GT(at_20.train_seconds.value_or(0), *at_10.train_seconds);

  const auto a = Parameters(straight.last_checkpoint);
  const auto b = Parameters(resumed.last_checkpoint);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].equal(b[i])) << "parameter " << i;
  // And training did change the weights.
  auto fresh = SuperTransformer::Create(hat::testing::ToySpace(), options_.seed);
  ASSERT_OK(fresh.status());
  EXPECT_FALSE((*fresh)->parameters()[1].equal(a[1]));
}

// A checkpoint from before training time was recorded: the total is unknown, not understated.
TEST_F(TrainerTest, ResumingACheckpointWithoutTrainingTimeLeavesTheTotalUnset) {
  options_.steps = 10;
  ASSERT_OK(TrainTransformer(options_, corpus_).status());
  const std::string at_10 = CheckpointPath(options_.out_dir, 10);
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, ReadCheckpointInfo(at_10));
  info.train_seconds.reset();
  ASSERT_OK_AND_ASSIGN(auto model, SuperTransformer::Create(info.space, 1));
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  ASSERT_OK(RestoreCheckpoint(at_10, *model, &optimizer));
  ASSERT_OK(SaveCheckpoint(at_10, info, *model, &optimizer));
  ASSERT_OK_AND_ASSIGN(CheckpointInfo reread, ReadCheckpointInfo(at_10));
  EXPECT_FALSE(reread.train_seconds.has_value());

  options_.steps = 20;
  ASSERT_OK_AND_ASSIGN(TrainResult resumed, TrainTransformer(options_, corpus_));
  EXPECT_EQ(resumed.resumed_from, 10);
  EXPECT_FALSE(resumed.total_seconds.has_value());
  ASSERT_OK_AND_ASSIGN(CheckpointInfo at_20, ReadCheckpointInfo(resumed.last_checkpoint));
  EXPECT_FALSE(at_20.train_seconds.has_value());
}

TEST_F(TrainerTest, StopRequestWritesACheckpointAndCancels) {
  std::atomic<bool> stop{true};
  EXPECT_THAT(TrainTransformer(options_, corpus_, nullptr, 100, &stop),
              StatusIs(absl::StatusCode::kCancelled, HasSubstr("stopped at step 0")));
  EXPECT_EQ(ListCheckpoints(options_.out_dir).size(), 1u);
}

TEST_F(TrainerTest, AnotherRunInTheSameDirectoryIsRefused) {
  options_.steps = 10;
  ASSERT_OK(TrainTransformer(options_, corpus_).status());
  options_.config = SmallestConfig(options_.space);
  EXPECT_THAT(TrainTransformer(options_, corpus_),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("supernet run")));
}

// A SubTransformer's dropout is scaled against its design space's SuperTransformer: the same
// config trained on a space of another width would continue with another dropout.
TEST_F(TrainerTest, ResumingWithAnotherDropoutScalingIsRefused) {
  options_.steps = 10;
  options_.config = SmallestConfig(options_.space);  // embed dims 24 of 32
  ASSERT_OK(TrainTransformer(options_, corpus_).status());
  options_.steps = 20;
  options_.space.super.encoder_embed_dim = 48;
  EXPECT_THAT(TrainTransformer(options_, corpus_),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("dropout was scaled against embed dims 32/32, not 48/32")));

  // A checkpoint whose record of it is damaged is refused, not guessed at.
  options_.space = hat::testing::ToySpace();
  const std::string newest = ListCheckpoints(options_.out_dir).back();
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, ReadCheckpointInfo(newest));
  info.options_json = R"({"dropout_embed_reference": [32, "wide"]})";
  ASSERT_OK_AND_ASSIGN(auto model, SuperTransformer::Create(info.space, 1));
  ASSERT_OK(RestoreCheckpoint(newest, *model, nullptr));
  ASSERT_OK(SaveCheckpoint(CheckpointPath(options_.out_dir, 15), info, *model, nullptr));
  EXPECT_THAT(TrainTransformer(options_, corpus_),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("checkpoint_15.pt: dropout_embed_reference is not two integers")));
}

TEST_F(TrainerTest, CorruptAndTruncatedCheckpointsAreRefusedWithTheirName) {
  options_.steps = 10;
  ASSERT_OK_AND_ASSIGN(TrainResult r, TrainTransformer(options_, corpus_));
  const std::string path = r.last_checkpoint;
  ASSERT_OK(ReadCheckpointInfo(path).status());
  const std::string truncated = out_.File("truncated.pt");
  std::filesystem::copy_file(path, truncated);
  std::filesystem::resize_file(truncated, std::filesystem::file_size(path) / 2);
  EXPECT_THAT(ReadCheckpointInfo(truncated),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("truncated.pt")));
  std::ofstream(out_.File("garbage.pt")) << "definitely not a checkpoint";
  EXPECT_THAT(ReadCheckpointInfo(out_.File("garbage.pt")),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("garbage.pt")));
  // Into a model of other dimensions: refused before any copy.
  ASSERT_OK_AND_ASSIGN(
      auto other,
      SuperTransformer::Create(SpaceOfConfig(SmallestConfig(options_.space), options_.space), 1));
  EXPECT_THAT(RestoreCheckpoint(path, *other, nullptr),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("other dimensions")));
  // A half-written checkpoint in the run directory stops a resume instead of being ignored.
  std::filesystem::copy_file(truncated, CheckpointPath(options_.out_dir, 15));
  options_.steps = 20;
  EXPECT_THAT(TrainTransformer(options_, corpus_),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("checkpoint_15.pt")));
}

TEST_F(TrainerTest, CheckpointsToAverageAreNamedByFileOrRunDirectory) {
  options_.steps = 20;
  ASSERT_OK(TrainTransformer(options_, corpus_).status());
  const std::string at_10 = CheckpointPath(options_.out_dir, 10),
                    at_20 = CheckpointPath(options_.out_dir, 20);
  EXPECT_THAT(ExpandCheckpoints({options_.out_dir}), IsOkAndHolds(ElementsAre(at_10, at_20)));
  EXPECT_THAT(ExpandCheckpoints({options_.out_dir}, 1), IsOkAndHolds(ElementsAre(at_20)));
  EXPECT_THAT(ExpandCheckpoints({at_20, at_10}), IsOkAndHolds(ElementsAre(at_20, at_10)));
  EXPECT_THAT(ExpandCheckpoints({options_.out_dir}, 3),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("the last 3 checkpoints asked for, 2 found")));
  EXPECT_THAT(ExpandCheckpoints({options_.out_dir, at_10}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("named twice")));
  EXPECT_THAT(ExpandCheckpoints({out_.File("nowhere")}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nowhere: no such checkpoint")));
  std::filesystem::create_directories(out_.File("empty"));
  EXPECT_THAT(ExpandCheckpoints({out_.File("empty")}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("empty: holds no checkpoint")));
  EXPECT_THAT(ExpandCheckpoints({}), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(TrainerTest, AveragedCheckpointIsTheMeanOfTheLastOnes) {
  options_.steps = 20;
  options_.average_last = 2;
  ASSERT_OK_AND_ASSIGN(TrainResult r, TrainTransformer(options_, corpus_));
  const std::vector<std::string> all = ListCheckpoints(options_.out_dir);
  ASSERT_EQ(all.size(), 2u);
  const auto a = Parameters(all[0]), b = Parameters(all[1]),
             avg = Parameters(r.averaged_checkpoint);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(avg[i].allclose((a[i] + b[i]) / 2, 1e-6, 1e-7));
  ASSERT_OK_AND_ASSIGN(CheckpointReader averaged, CheckpointReader::Open(r.averaged_checkpoint));
  EXPECT_EQ(averaged.info().averaged_from, 2);
  // An average has no optimizer state: it cannot be resumed from.
  ASSERT_OK_AND_ASSIGN(auto model, SuperTransformer::Create(averaged.info().space, 1));
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  EXPECT_THAT(averaged.Restore(*model, &optimizer),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no optimizer state")));
  ASSERT_OK_AND_ASSIGN(std::string resolved, ResolveCheckpoint(options_.out_dir));
  EXPECT_EQ(resolved, r.averaged_checkpoint);
}

TEST_F(TrainerTest, ValidationLossIsDeterministicAndRefusesOutOfSpaceConfigs) {
  options_.steps = 10;
  ASSERT_OK_AND_ASSIGN(TrainResult r, TrainTransformer(options_, corpus_));
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, ReadCheckpointInfo(r.last_checkpoint));
  ASSERT_OK_AND_ASSIGN(auto model, SuperTransformer::Create(info.space, 0));
  ASSERT_OK(RestoreCheckpoint(r.last_checkpoint, *model, nullptr));
  ASSERT_OK_AND_ASSIGN(ValidationSet set, MakeValidationSet(corpus_.valid, 8, 256, 64));
  EXPECT_EQ(set.sentences, 8);
  const SubTransformerConfig config = SmallestConfig(info.space);
  ASSERT_OK_AND_ASSIGN(ValidationResult a, ValidationLoss(*model, config, set, 0.1));
  ASSERT_OK_AND_ASSIGN(ValidationResult b, ValidationLoss(*model, config, set, 0.1));
  EXPECT_EQ(a.loss, b.loss);
  EXPECT_GT(a.loss, a.nll);  // smoothing adds to the loss of a confident model
  SubTransformerConfig outside = config;
  outside.encoder.embed_dim = 40;
  EXPECT_THAT(ValidationLoss(*model, outside, set, 0.1),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(TrainerTest, SearchFitnessIsTheSameWhateverTheNumberOfEvaluationThreads) {
  options_.steps = 10;
  ASSERT_OK(TrainTransformer(options_, corpus_).status());
  const std::vector<SubTransformerConfig> configs = SampleConfigs(options_.space, 7, 3);
  std::vector<std::vector<double>> losses;
  for (int threads : {1, 3}) {
    SupernetFitnessOptions fitness;
    fitness.valid_sentences = 8;
    fitness.threads = threads;
    ASSERT_OK_AND_ASSIGN(auto evaluator, SupernetFitness::Load(options_.out_dir, fitness));
    ASSERT_OK_AND_ASSIGN(losses.emplace_back(), evaluator->Evaluate(configs));
    // The same config evaluated alone gets the same loss as among others.
    ASSERT_OK_AND_ASSIGN(std::vector<double> alone, evaluator->Evaluate({configs[4]}));
    EXPECT_EQ(alone[0], losses.back()[4]);
    // A config outside the space fails the call, whichever thread took it.
    std::vector<SubTransformerConfig> with_bad = configs;
    with_bad[5].encoder.embed_dim = 40;
    EXPECT_THAT(evaluator->Evaluate(with_bad), StatusIs(absl::StatusCode::kInvalidArgument));
  }
  ASSERT_EQ(losses[0].size(), configs.size());
  EXPECT_EQ(losses[0], losses[1]);        // bit for bit
  EXPECT_NE(losses[0][0], losses[0][1]);  // different configs, different losses
}

class OverfitTest : public TrainerTest {
 protected:
  OverfitTest() { train_pairs_ = 4; }
};

TEST_F(OverfitTest, ATinySuperTransformerLearnsFourSentencesByHeart) {
  options_.steps = 300;
  options_.dropout = 0;
  options_.label_smoothing = 0;
  options_.schedule.peak_lr = 1e-2;
  options_.schedule.warmup_steps = 20;
  options_.save_every = 1000;
  // One fixed SubTransformer: the largest of the toy space.
  options_.config = LargestConfig(options_.space);
  ASSERT_OK_AND_ASSIGN(TrainResult r, TrainTransformer(options_, corpus_));
  EXPECT_LT(r.final_loss, 0.05) << "training loss per token after 300 steps";

  // The trained model, extracted, translates its training sentences exactly.
  ASSERT_OK_AND_ASSIGN(CheckpointInfo info, ReadCheckpointInfo(r.last_checkpoint));
  ASSERT_OK_AND_ASSIGN(auto model, SuperTransformer::Create(info.space, 0));
  ASSERT_OK(RestoreCheckpoint(r.last_checkpoint, *model, nullptr));
  ASSERT_OK_AND_ASSIGN(SubTransformer sub, SubTransformer::Extract(*model, *info.config));
  std::vector<std::string> sources, targets;
  for (const auto& [en, de] : hat::testing::ToyPairs(4, 1)) {
    sources.push_back(en);
    targets.push_back(de);
  }
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> out,
                       Translate(sub, *corpus_.subword, sources, TranslateOptions{}));
  EXPECT_EQ(out, targets);
}

}  // namespace
}  // namespace hat
