// Server-executed jobs end to end, driven through hatctl as a user would: a SuperTransformer
// trained by hat-server, the server killed with SIGKILL mid-job and restarted, the job finishing
// from its checkpoint with the weights of an uninterrupted run; artifacts downloaded, uploaded
// and exported. Timeouts only bound how long a broken build may hang; nothing asserts speed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "tests/support/polling.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_paths.h"
#include "tests/support/toy_corpus.h"

namespace hat {
namespace {

using ::hat::testing::ReadAll;
using ::hat::testing::SourcePath;
using ::hat::testing::Subprocess;
using ::hat::testing::WaitFor;
using ::testing::HasSubstr;

constexpr char kAdminToken[] = "admin-secret-456";

struct CommandRun {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class ServerJobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.File("corpora/toy"));
    hat::testing::WriteToyCorpus(dir_.File("corpora/toy"));
  }

  // Starts (or restarts) hat-server on data directory `data`, on the port it had before.
  void StartServer(const std::string& data = "data", std::vector<std::string> extra = {}) {
    const std::string port_file = dir_.File("port");
    std::remove(port_file.c_str());
    std::vector<std::string> argv = {HAT_SERVER_PATH,
                                     "--data-dir=" + dir_.File(data),
                                     "--listen=127.0.0.1:" + std::to_string(port_),
                                     "--port_file=" + port_file,
                                     "--fleet_token=fleet-secret-123",
                                     std::string("--admin_token=") + kAdminToken,
                                     "--corpora-dir=" + dir_.File("corpora")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    server_ = std::make_unique<Subprocess>(argv, dir_.File("server.log"));
    ASSERT_TRUE(WaitFor([&] { return !ReadAll(port_file).empty() || !server_->running(); }, 60))
        << server_->Log();
    ASSERT_TRUE(server_->running()) << server_->Log();
    port_ = std::stoi(ReadAll(port_file));
  }

  // hatctl against the server; with `stdout_only` its progress lines (stderr) are left out, so
  // that --json output parses.
  CommandRun Hatctl(const std::string& args, bool stdout_only = false) {
    return Local(args + " --server 127.0.0.1:" + std::to_string(port_) + " --token " + kAdminToken,
                 stdout_only);
  }
  CommandRun Local(const std::string& args, bool stdout_only = false) {
    // A log of its own per call: Subprocess appends.
    Subprocess p({"/bin/sh", "-c",
                  std::string(HATCTL_PATH) + " " + args +
                      (stdout_only ? " 2>>" + dir_.File("stderr.log") : std::string())},
                 dir_.File("hatctl-" + std::to_string(++calls_) + ".log"));
    const int code = p.Wait();
    return {code, p.Log()};
  }

  nlohmann::json GetJob(const std::string& id) {
    const CommandRun r = Hatctl("jobs get " + id + " --json", true);
    if (r.exit_code != 0) return nlohmann::json::object();
    nlohmann::json job = nlohmann::json::parse(r.output, nullptr, false);
    return job.is_object() ? job : nlohmann::json::object();
  }
  // The job's state name once it is one of the final ones ("" at the timeout).
  std::string WaitEnded(const std::string& id, double seconds) {
    std::string state;
    WaitFor(
        [&] {
          if (!server_->running()) return true;  // died: no point waiting (the log says why)
          state = GetJob(id).value("state", "");
          return state == "JOB_STATE_SUCCEEDED" || state == "JOB_STATE_FAILED" ||
                 state == "JOB_STATE_CANCELLED";
        },
        seconds);
    return state;
  }
  std::string Submit(const std::string& flags, const std::string& corpus = "toy") {
    const CommandRun r =
        Hatctl("jobs submit supernet --space tiny --corpus " + corpus +
                   " --vocab-size 60 --max-tokens 256 --threads 1 --valid-sentences 8 " + flags,
               true);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return std::string(absl::StripAsciiWhitespace(r.output));
  }
  // The weights' SHA-256 of artifact `id`, downloaded to `file`.
  std::string DownloadedWeights(const std::string& id, const std::string& file) {
    CommandRun r = Hatctl("artifacts download " + id + " --out " + file);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    r = Local("checkpoint info " + file + " --json", true);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    const nlohmann::json info = nlohmann::json::parse(r.output, nullptr, false);
    return info.is_object() ? info.value("parameters_sha256", "") : "";
  }

  hat::testing::TempDir dir_;
  std::unique_ptr<Subprocess> server_;
  int port_ = 0;
  int calls_ = 0;
};

// An int64 field of proto JSON (written as a string) or an int32 one (a number).
int64_t Int(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object() || !object.contains(key)) return 0;
  const nlohmann::json& v = object.at(key);
  return v.is_string() ? std::stoll(v.get<std::string>()) : v.get<int64_t>();
}

TEST_F(ServerJobsTest, SupernetJobKilledMidRunResumesToTheWeightsOfAnUninterruptedRun) {
  StartServer();
  // Interrupted: SIGKILL once a checkpoint has been written and training went past it.
  const std::string interrupted = Submit("--steps 40 --save-every 10 --seed 7");
  ASSERT_TRUE(WaitFor(
      [&] { return !server_->running() || Int(GetJob(interrupted)["progress"], "done") >= 15; },
      600))
      << server_->Log();
  ASSERT_TRUE(server_->running()) << server_->Log();
  server_->Kill(SIGKILL);
  server_->Wait();
  // What an upload was writing when the server died is not kept.
  const std::string stray = dir_.File("data/artifacts/upload-1-1.partial");
  std::ofstream(stray) << "half an upload";
  StartServer();
  EXPECT_FALSE(std::filesystem::exists(stray));
  ASSERT_EQ(WaitEnded(interrupted, 600), "JOB_STATE_SUCCEEDED") << server_->Log();
  const nlohmann::json resumed = GetJob(interrupted);
  EXPECT_EQ(Int(resumed["result"], "final_step"), 40);
  // It continued from a checkpoint (every 10 updates), not from scratch.
  const int64_t resumed_from = Int(resumed["result"], "resumed_from_step");
  EXPECT_GE(resumed_from, 10);
  EXPECT_EQ(resumed_from % 10, 0);
  const std::string resumed_artifact = resumed["result"].value("artifact_id", "");
  ASSERT_FALSE(resumed_artifact.empty());

  // Uninterrupted, same spec and seed.
  const std::string whole = Submit("--steps 40 --save-every 10 --seed 7");
  ASSERT_EQ(WaitEnded(whole, 600), "JOB_STATE_SUCCEEDED") << server_->Log();
  const std::string whole_artifact = GetJob(whole)["result"].value("artifact_id", "");
  ASSERT_NE(whole_artifact, resumed_artifact);

  const std::string a = DownloadedWeights(resumed_artifact, dir_.File("resumed.pt"));
  const std::string b = DownloadedWeights(whole_artifact, dir_.File("whole.pt"));
  ASSERT_EQ(a.size(), 64u);
  EXPECT_EQ(a, b) << "a resumed SuperTransformer job must end with the uninterrupted weights";

  // The finished jobs' work directories are gone; their checkpoints live on as artifacts.
  EXPECT_FALSE(std::filesystem::exists(dir_.File("data/jobs/" + interrupted)));
  CommandRun list = Hatctl("artifacts list --json");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_THAT(list.output, HasSubstr(interrupted));
  EXPECT_THAT(list.output, HasSubstr("ARTIFACT_KIND_SUPERNET_CHECKPOINT"));

  // The downloaded SuperTransformer is usable: a SubTransformer evaluated with inherited weights.
  CommandRun eval = Local("subnet eval --supernet " + dir_.File("resumed.pt") + " --config " +
                          std::string(HAT_SOURCE_DIR) + "/data/configs/transformer-tiny.yml" +
                          " --data " + dir_.File("corpora/toy") + " --threads 1 --json");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_THAT(eval.output, HasSubstr("valid_loss"));

  // Export by job id gives the same bytes as the artifact download.
  CommandRun exported = Hatctl("jobs export " + whole + " --out " + dir_.File("exported.pt"));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_EQ(ReadAll(dir_.File("exported.pt")), ReadAll(dir_.File("whole.pt")));
}

// A SuperTransformer job of two data-parallel ranks: the job is rank 0, a hatctl process rank 1.
// Killed mid-run with the server, it resumes to the weights of an uninterrupted two-rank job (the
// ranks' dropout masks are seeded by rank, so the runs are the same); rank 1 never outlives its
// job, whether the server dies, the job ends or it is cancelled.
TEST_F(ServerJobsTest, SupernetJobOfTwoRanksKilledMidRunResumesToTheWeightsOfAnUninterruptedOne) {
  StartServer();
  CommandRun r = Hatctl("jobs submit supernet --space tiny --corpus toy --steps 2 --workers 65");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.output, HasSubstr("supernet_training.workers=65: must be in [0, 64]"));
  // A rank process of `job` (its run directory is in the job's).
  auto rank_running = [&](const std::string& job) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string cmdline = ReadAll(entry.path().string() + "/cmdline");
      if (cmdline.find(dir_.File("data/jobs/" + job + "/rank-1")) != std::string::npos) {
        return true;
      }
    }
    return false;
  };

  const std::string spec = "--steps 60 --save-every 10 --seed 5 --workers 2";
  const std::string interrupted = Submit(spec);
  ASSERT_TRUE(WaitFor(
      [&] { return !server_->running() || Int(GetJob(interrupted)["progress"], "done") >= 15; },
      600))
      << server_->Log();
  ASSERT_TRUE(server_->running()) << server_->Log();
  EXPECT_TRUE(rank_running(interrupted));
  server_->Kill(SIGKILL);
  server_->Wait();
  EXPECT_TRUE(WaitFor([&] { return !rank_running(interrupted); }, 120))
      << "rank 1 outlived the server";
  StartServer();
  ASSERT_EQ(WaitEnded(interrupted, 600), "JOB_STATE_SUCCEEDED") << server_->Log();
  const nlohmann::json resumed = GetJob(interrupted);
  EXPECT_EQ(Int(resumed["result"], "final_step"), 60);
  EXPECT_GE(Int(resumed["result"], "resumed_from_step"), 10);
  EXPECT_EQ(Int(resumed["spec"]["supernet_training"], "workers"), 2);

  const std::string whole = Submit(spec);
  ASSERT_EQ(WaitEnded(whole, 600), "JOB_STATE_SUCCEEDED") << server_->Log();
  EXPECT_FALSE(rank_running(whole));
  const std::string a =
      DownloadedWeights(resumed["result"].value("artifact_id", ""), dir_.File("resumed.pt"));
  const std::string b =
      DownloadedWeights(GetJob(whole)["result"].value("artifact_id", ""), dir_.File("whole.pt"));
  ASSERT_EQ(a.size(), 64u);
  EXPECT_EQ(a, b) << "a resumed two-rank job must end with the uninterrupted weights";
  CommandRun list = Hatctl("artifacts list --json");
  ASSERT_EQ(list.exit_code, 0) << list.output;
  EXPECT_THAT(list.output, HasSubstr("60 updates on toy, seed 5, 2 ranks"));

  // Cancelled: rank 0 stops within an update, rank 1 with it.
  const std::string cancelled = Submit("--steps 1000000 --save-every 1000 --seed 6 --workers 2");
  ASSERT_TRUE(WaitFor([&] { return Int(GetJob(cancelled)["progress"], "done") >= 2; }, 600))
      << server_->Log();
  r = Hatctl("jobs cancel " + cancelled);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(WaitEnded(cancelled, 600), "JOB_STATE_CANCELLED") << server_->Log();
  EXPECT_TRUE(WaitFor([&] { return !rank_running(cancelled); }, 60))
      << "rank 1 outlived its cancelled job";
}

TEST_F(ServerJobsTest, CorporaOutsideTheRootAndBadUploadsAreRefusedAndLeaveNothing) {
  StartServer();
  CommandRun r = Hatctl("jobs submit supernet --space tiny --corpus ../etc --steps 2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("'..' parts are not allowed"));
  r = Hatctl("jobs submit supernet --space tiny --corpus /etc --steps 2");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("an absolute path"));
  // A symbolic link inside the root that leads out of it fails the job, saying so.
  std::filesystem::create_directory_symlink("/etc", dir_.File("corpora/escape"));
  const std::string escaped = Submit("--steps 2", "escape");
  EXPECT_EQ(WaitEnded(escaped, 120), "JOB_STATE_FAILED");
  EXPECT_THAT(GetJob(escaped).value("error", ""), HasSubstr("leads out of the corpora directory"));

  // An upload that is not a checkpoint is refused with the reason, and no artifact or file stays.
  std::ofstream(dir_.File("not-a-checkpoint.pt")) << "these bytes are no LibTorch archive";
  r = Hatctl("supernet upload " + dir_.File("not-a-checkpoint.pt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("not a hatfleet SuperTransformer checkpoint"));
  r = Hatctl("artifacts list --json");
  EXPECT_THAT(r.output, ::testing::Not(HasSubstr("art-")));
  EXPECT_TRUE(std::filesystem::is_empty(dir_.File("data/artifacts")));
  r = Hatctl("artifacts download art-000009 --out " + dir_.File("none.pt"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("artifact 'art-000009' does not exist"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("none.pt")));

  // A real checkpoint (trained locally) uploads, lists with its space, and downloads unchanged.
  CommandRun trained =
      Local("supernet train --space tiny --data " + dir_.File("corpora/toy") +
            " --vocab-size 60 --cache " + dir_.File("cache") +
            " --threads 1 --max-tokens 256 --steps 2 --save-every 2 --out " + dir_.File("run"));
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  r = Hatctl("supernet upload " + dir_.File("run/checkpoint_2.pt") + " --json", true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json uploaded = nlohmann::json::parse(r.output, nullptr, false);
  EXPECT_EQ(uploaded.value("space_name", ""), "tiny");
  r = Hatctl("artifacts download " + uploaded.value("artifact_id", "") + " --out " +
             dir_.File("back.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(ReadAll(dir_.File("back.pt")), ReadAll(dir_.File("run/checkpoint_2.pt")));
}

// The search as a user runs it on the server: a SuperTransformer trained there, a latency
// dataset measured by the local agent and its predictor, then a search job under a limit that
// the server is killed in the middle of; after the restart it ends with the result of an
// uninterrupted search with the same seed, and its winners were re-measured on the agent.
TEST_F(ServerJobsTest, SearchJobKilledMidRunEndsAsAnUninterruptedOneWithRemeasuredWinners) {
  const std::vector<std::string> agent = {"--local_agent", "--local_agent_device_class=here"};
  StartServer("data", agent);
  const std::string supernet = Submit("--steps 4 --save-every 4 --seed 2");
  ASSERT_EQ(WaitEnded(supernet, 600), "JOB_STATE_SUCCEEDED") << server_->Log();
  const std::string artifact = GetJob(supernet)["result"].value("artifact_id", "");
  CommandRun r = Hatctl(
      "jobs submit latency-dataset --space tiny --device-class here --samples 12 --protocol hat "
      "--runs 2 --warmup 1",
      true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(WaitEnded(std::string(absl::StripAsciiWhitespace(r.output)), 600),
            "JOB_STATE_SUCCEEDED");
  r = Hatctl("jobs submit predictor --device-class here", true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ASSERT_EQ(WaitEnded(std::string(absl::StripAsciiWhitespace(r.output)), 600),
            "JOB_STATE_SUCCEEDED");

  // A search without a predictor for its class, or on a missing artifact, is refused at once.
  r = Hatctl("jobs submit search --supernet " + artifact + " --constraint gpu:10");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("no predictor for device class 'gpu'"));
  r = Hatctl("jobs submit search --supernet art-000099 --constraint here:10");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.output, HasSubstr("artifact 'art-000099' does not exist"));

  const std::string tiny = SourcePath("data/configs/transformer-tiny.yml");
  const std::string search_flags = "jobs submit search --supernet " + artifact +
                                   " --constraint here:100000 --iterations 10 --population 20"
                                   " --parents 6 --mutations 7 --crossovers 7 --valid-sentences 8"
                                   " --threads 1 --seed 4 --reference tiny-ref=" +
                                   tiny;
  r = Hatctl(search_flags, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string interrupted(absl::StripAsciiWhitespace(r.output));
  ASSERT_TRUE(WaitFor(
      [&] { return !server_->running() || Int(GetJob(interrupted)["progress"], "done") >= 2; },
      600))
      << server_->Log();
  ASSERT_TRUE(server_->running()) << server_->Log();
  server_->Kill(SIGKILL);
  server_->Wait();
  StartServer("data", agent);
  EXPECT_NE(GetJob(interrupted).value("state", ""), "JOB_STATE_SUCCEEDED")
      << "the kill must come before the search's end for this test to mean something";
  ASSERT_EQ(WaitEnded(interrupted, 900), "JOB_STATE_SUCCEEDED") << server_->Log();

  r = Hatctl(search_flags, true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string whole(absl::StripAsciiWhitespace(r.output));
  ASSERT_EQ(WaitEnded(whole, 900), "JOB_STATE_SUCCEEDED") << server_->Log();

  const nlohmann::json a = GetJob(interrupted)["result"], b = GetJob(whole)["result"];
  ASSERT_EQ(a["pareto"].size(), 1u);
  ASSERT_EQ(b["pareto"].size(), 1u);
  EXPECT_EQ(a["pareto"][0]["config"]["canonical_key"], b["pareto"][0]["config"]["canonical_key"]);
  EXPECT_EQ(a["pareto"][0]["valid_loss"], b["pareto"][0]["valid_loss"]);
  // The best loss of every iteration, kept with the saved state across the kill: the same as the
  // uninterrupted run's (the dashboard plots it).
  const nlohmann::json ha = GetJob(interrupted)["progress"]["search_history"];
  const nlohmann::json hb = GetJob(whole)["progress"]["search_history"];
  ASSERT_EQ(ha.size(), 10u) << ha.dump();
  ASSERT_EQ(hb.size(), 10u) << hb.dump();
  for (size_t i = 0; i < ha.size(); ++i) {
    EXPECT_EQ(ha[i].value("iteration", 0), static_cast<int>(i) + 1);
    EXPECT_EQ(ha[i]["best_loss"], hb[i]["best_loss"]) << "iteration " << i + 1;
  }
  // The second search found every loss in the server's fitness cache.
  EXPECT_EQ(Int(b, "evaluations"), 0);
  EXPECT_GT(Int(b, "cache_hits"), 0);
  // Re-measured on the agent: measured next to predicted.
  const nlohmann::json& latency = a["pareto"][0]["latencies"][0];
  EXPECT_EQ(latency.value("device_class", ""), "here");
  EXPECT_GT(latency.value("predicted_ms", 0.0), 0);
  EXPECT_GT(latency.value("measured_ms", 0.0), 0);
  EXPECT_FALSE(a.value("remeasure_job_id", "").empty());
  r = Hatctl("search result " + interrupted);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_THAT(r.output, HasSubstr("here <=1e+05"));
  EXPECT_THAT(r.output, HasSubstr("\ntiny-ref "));

  // The reference: scored and re-measured in the same job as the winner, three times each
  // (pass by pass), its measured latency the median of its three.
  ASSERT_EQ(a["references"].size(), 1u) << a.dump();
  const nlohmann::json& ref = a["references"][0];
  EXPECT_EQ(ref.value("name", ""), "tiny-ref");
  EXPECT_EQ(ref["latencies"][0].value("limit_ms", 0.0), 0);  // no limit
  r = Hatctl("jobs export " + a.value("remeasure_job_id", "") + " --format full", true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::map<std::string, std::vector<double>> by_config;
  for (absl::string_view line : absl::StrSplit(r.output, '\n', absl::SkipEmpty())) {
    const nlohmann::json row = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(row.is_object()) << line;
    by_config[row.value("canonical_key", "")].push_back(row.value("total_ms", 0.0));
  }
  const std::string winner_key = a["pareto"][0]["config"].value("canonical_key", "");
  const std::string ref_key = ref["config"].value("canonical_key", "");
  ASSERT_EQ(by_config.size(), winner_key == ref_key ? 1u : 2u);
  for (auto& [key, ms] : by_config) {
    ASSERT_EQ(ms.size(), 3u) << key;
    std::sort(ms.begin(), ms.end());
  }
  EXPECT_EQ(ref["latencies"][0].value("measured_ms", 0.0), by_config[ref_key][1]);
  EXPECT_EQ(latency.value("measured_ms", 0.0), by_config[winner_key][1]);

  // Exported winners load where a user takes them: evaluation with inherited weights (the same
  // loss as the search's), measurement, and the standalone weights file.
  r = Hatctl("search export " + interrupted + " --out " + dir_.File("export") + " --json", true);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json exported = nlohmann::json::parse(r.output, nullptr, false);
  ASSERT_TRUE(exported.is_object()) << r.output;
  const nlohmann::json& winner = exported["winners"][0];
  const std::string yml = winner.value("hat_yaml", "");
  // The standalone weights are the job's artifact, listed with their checksum.
  EXPECT_EQ(winner.value("weights_artifact", ""), a["artifact_ids"][0].get<std::string>());
  CommandRun list = Hatctl("artifacts list", true);
  EXPECT_THAT(list.output, HasSubstr(winner.value("weights_sha256", "").substr(0, 16)));
  EXPECT_THAT(list.output, HasSubstr("subnet"));
  ASSERT_EQ(Hatctl("artifacts download " + artifact + " --out " + dir_.File("super.pt")).exit_code,
            0);
  CommandRun eval = Local("subnet eval --supernet " + dir_.File("super.pt") + " --config " + yml +
                              " --valid-sentences 8 --threads 1 --json",
                          true);
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NEAR(nlohmann::json::parse(eval.output, nullptr, false).value("valid_loss", 0.0),
              a["pareto"][0]["valid_loss"].get<double>(), 1e-4);
  eval = Local("subnet eval --supernet " + dir_.File("super.pt") + " --config " + tiny +
                   " --valid-sentences 8 --threads 1 --json",
               true);
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NEAR(nlohmann::json::parse(eval.output, nullptr, false).value("valid_loss", 0.0),
              ref["valid_loss"].get<double>(), 1e-4);
  // The front as CSV (a row per winner and reference) and as a picture of both.
  const std::string csv = ReadAll(exported.value("pareto_csv", ""));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;
  EXPECT_THAT(csv, HasSubstr("reference,tiny-ref,"));
  const std::string svg = ReadAll(exported.value("pareto_svg", ""));
  EXPECT_THAT(svg, HasSubstr("class=\"measured\""));
  EXPECT_THAT(svg, HasSubstr("class=\"reference\""));
  CommandRun measured = Local("measure --config " + yml + " --space tiny --protocol hat --json");
  EXPECT_EQ(measured.exit_code, 0) << measured.output;
}

}  // namespace
}  // namespace hat
