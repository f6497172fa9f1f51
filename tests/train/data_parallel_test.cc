// Data-parallel SuperTransformer training over LibTorch's c10d (Gloo on loopback), run as a user
// runs it: one `hatctl supernet train` process per rank. Two ranks make the weights one rank
// makes from the whole batches; a rank killed mid-run fails the run with a message that says
// so, and the next start resumes from rank 0's newest checkpoint to the same weights.
#include "train/data_parallel.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/free_port.h"
#include "engine/super_transformer.h"
#include "tests/support/polling.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_corpus.h"
#include "train/checkpoint.h"
#include "train/data_parallel_update.h"

namespace hat {
namespace {

using ::hat::testing::ReadAll;
using ::hat::testing::Subprocess;
using ::testing::HasSubstr;

// Two runs' weights may differ by rounding only: float sums in another order (two shards'
// gradients added, then divided, against one batch's). Adam turns rounding in gradients near zero
// into whole steps of the learning rate, so the runs drift apart a little, measured as the
// distance between their weights over the distance the weights moved in training: 0.009 after
// 30 updates here. Leaving out the other rank's gradients makes it 0.27. (Adam does not see a
// gradient's scale: AllReduceUpdateTest checks the arithmetic exactly.)
constexpr double kTolerance = 0.05;

class DataParallelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("corpus"));
    hat::testing::WriteToyCorpus(dir_.File("corpus"));
  }

  // `hatctl supernet train` of the tiny space, dropout off (the ranks' dropout masks differ).
  // `world_size` 0: no flags of a group (--local-ranks adds its own).
  std::vector<std::string> Args(const std::string& out, int64_t steps, int world_size, int rank,
                                int port, const std::string& lr = "2e-3") const {
    std::vector<std::string> args = {HATCTL_PATH,
                                     "supernet",
                                     "train",
                                     "--space",
                                     "tiny",
                                     "--data",
                                     dir_.File("corpus"),
                                     "--vocab-size",
                                     "60",
                                     "--cache",
                                     dir_.File("cache"),
                                     "--threads",
                                     "1",
                                     "--out",
                                     dir_.File(out),
                                     "--steps",
                                     std::to_string(steps),
                                     "--max-tokens",
                                     "96",
                                     "--dropout",
                                     "0",
                                     "--lr",
                                     lr,
                                     "--warmup",
                                     "5",
                                     "--save-every",
                                     "10",
                                     "--log-every",
                                     "10",
                                     "--json",
                                     "--dist-timeout",
                                     "60"};
    if (world_size > 0) {
      for (const std::string& a :
           {std::string("--world-size"), std::to_string(world_size), std::string("--rank"),
            std::to_string(rank), std::string("--master"), "127.0.0.1:" + std::to_string(port)}) {
        args.push_back(a);
      }
    }
    return args;
  }

  // Runs one rank to its end; its exit code, its output in `log`.
  int RunAlone(const std::string& out, int64_t steps, std::string* log) {
    Subprocess p(Args(out, steps, 1, 0, FreeLoopbackPort()), dir_.File(out + ".log"));
    const int code = p.Wait();
    *log = p.Log();
    return code;
  }

  // Runs two ranks (rank 1 in its own run directory) to their end; rank 0's JSON result.
  nlohmann::json RunTwoRanks(const std::string& out, int64_t steps) {
    const int port = FreeLoopbackPort();
    Subprocess rank0(Args(out, steps, 2, 0, port), dir_.File(out + ".rank0.log"));
    Subprocess rank1(Args(out + "-rank1", steps, 2, 1, port), dir_.File(out + ".rank1.log"));
    EXPECT_EQ(rank1.Wait(), 0) << rank1.Log();
    EXPECT_EQ(rank0.Wait(), 0) << rank0.Log();
    return LastJson(rank0.Log());
  }

  static nlohmann::json LastJson(const std::string& log) {
    const size_t open = log.rfind("\n{");
    return nlohmann::json::parse(open == std::string::npos ? log : log.substr(open + 1), nullptr,
                                 false);
  }

  // A checkpoint's SuperTransformer weights; without a path, the run's initialisation (seed 1).
  static std::vector<at::Tensor> Weights(const std::string& path, const DesignSpace& space) {
    absl::StatusOr<std::shared_ptr<SuperTransformer>> model = SuperTransformer::Create(space, 1);
    EXPECT_TRUE(model.ok()) << model.status();
    if (!path.empty()) {
      absl::StatusOr<CheckpointReader> reader = CheckpointReader::Open(path);
      EXPECT_TRUE(reader.ok()) << reader.status();
      EXPECT_TRUE(reader->Restore(**model, nullptr).ok());
    }
    return (*model)->parameters();
  }
  static double Distance(const std::vector<at::Tensor>& x, const std::vector<at::Tensor>& y) {
    EXPECT_EQ(x.size(), y.size());
    double squares = 0;
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      squares += (x[i] - y[i]).pow(2).sum().item<double>();
    }
    return std::sqrt(squares);
  }
  // How far apart two runs' weights are, against how far the first moved from the
  // initialisation (L2 over all parameters).
  static double RelativeDistance(const std::string& a, const std::string& b) {
    absl::StatusOr<CheckpointReader> reader = CheckpointReader::Open(a);
    EXPECT_TRUE(reader.ok()) << reader.status();
    const DesignSpace space = reader->info().space;
    const std::vector<at::Tensor> first = Weights(a, space);
    return Distance(first, Weights(b, space)) / Distance(first, Weights("", space));
  }

  // The newest checkpoint's step in a run directory; 0 when none.
  int64_t NewestCheckpoint(const std::string& out) const {
    int64_t newest = 0;
    if (!std::filesystem::exists(dir_.File(out))) return 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.File(out))) {
      const std::string name = entry.path().filename().string();
      int64_t step = 0;
      if (std::sscanf(name.c_str(), "checkpoint_%ld.pt", &step) == 1) {
        newest = std::max(newest, step);
      }
    }
    return newest;
  }

  hat::testing::TempDir dir_;
};

// Two ranks as two threads of this process: the touched regions are summed, the rest of each
// gradient is left alone, and everything is divided by the whole batch's target tokens.
TEST(AllReduceUpdateTest, SumsTheTouchedRegionsAndDividesByTheBatchsTokens) {
  const int port = FreeLoopbackPort();
  std::vector<std::vector<float>> p0_grads(2), p1_grads(2);
  std::vector<BatchSums> totals(2);
  auto rank = [&](int r) {
    DistributedOptions options;
    options.world_size = 2;
    options.rank = r;
    options.master = "127.0.0.1:" + std::to_string(port);
    options.timeout_s = 60;
    absl::StatusOr<std::unique_ptr<DataParallelGroup>> group = DataParallelGroup::Join(options);
    ASSERT_TRUE(group.ok()) << group.status();
    const std::vector<at::Tensor> params = {torch::zeros({4, 3}).requires_grad_(),
                                            torch::zeros({5}).requires_grad_(),
                                            torch::zeros({2}).requires_grad_()};
    SubTransformerWeights w;  // a SubTransformer reading 4x2 of p0 and 3 of p1, not p2
    w.encoder_embed = params[0].narrow(1, 0, 2);
    w.decoder_embed = params[0].narrow(1, 0, 1);
    w.encoder_positions = torch::zeros({4, 2});  // a buffer, no parameter
    w.encoder_layers.emplace_back();
    w.encoder_layers[0].ffn.fc1.weight = params[1].narrow(0, 0, 3);
    const std::vector<TouchedRegion> regions = TouchedRegions(params, w);
    ASSERT_EQ(regions.size(), 2u);
    EXPECT_EQ(regions[0].param, 0u);
    EXPECT_EQ(regions[0].extent, (std::vector<int64_t>{4, 2}));
    EXPECT_EQ(regions[1].param, 1u);
    EXPECT_EQ(regions[1].extent, (std::vector<int64_t>{3}));
    // Rank 0's shard: gradient 1 on p0's region, none on p1; 3 target tokens. Rank 1: 2 on p0, 4
    // on p1's region; 5 tokens.
    params[0].mutable_grad() = torch::zeros({4, 3});
    params[0].mutable_grad().narrow(1, 0, 2).fill_(r == 0 ? 1 : 2);
    if (r == 1) {
      params[1].mutable_grad() = torch::zeros({5});
      params[1].mutable_grad().narrow(0, 0, 3).fill_(4);
    }
    BatchSums local;
    local.loss = r == 0 ? 1.5 : 2.5;
    local.target_tokens = r == 0 ? 3 : 5;
    local.source_tokens = 7;
    absl::StatusOr<BatchSums> total = AllReduceUpdate(**group, params, regions, local, 1);
    ASSERT_TRUE(total.ok()) << total.status();
    totals[r] = *total;
    const at::Tensor g0 = params[0].grad().contiguous(), g1 = params[1].grad().contiguous();
    p0_grads[r].assign(g0.data_ptr<float>(), g0.data_ptr<float>() + g0.numel());
    p1_grads[r].assign(g1.data_ptr<float>(), g1.data_ptr<float>() + g1.numel());
    EXPECT_FALSE(params[2].grad().defined());
  };
  std::thread one([&] { rank(1); });
  rank(0);
  one.join();
  const float a = 3.0f / 8, b = 4.0f / 8;
  for (int r = 0; r < 2; ++r) {
    EXPECT_EQ(p0_grads[r], (std::vector<float>{a, a, 0, a, a, 0, a, a, 0, a, a, 0})) << r;
    EXPECT_EQ(p1_grads[r], (std::vector<float>{b, b, b, 0, 0})) << r;
    EXPECT_EQ(totals[r].target_tokens, 8);
    EXPECT_EQ(totals[r].source_tokens, 14);
    EXPECT_DOUBLE_EQ(totals[r].loss, 4.0);
  }
}

TEST(AllReduceUpdateTest, AGradientOutsideTheSlicesIsAnErrorNotASilentUpdate) {
  DistributedOptions options;
  options.master = "127.0.0.1:" + std::to_string(FreeLoopbackPort());
  absl::StatusOr<std::unique_ptr<DataParallelGroup>> group = DataParallelGroup::Join(options);
  ASSERT_TRUE(group.ok()) << group.status();
  const std::vector<at::Tensor> params = {torch::zeros({2}).requires_grad_()};
  params[0].mutable_grad() = torch::ones({2});
  BatchSums local;
  local.target_tokens = 1;
  const absl::Status s = AllReduceUpdate(**group, params, {}, local, 7).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(s.message()), HasSubstr("update 7: parameter 0"));
}

TEST(DistributedOptionsTest, BadValuesNameTheField) {
  DistributedOptions o;
  o.world_size = 2;
  o.rank = 2;
  EXPECT_THAT(std::string(o.Validate().message()),
              HasSubstr("rank=2: must be in [0, world_size=2)"));
  o.rank = 1;
  o.master = "nohostport";
  EXPECT_THAT(std::string(o.Validate().message()), HasSubstr("master='nohostport'"));
  o.master = "127.0.0.1:29500";
  EXPECT_TRUE(o.Validate().ok());
}

// torchrun's variables, and a Kubernetes indexed Job's pod index as the rank.
TEST(DistributedOptionsTest, TheEnvironmentNamesTheGroup) {
  ::setenv("WORLD_SIZE", "4", 1);
  ::setenv("JOB_COMPLETION_INDEX", "3", 1);
  ::setenv("MASTER_ADDR", "supernet-0.supernet", 1);
  ::unsetenv("RANK");
  ::unsetenv("MASTER_PORT");
  absl::StatusOr<DistributedOptions> o = DistributedOptions::FromEnvironment(DistributedOptions());
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->world_size, 4);
  EXPECT_EQ(o->rank, 3);
  EXPECT_EQ(o->master, "supernet-0.supernet:29500");
  ::setenv("RANK", "1", 1);  // RANK wins over the pod index
  ::setenv("MASTER_PORT", "1234", 1);
  o = DistributedOptions::FromEnvironment(DistributedOptions());
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->rank, 1);
  EXPECT_EQ(o->master, "supernet-0.supernet:1234");
  ::setenv("WORLD_SIZE", "four", 1);
  EXPECT_THAT(
      std::string(DistributedOptions::FromEnvironment(DistributedOptions()).status().message()),
      HasSubstr("environment WORLD_SIZE='four': not an integer"));
  for (const char* name :
       {"WORLD_SIZE", "JOB_COMPLETION_INDEX", "MASTER_ADDR", "RANK", "MASTER_PORT"}) {
    ::unsetenv(name);
  }
}

TEST_F(DataParallelTest, TwoRanksMakeTheWeightsOfOneRankWithTheWholeBatches) {
  std::string log;
  ASSERT_EQ(RunAlone("alone", 30, &log), 0) << log;  // also prepares the corpus cache
  const nlohmann::json two = RunTwoRanks("two", 30);
  ASSERT_TRUE(two.is_object());
  EXPECT_EQ(two.value("final_step", 0), 30);
  EXPECT_EQ(two.value("world_size", 0), 2);
  const double apart =
      RelativeDistance(dir_.File("alone/checkpoint_30.pt"), dir_.File("two/checkpoint_30.pt"));
  EXPECT_LT(apart, kTolerance);
  RecordProperty("relative_distance", std::to_string(apart));
  // Twenty updates apart are far apart: the measure tells runs apart.
  EXPECT_GT(
      RelativeDistance(dir_.File("alone/checkpoint_30.pt"), dir_.File("two/checkpoint_10.pt")),
      10 * kTolerance);
  // The last update's training loss, of the whole batch on both sides.
  const nlohmann::json alone = LastJson(log);
  EXPECT_NEAR(two.value("final_train_loss", 0.0), alone.value("final_train_loss", 1.0), 1e-3);
  // Rank 0 alone writes checkpoints.
  EXPECT_EQ(NewestCheckpoint("two-rank1"), 0);

  // One command, two ranks: --local-ranks starts rank 1 itself (its log in the run directory).
  std::vector<std::string> args = Args("local", 30, 0, 0, 0);
  args.push_back("--local-ranks");
  args.push_back("2");
  Subprocess local(args, dir_.File("local.log"));
  ASSERT_EQ(local.Wait(), 0) << local.Log();
  EXPECT_EQ(LastJson(local.Log()).value("world_size", 0), 2);
  EXPECT_THAT(ReadAll(dir_.File("local/rank-1.log")), HasSubstr("\"rank\": 1"));
  EXPECT_LT(
      RelativeDistance(dir_.File("alone/checkpoint_30.pt"), dir_.File("local/checkpoint_30.pt")),
      kTolerance);
  args = Args("conflict", 30, 2, 0, 1234);
  args.push_back("--local-ranks=2");
  Subprocess conflict(args, dir_.File("conflict.log"));
  EXPECT_NE(conflict.Wait(), 0);
  EXPECT_THAT(conflict.Log(), HasSubstr("--local-ranks starts every rank itself"));
}

// A rank started with other options would train something else while its sums still add up.
TEST_F(DataParallelTest, ARankWithOtherOptionsIsRefusedByName) {
  std::string log;
  ASSERT_EQ(RunAlone("warm", 1, &log), 0) << log;  // the corpus cache, before two ranks race
  const int port = FreeLoopbackPort();
  Subprocess rank0(Args("run", 20, 2, 0, port), dir_.File("run.rank0.log"));
  Subprocess rank1(Args("run-rank1", 20, 2, 1, port, "1e-3"), dir_.File("run.rank1.log"));
  EXPECT_NE(rank1.Wait(), 0);
  EXPECT_THAT(rank1.Log(), HasSubstr("rank 1 trains something else than rank 0: lr 0.001 "
                                     "(rank 0: 0.002); start every rank with the same options"));
  EXPECT_NE(rank0.Wait(), 0) << "rank 0 trained alone";
  EXPECT_EQ(NewestCheckpoint("run"), 0);
}

TEST_F(DataParallelTest, AKilledRankFailsTheRunAndTheNextStartResumesFromTheLastCheckpoint) {
  std::string log;
  ASSERT_EQ(RunAlone("warm", 1, &log), 0) << log;  // the corpus cache, before two ranks race
  const int port = FreeLoopbackPort();
  {
    // Far more updates than the test waits for: rank 1 dies mid-run.
    Subprocess rank0(Args("run", 1'000'000, 2, 0, port), dir_.File("run.rank0.log"));
    Subprocess rank1(Args("run-rank1", 1'000'000, 2, 1, port), dir_.File("run.rank1.log"));
    ASSERT_TRUE(hat::testing::WaitFor([&] { return NewestCheckpoint("run") >= 10; }, 300))
        << rank0.Log();
    rank1.Kill(SIGKILL);
    EXPECT_EQ(rank1.Wait(), 128 + SIGKILL);
    EXPECT_NE(rank0.Wait(), 0) << "rank 0 went on without rank 1";
    EXPECT_THAT(rank0.Log(), HasSubstr("rank 0 of 2: the gradient all-reduce of update"));
    EXPECT_THAT(rank0.Log(), HasSubstr("failed (a rank died, hung or left)"));
  }
  const int64_t resumed = NewestCheckpoint("run");
  ASSERT_GE(resumed, 10);
  const nlohmann::json again = RunTwoRanks("run", resumed + 10);
  ASSERT_TRUE(again.is_object());
  EXPECT_EQ(again.value("resumed_from", -1), resumed);
  EXPECT_EQ(again.value("final_step", 0), resumed + 10);
  // The interrupted run ends where one uninterrupted rank ends.
  ASSERT_EQ(RunAlone("alone", resumed + 10, &log), 0) << log;
  const std::string last = "/checkpoint_" + std::to_string(resumed + 10) + ".pt";
  EXPECT_LT(RelativeDistance(dir_.File("alone") + last, dir_.File("run") + last), kTolerance);
}

}  // namespace
}  // namespace hat
