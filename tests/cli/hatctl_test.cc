// hatctl end to end: the real binary, run as a user runs it, its stdout, stderr and exit code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"
#include "tests/support/toy_corpus.h"

namespace hat {
namespace {

using ::hat::testing::HatConfigPath;
using ::testing::HasSubstr;

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs hatctl with `args` (already shell-quoted where needed).
RunResult Hatctl(const std::string& args) {
  hat::testing::TempDir dir;
  const std::string err_path = dir.File("stderr");
  const std::string cmd = std::string(HATCTL_PATH) + " " + args + " 2>" + err_path;
  RunResult r;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_path);
  r.err.assign(std::istreambuf_iterator<char>(err), {});
  return r;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

const std::string kXeon137 =
    HatConfigPath("subtransformer/HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml");

TEST(HatctlTest, FeaturesOfXeon137AreHatsVector) {
  const RunResult r = Hatctl("config features " + Quote(kXeon137) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["encoder_embed_dim"], 512);
  EXPECT_EQ(j["encoder_layer_num"], 6);
  EXPECT_EQ(j["encoder_ffn_embed_dim_avg"], 3072);
  EXPECT_DOUBLE_EQ(j["encoder_self_attention_heads_avg"].get<double>(), 44.0 / 6);
  EXPECT_EQ(j["decoder_embed_dim"], 512);
  EXPECT_EQ(j["decoder_layer_num"], 1);
  EXPECT_EQ(j["decoder_ffn_embed_dim_avg"], 3072);
  EXPECT_EQ(j["decoder_self_attention_heads_avg"], 8);
  EXPECT_EQ(j["decoder_ende_attention_heads_avg"], 8);
  EXPECT_EQ(j["decoder_arbitrary_ende_attn_avg"], 2);
  EXPECT_EQ(j["space"], "hat-wmt14-en-de");
  EXPECT_GT(j["params"].get<int64_t>(), 40'000'000);
  EXPECT_EQ(j["macs"].get<int64_t>(),
            j["encoder_macs"].get<int64_t>() + j["decoder_macs"].get<int64_t>());
}

TEST(HatctlTest, FeaturesWithPerLayerVector) {
  const RunResult r =
      Hatctl("config features " + Quote(kXeon137) + " --space hat-wmt14-en-de --per-layer --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["per_layer"]["encoder.0.self_attention_heads"], 4);
  EXPECT_EQ(j["per_layer"]["decoder.1.active"], 0);
}

TEST(HatctlTest, ValidateExitCodes) {
  RunResult ok = Hatctl("config validate " + Quote(kXeon137) + " --space hat-wmt14-en-de");
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_THAT(ok.out, HasSubstr("valid in hat-wmt14-en-de"));

  hat::testing::TempDir dir;
  const std::string bad = dir.File("bad.yml");
  std::ifstream in(kXeon137);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  text.replace(text.find("decoder-embed-dim-subtransformer: 512"), 37,
               "decoder-embed-dim-subtransformer: 768");
  std::ofstream(bad) << text;
  RunResult no = Hatctl("config validate " + Quote(bad) + " --space hat-wmt14-en-de");
  EXPECT_EQ(no.exit_code, 1);
  EXPECT_THAT(no.err, HasSubstr("decoder-embed-dim-subtransformer=768: not in {640, 512}"));

  RunResult json = Hatctl("config validate " + Quote(bad) + " --space hat-wmt14-en-de --json");
  EXPECT_EQ(json.exit_code, 1);
  const nlohmann::json j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["valid"], false);
  EXPECT_THAT(j["error"].get<std::string>(), HasSubstr("768"));

  RunResult tiny = Hatctl("config validate " + Quote(kXeon137) + " --space tiny");
  EXPECT_EQ(tiny.exit_code, 1);
  EXPECT_THAT(tiny.err, HasSubstr("encoder-embed-dim-subtransformer=512: not in {128, 96, 64}"));
}

TEST(HatctlTest, SpaceShowJsonLoadsBack) {
  hat::testing::TempDir dir;
  const RunResult shown = Hatctl("space show tiny --json");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const std::string file = dir.File("tiny.json");
  std::ofstream(file) << shown.out;
  const RunResult again = Hatctl("space show " + Quote(file) + " --json");
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(again.out, shown.out);
  const RunResult text =
      Hatctl("space show " + Quote(HatConfigPath("supertransformer/space0.yml")));
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_THAT(text.out, HasSubstr("decoder_layer_num"));
  EXPECT_THAT(text.out, HasSubstr("{6, 5, 4, 3, 2, 1}"));
}

TEST(HatctlTest, SampleIsReproducibleAndWritesHatYaml) {
  hat::testing::TempDir dir;
  const RunResult a = Hatctl("space sample hat-wmt14-en-de --count 5 --seed 9 --json");
  const RunResult b = Hatctl("space sample hat-wmt14-en-de --count 5 --seed 9 --json --out-dir " +
                             Quote(dir.path()));
  ASSERT_EQ(a.exit_code, 0) << a.err;
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  const nlohmann::json j = nlohmann::json::parse(a.out);
  ASSERT_EQ(j["configs"].size(), 5u);
  // The written file is a HAT SubTransformer YAML that validates and has the same id.
  const RunResult v = Hatctl("config validate " + Quote(dir.File("config_000003.yml")) +
                             " --space hat-wmt14-en-de --json");
  ASSERT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(nlohmann::json::parse(v.out)["config_id"], j["configs"][3]["config_id"]);
}

// Scripts choose latency limits a search can meet from the smallest SubTransformer's latency.
TEST(HatctlTest, SmallestIsTheSmallestChoiceOfEveryGeneAsHatYaml) {
  hat::testing::TempDir dir;
  const RunResult written = Hatctl("space smallest tiny --out " + Quote(dir.File("s.yml")));
  ASSERT_EQ(written.exit_code, 0) << written.err;
  const RunResult f = Hatctl("config features " + Quote(dir.File("s.yml")) + " --json");
  ASSERT_EQ(f.exit_code, 0) << f.err;
  const nlohmann::json features = nlohmann::json::parse(f.out);
  EXPECT_EQ(features["encoder_embed_dim"], 64);
  EXPECT_EQ(features["encoder_layer_num"], 3);
  EXPECT_EQ(features["encoder_ffn_embed_dim_avg"], 128);
  EXPECT_EQ(features["decoder_embed_dim"], 64);
  EXPECT_EQ(features["decoder_layer_num"], 1);
  EXPECT_EQ(features["decoder_ffn_embed_dim_avg"], 128);
  // Printed to stdout without --out: the same file.
  const RunResult printed = Hatctl("space smallest tiny");
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  std::ifstream in(dir.File("s.yml"));
  EXPECT_EQ(printed.out, std::string(std::istreambuf_iterator<char>(in), {}));
  const RunResult bad = Hatctl("space smallest no-such-space");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_THAT(bad.err, HasSubstr("no-such-space"));
}

TEST(HatctlTest, ConvertRoundTripsBetweenFormats) {
  hat::testing::TempDir dir;
  const RunResult json = Hatctl("config convert " + Quote(kXeon137) + " --to json");
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(nlohmann::json::parse(json.out)["encoder"]["encoder_self_attention_heads"],
            nlohmann::json::array({4, 8, 8, 8, 8, 8}));
  std::ofstream(dir.File("c.json")) << json.out;
  const RunResult yaml = Hatctl("config convert " + Quote(dir.File("c.json")) + " --to hat-yaml");
  ASSERT_EQ(yaml.exit_code, 0) << yaml.err;
  EXPECT_THAT(yaml.out, HasSubstr("decoder-arbitrary-ende-attn-all-subtransformer: [1]"));
  EXPECT_EQ(Hatctl("config convert " + Quote(kXeon137) + " --to xml").exit_code, 1);
}

TEST(HatctlTest, BadInputGetsAClearErrorNotACrash) {
  RunResult r = Hatctl("space show no-such-space");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("'no-such-space' is neither a built-in design space nor a file"));
  r = Hatctl("space sample tiny --count 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--count=0: must be in [1, 1000000]"));
  r = Hatctl("config features /nonexistent.yml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("/nonexistent.yml: cannot open"));
  r = Hatctl("space frobnicate");
  EXPECT_EQ(r.exit_code, 2);
}

// `hatctl supernet train` of the tiny space on a toy corpus written into `dir` (60 subword pieces
// against the space's 10,000-word vocabulary), its run directory `dir`/run.
RunResult TrainToySuperTransformer(const hat::testing::TempDir& dir, const std::string& flags) {
  hat::testing::WriteToyCorpus(dir.path());
  return Hatctl("supernet train --space tiny --data " + Quote(dir.path()) + " --vocab-size 60" +
                " --cache " + Quote(dir.File("cache")) + " --threads 1 --out " +
                Quote(dir.File("run")) + " " + flags);
}

// A SuperTransformer trained for 4 updates on a toy corpus: its checkpoints inspected and the last
// two averaged, as a user does with a run stopped before its end.
TEST(HatctlCheckpointTest, InfoAndAverageOfARunsCheckpoints) {
  hat::testing::TempDir dir;
  const std::string run = dir.File("run");
  const RunResult train = TrainToySuperTransformer(dir, "--steps 4 --save-every 2 --json");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const nlohmann::json trained = nlohmann::json::parse(train.out);
  EXPECT_EQ(trained["final_step"], 4);
  ASSERT_TRUE(trained["total_seconds"].is_number()) << train.out;

  RunResult r = Hatctl("checkpoint info " + Quote(run) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["checkpoint"], run + "/checkpoint_4.pt");
  EXPECT_EQ(info["kind"], "supernet");
  EXPECT_EQ(info["step"], 4);
  EXPECT_EQ(info["space"]["name"], "tiny");
  EXPECT_EQ(info["options"]["steps"], 4);
  EXPECT_EQ(info["averaged_from"], 0);
  // Recorded when the checkpoint was written, before the run's final validation.
  EXPECT_GT(info["train_seconds"].get<double>(), 0);
  EXPECT_LE(info["train_seconds"].get<double>(), trained["total_seconds"].get<double>());

  const std::string averaged = dir.File("avg.pt");
  r = Hatctl("checkpoint average " + Quote(run) + " --last 2 --out " + Quote(averaged) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json average = nlohmann::json::parse(r.out);
  EXPECT_EQ(average["averaged_from"], 2);
  EXPECT_EQ(average["inputs"],
            nlohmann::json({run + "/checkpoint_2.pt", run + "/checkpoint_4.pt"}));
  r = Hatctl("checkpoint info " + Quote(averaged) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["averaged_from"], 2);
  EXPECT_EQ(info["step"], 4);

  r = Hatctl("checkpoint average " + Quote(run) + " --last 5 --out " + Quote(dir.File("x.pt")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("the last 5 checkpoints asked for, 2 found"));
  r = Hatctl("checkpoint info " + Quote(dir.File("nowhere")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("nowhere: no such checkpoint file or run directory"));
  r = Hatctl("checkpoint info " + Quote(dir.File("train.en")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("train.en: not a readable checkpoint"));
}

TEST(HatctlTranslateTest, TranslatesStdinLineByLineOnTheDeviceAsked) {
  hat::testing::TempDir dir;
  const std::string run = dir.File("run");
  const RunResult train = TrainToySuperTransformer(dir, "--steps 2");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const std::string input = dir.File("input.en");
  std::ofstream(input) << "a dog runs\nthe big cat sits on the mat\n\n";
  const std::string translate =
      "translate --model " + Quote(run) + " --config " +
      Quote(hat::testing::SourcePath("data/configs/transformer-tiny.yml")) +
      " --beam 2 --threads 1";

  RunResult r = Hatctl(translate + " --device cpu < " + Quote(input));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // one line per line

  r = Hatctl(translate + " --device tpu < " + Quote(input));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("device 'tpu' is unknown (expected cpu or cuda)"));
  EXPECT_EQ(r.out, "");

  // Debian's LibTorch has no CUDA: refused up front, naming the device. (Built against a CUDA
  // LibTorch on a GPU machine, it translates like the CPU.)
  r = Hatctl(translate + " --device cuda < " + Quote(input));
  if (r.exit_code == 0) {
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;
  } else {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_THAT(r.err, HasSubstr("device cuda: this LibTorch build has no CUDA"));
  }
}

// `subnet eval --bleu` of a SuperTransformer trained for 2 updates on the toy corpus.
class HatctlEvalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const RunResult train = TrainToySuperTransformer(dir_, "--steps 2");
    ASSERT_EQ(train.exit_code, 0) << train.err;
  }

  // The eval command line, BLEU on tokenised text with beam 2, before `flags`.
  std::string Eval(const std::string& flags) const {
    return "subnet eval --supernet " + Quote(dir_.File("run")) + " --config " +
           Quote(hat::testing::SourcePath("data/configs/transformer-tiny.yml")) +
           " --bleu --tokenize none --beam 2 --threads 1 " + flags;
  }

  // `hatctl bleu` of kept translations against `ref` gives the breakdown eval reported.
  static void ExpectHatctlBleuAgrees(const std::string& ref, const std::string& hyps,
                                     const nlohmann::json& breakdown) {
    const RunResult r =
        Hatctl("bleu --ref " + Quote(ref) + " --hyp " + Quote(hyps) + " --tokenize none --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const nlohmann::json rescored = nlohmann::json::parse(r.out);
    for (const char* key : {"bleu", "precisions", "brevity_penalty", "hyp_len", "ref_len"}) {
      EXPECT_EQ(rescored[key], breakdown[key]) << key;
    }
  }

  hat::testing::TempDir dir_;
};

// It reports the breakdown behind the score and keeps the translations it scored: `hatctl bleu`
// on the kept file gives the same figures.
TEST_F(HatctlEvalTest, ReportsTheBleuBreakdownAndKeepsTheTranslations) {
  const std::string run = dir_.File("run");
  const std::string hyps = dir_.File("test.hyp.de");
  const std::string eval = Eval("");

  RunResult r = Hatctl(eval + " --translations " + Quote(hyps) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json scored = nlohmann::json::parse(r.out);
  EXPECT_EQ(scored["translations"], hyps);
  const nlohmann::json& test = scored["test"];
  EXPECT_EQ(test["bleu"], scored["test_bleu"]);
  EXPECT_EQ(test["sentences"], 16);
  EXPECT_EQ(test["precisions"].size(), 4u);
  EXPECT_GT(test["ref_len"].get<int>(), 0);

  std::ifstream kept(hyps);
  std::string line;
  int lines = 0, tokens = 0;
  while (std::getline(kept, line)) {
    ++lines;
    std::istringstream words(line);
    for (std::string w; words >> w;) ++tokens;
  }
  EXPECT_EQ(lines, 16);
  EXPECT_EQ(test["hyp_len"], tokens);
  ExpectHatctlBleuAgrees(dir_.File("test.de"), hyps, test);

  // Refused before anything is translated, naming the flag and the directory.
  r = Hatctl(eval + " --translations " + Quote(dir_.File("no/such/dir/hyp.de")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--translations " + dir_.File("no/such/dir/hyp.de") +
                               ": directory " + dir_.File("no/such/dir") + " does not exist"));
  r = Hatctl("subnet eval --supernet " + Quote(run) + " --translations " + Quote(hyps));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--translations needs --bleu"));
}

// `--bleu-split valid` scores the validation split instead, so decoding settings (the length
// penalty) are chosen without looking at test: its own keys, the same breakdown as `hatctl bleu`.
TEST_F(HatctlEvalTest, ScoresTheValidationSplitForTuning) {
  const std::string hyps = dir_.File("valid.hyp.de");
  const std::string eval = Eval("--lenpen 1.5");

  RunResult r = Hatctl(eval + " --bleu-split valid --translations " + Quote(hyps) + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json scored = nlohmann::json::parse(r.out);
  EXPECT_EQ(scored["bleu_split"], "valid");
  EXPECT_EQ(scored["beam"], 2);
  EXPECT_EQ(scored["lenpen"], 1.5);
  EXPECT_FALSE(scored.contains("test")) << r.out;
  EXPECT_FALSE(scored.contains("test_bleu")) << r.out;
  const nlohmann::json& valid = scored["valid"];
  EXPECT_EQ(valid["bleu"], scored["valid_bleu"]);
  EXPECT_EQ(valid["sentences"], 16);
  ExpectHatctlBleuAgrees(dir_.File("valid.de"), hyps, valid);

  r = Hatctl(eval + " --bleu-split train");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--bleu-split train: must be test or valid"));
  EXPECT_EQ(r.out, "");
}

}  // namespace
}  // namespace hat

namespace hat {
namespace {

TEST(HatctlMeasureTest, MeasuresSampledConfigsAsJson) {
  const RunResult r = Hatctl(
      "measure --space tiny --sample 2 --seed 3 --protocol hat --threads 1 --cooldown 0 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["configs"].size(), 2u);
  for (const nlohmann::json& c : j["configs"]) {
    EXPECT_GT(c["encoder_ms"].get<double>(), 0);
    EXPECT_GT(c["decoder_ms"].get<double>(), 0);
    EXPECT_NEAR(c["total_ms"].get<double>(),
                c["encoder_ms"].get<double>() + c["decoder_ms"].get<double>(), 1e-9);
    EXPECT_EQ(c["runs"], 20);
    EXPECT_EQ(c["encoder"]["raw_ms"].size(), 20u);
  }
  EXPECT_EQ(j["protocol"]["name"], "hat");
  EXPECT_EQ(j["hardware"]["threads"], 1);
  EXPECT_FALSE(j["hardware"]["libtorch_version"].get<std::string>().empty());
  // Two configs: progress goes to stderr, one line per measurement off a terminal.
  EXPECT_THAT(r.err, HasSubstr("measure 2/2 100%"));
}

TEST(HatctlMeasureTest, RepeatsReportTheirSpread) {
  const RunResult r =
      Hatctl("measure --space tiny --sample 1 --repeats 2 --protocol hat --cooldown 0 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json c = nlohmann::json::parse(r.out)["configs"][0];
  ASSERT_EQ(c["repeat_total_ms"].size(), 2u);
  const double a = c["repeat_total_ms"][0].get<double>();
  const double b = c["repeat_total_ms"][1].get<double>();
  // The CV is the repeats' sample standard deviation over their mean; for two totals that is
  // |a - b| / sqrt(2) / mean.
  const double cv = c["repeat_cv"].get<double>();
  EXPECT_NEAR(cv, std::abs(a - b) / std::sqrt(2.0) / ((a + b) / 2), 1e-12);
  if (a != b) {
    EXPECT_GT(cv, 0);  // a spread between different totals is never zero
  }
  // The row's own figures are one of the repeats' (the median one), not a blend.
  EXPECT_THAT(c["total_ms"].get<double>(), ::testing::AnyOf(a, b));
}

TEST(HatctlMeasureTest, BadRequestsAreRefused) {
  RunResult r = Hatctl("measure --space tiny");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("give either --config FILE or --space NAME --sample N"));
  r = Hatctl("measure --space tiny --sample 1 --protocol fast");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("protocol 'fast' is unknown"));
  r = Hatctl("measure --space tiny --sample 1 --device tpu");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("device 'tpu' is unknown"));
  r = Hatctl("measure --space tiny --sample 1 --threads 0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("protocol.threads=0"));
}

const std::string kXeonLatency =
    hat::testing::SourcePath("data/hat-latency/wmt14ende_cpu_xeon_all.csv");

TEST(HatctlPredictorTest, FitsHatsXeonDatasetAndPredictsFromTheSavedFile) {
  hat::testing::TempDir dir;
  const std::string model = dir.File("xeon.predictor");
  const RunResult fit = Hatctl("predictor fit --data " + Quote(kXeonLatency) +
                               " --format hat-csv --seed 3 --out " + Quote(model) + " --json");
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  const nlohmann::json f = nlohmann::json::parse(fit.out);
  EXPECT_EQ(f["model"], "cost-linear");
  EXPECT_EQ(f["train_rows"], 1600);
  EXPECT_EQ(f["test_rows"], 200);
  // HAT's own MLP reaches about 16.8 ms and 4.6-5.8% here; the default is at least as good.
  EXPECT_LT(f["test_rmse_ms"].get<double>(), 20);
  EXPECT_LT(f["test_mape_pct"].get<double>(), 6.5);
  EXPECT_GT(f["test_kendall_tau"].get<double>(), 0.85);
  for (const char* key : {"within_5pct", "within_10pct", "fit_seconds"}) {
    EXPECT_TRUE(f.contains(key)) << key;
  }

  const RunResult few =
      Hatctl("predictor fit --data " + Quote(kXeonLatency) + " --train-rows 160 --json");
  ASSERT_EQ(few.exit_code, 0) << few.err;
  EXPECT_EQ(nlohmann::json::parse(few.out)["train_rows"], 160);

  const RunResult predict = Hatctl("predictor predict --predictor " + Quote(model) +
                                   " --space hat-wmt14-en-de --sample 3 --seed 2 --json");
  ASSERT_EQ(predict.exit_code, 0) << predict.err;
  const nlohmann::json p = nlohmann::json::parse(predict.out);
  ASSERT_EQ(p["configs"].size(), 3u);
  for (const nlohmann::json& row : p["configs"]) {
    // HAT's Xeon configs take roughly 100-500 ms.
    EXPECT_GT(row["latency_ms"].get<double>(), 50);
    EXPECT_LT(row["latency_ms"].get<double>(), 1000);
    // The uncertainty is the spread of the bootstrap refits (7 besides the prediction), fitted on
    // resampled rows of measured, noisy latencies: they disagree, but by far less than the
    // latency itself.
    EXPECT_GT(row["stddev_ms"].get<double>(), 0);
    EXPECT_LT(row["stddev_ms"].get<double>(), 0.1 * row["latency_ms"].get<double>());
  }
  const RunResult one = Hatctl("predictor predict --predictor " + Quote(model) + " --config " +
                               Quote(kXeon137) + " --json");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  // HAT measured this SubTransformer at 137.9 ms on its Xeon.
  EXPECT_NEAR(nlohmann::json::parse(one.out)["configs"][0]["latency_ms"].get<double>(), 137.9, 30);
}

// A full-format dataset (what `hatctl dataset export --format full` writes): 18 configs, each
// measured twice, one pass after the other, 5 s apart, on a host 4% slower in the second pass.
std::string RepeatedFullDataset() {
  std::string out;
  int second = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (int layers = 1; layers <= 6; ++layers) {
      for (int ffn : {1024, 2048, 3072}) {
        const double decoder_ms = (20.0 * layers + 0.01 * ffn * layers) * (pass ? 1.04 : 1.0);
        nlohmann::json row = {
            {"config",
             {{"encoder",
               {{"encoder_embed_dim", 512},
                {"encoder_layer_num", 6},
                {"encoder_ffn_embed_dim", std::vector<int>(6, 2048)},
                {"encoder_self_attention_heads", std::vector<int>(6, 8)}}},
              {"decoder",
               {{"decoder_embed_dim", 512},
                {"decoder_layer_num", layers},
                {"decoder_ffn_embed_dim", std::vector<int>(6, ffn)},
                {"decoder_self_attention_heads", std::vector<int>(6, 8)},
                {"decoder_ende_attention_heads", std::vector<int>(6, 8)},
                {"decoder_arbitrary_ende_attn", std::vector<int>(6, -1)}}}}},
            {"encoder", {{"median_ms", 30.0 * (pass ? 1.04 : 1.0)}}},
            {"decoder", {{"median_ms", decoder_ms}}},
            {"protocol",
             {{"preset", "PROTOCOL_PRESET_ADAPTIVE"},
              {"source_tokens", 30},
              {"decoder_steps", 30},
              {"beam", 5}}},
            {"started_at", "2026-11-29T12:" + std::string(second / 60 < 10 ? "0" : "") +
                               std::to_string(second / 60) + ":" + (second % 60 < 10 ? "0" : "") +
                               std::to_string(second % 60) + "Z"}};
        second += 5;
        out += row.dump() + "\n";
      }
    }
  }
  return out;
}

TEST(HatctlPredictorTest, RepeatedMeasurementsAreOneRowPerConfig) {
  hat::testing::TempDir dir;
  const std::string data = dir.File("repeats.jsonl");
  std::ofstream(data) << RepeatedFullDataset();
  const RunResult fit = Hatctl("predictor fit --data " + Quote(data) + " --format full --json");
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  const nlohmann::json f = nlohmann::json::parse(fit.out);
  EXPECT_EQ(f["measurements"], 36);
  EXPECT_EQ(f["rows"], 18);  // never the same config in train and test
  EXPECT_EQ(f["drift_corrected"], 36);
  const RunResult off =
      Hatctl("predictor fit --data " + Quote(data) + " --format full --no-drift-correction --json");
  ASSERT_EQ(off.exit_code, 0) << off.err;
  EXPECT_EQ(nlohmann::json::parse(off.out)["drift_corrected"], 0);
  EXPECT_EQ(nlohmann::json::parse(off.out)["rows"], 18);
}

TEST(HatctlPredictorTest, BadInputGetsAClearError) {
  hat::testing::TempDir dir;
  RunResult r = Hatctl("predictor fit --data " + Quote(kXeonLatency) + " --format csv");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("--format=csv"));
  r = Hatctl("predictor fit --data " + Quote(dir.File("none.csv")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("none.csv"));
  r = Hatctl("predictor fit --data " + Quote(kXeon137));  // a config, not a dataset
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("line 1"));
  r = Hatctl("predictor predict --predictor " + Quote(kXeonLatency) +
             " --space hat-wmt14-en-de --sample 2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("not a hatfleet predictor"));
}

// `hatctl search run` on a toy SuperTransformer and a predictor fitted on HAT's Xeon dataset: a
// sweep over two limits writes winners within their limits that other commands load, the
// result and the fitness cache; running the same command again resumes (nothing evaluated
// again), and a saved state from other settings is refused.
TEST(HatctlSearchTest, ASweepWritesLoadableWinnersWithinTheLimitsAndResumes) {
  hat::testing::TempDir dir;
  const RunResult train = TrainToySuperTransformer(dir, "--steps 2 --max-tokens 256");
  ASSERT_EQ(train.exit_code, 0) << train.err;
  const std::string predictor = dir.File("xeon.predictor");
  ASSERT_EQ(Hatctl("predictor fit --data " + Quote(kXeonLatency) + " --out " + Quote(predictor))
                .exit_code,
            0);
  const std::string search = "search run --supernet " + Quote(dir.File("run")) +
                             " --predictor xeon=" + Quote(predictor) +
                             " --constraint xeon:150,100 --iterations 3 --population 12"
                             " --parents 4 --mutations 4 --crossovers 4 --valid-sentences 8"
                             " --threads 1 --seed 5 --out " +
                             Quote(dir.File("search")) + " --json";
  const RunResult r = Hatctl(search);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json result = nlohmann::json::parse(r.out);
  ASSERT_EQ(result["runs"].size(), 2u);
  EXPECT_EQ(result["space"], "tiny");
  const double limits[] = {150, 100};
  for (int i = 0; i < 2; ++i) {
    const nlohmann::json& run = result["runs"][i];
    EXPECT_EQ(run["limits_ms"]["xeon"].get<double>(), limits[i]);
    EXPECT_LE(run["best"]["predicted_latency_ms"]["xeon"].get<double>(), limits[i]);
    EXPECT_EQ(run["best_loss_per_iteration"].size(), 3u);
    // The winner's files load: as a config of the space, and as a SubTransformer to evaluate.
    const std::string yml = run["files"][0];
    EXPECT_EQ(Hatctl("config validate " + Quote(yml) + " --space tiny").exit_code, 0);
    const RunResult eval = Hatctl("subnet eval --supernet " + Quote(dir.File("run")) +
                                  " --config " + Quote(yml) + " --valid-sentences 8 --json");
    ASSERT_EQ(eval.exit_code, 0) << eval.err;
    EXPECT_NEAR(nlohmann::json::parse(eval.out)["valid_loss"].get<double>(),
                run["best"]["valid_loss"].get<double>(), 1e-4);
  }
  EXPECT_GE(result["pareto"].size(), 1u);
  // The SuperTransformer alone is tens of MB: a search that reports less did not measure itself.
  EXPECT_GT(result["peak_resident_mb"].get<double>(), 20);
  EXPECT_GT(result["evaluations"].get<int>(), 0);
  // Every fitness computed is in the cache file, one line each.
  std::ifstream cache(dir.File("search/fitness_cache.jsonl"));
  const int lines = static_cast<int>(std::count(std::istreambuf_iterator<char>(cache), {}, '\n'));
  EXPECT_EQ(lines, result["evaluations"].get<int>());

  // Again: both searches are done, the same result, nothing evaluated anew.
  const RunResult again = Hatctl(search);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  const nlohmann::json second = nlohmann::json::parse(again.out);
  EXPECT_EQ(second["runs"], result["runs"]);
  // What the search cost is the first invocation's, kept with the state: the second did no work.
  EXPECT_GT(result["seconds"].get<double>(), 0);
  EXPECT_EQ(second["seconds"], result["seconds"]);
  EXPECT_GE(second["peak_resident_mb"].get<double>(), result["peak_resident_mb"].get<double>());
  std::ifstream cache_again(dir.File("search/fitness_cache.jsonl"));
  EXPECT_EQ(std::count(std::istreambuf_iterator<char>(cache_again), {}, '\n'), lines);

  // Other settings with the same --out are refused, not mixed in.
  const RunResult other = Hatctl("search run --supernet " + Quote(dir.File("run")) +
                                 " --predictor xeon=" + Quote(predictor) +
                                 " --constraint xeon:150,100 --iterations 4 --population 12"
                                 " --parents 4 --mutations 4 --crossovers 4 --valid-sentences 8"
                                 " --threads 1 --seed 5 --out " +
                                 Quote(dir.File("search")));
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.err, HasSubstr("is from a search with other settings"));
  // An impossible limit is refused before any fitness is spent, naming the fastest latency.
  const RunResult impossible = Hatctl("search run --supernet " + Quote(dir.File("run")) +
                                      " --predictor xeon=" + Quote(predictor) +
                                      " --constraint xeon:0.5 --out " + Quote(dir.File("none")));
  EXPECT_EQ(impossible.exit_code, 1);
  EXPECT_THAT(impossible.err, HasSubstr("the fastest predicted latency in the space is"));
  const RunResult missing = Hatctl("search run --supernet " + Quote(dir.File("run")) +
                                   " --predictor xeon=" + Quote(predictor) +
                                   " --constraint rpi:100 --out " + Quote(dir.File("none")));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no --predictor rpi=FILE"));
}

}  // namespace
}  // namespace hat
