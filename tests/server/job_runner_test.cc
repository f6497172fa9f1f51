// The job runner and the coordinator's server-job half: claiming, saved state across a restart,
// cancellation, failure, artifacts installed with a job's end (and rolled back when the write
// fails), corpus names, and artifact uploads.
#include "server/job_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/sha256.h"
#include "common/status_macros.h"
#include "server/artifact_upload.h"
#include "server/corpus_root.h"
#include "server/storage/kv_store.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// What a CountingJob saw, kept by the test (the runner owns and destroys the job).
struct Seen {
  std::vector<std::string> saved_state;
  std::vector<std::string> work_dirs;
};

// A server job of the SuperTransformer kind that counts to the job's total, one unit at a time,
// saving its count; `during` runs after each unit (to stop, cancel or fail it from inside).
class CountingJob : public ServerJob {
 public:
  explicit CountingJob(Seen* seen = nullptr) : seen_(seen) {}
  std::function<absl::Status(JobContext&, int)> during = [](JobContext&, int) {
    return absl::OkStatus();
  };

  v1::JobSpec::KindCase kind() const override { return v1::JobSpec::kSupernetTraining; }
  absl::StatusOr<ServerJobOutput> Run(JobContext& context) override {
    if (seen_ != nullptr) {
      seen_->saved_state.push_back(context.saved_state());
      seen_->work_dirs.push_back(context.work_dir());
    }
    const int total = context.job().spec().supernet_training().steps();
    int done = context.saved_state().empty() ? 0 : std::stoi(context.saved_state());
    while (done < total) {
      if (!context.Wanted()) return absl::CancelledError("asked to stop");
      ++done;
      HAT_RETURN_IF_ERROR(context.SaveState(std::to_string(done)));
      HAT_RETURN_IF_ERROR(context.ReportProgress(done, total, "counting"));
      HAT_RETURN_IF_ERROR(during(context, done));
    }
    ServerJobOutput output;
    output.result.set_final_step(done);
    return output;
  }

 private:
  Seen* seen_;
};

class JobRunnerTest : public ::testing::Test {
 protected:
  void Open() {
    c_.reset();
    ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStore(dir_.File("db")));
    CoordinatorOptions o;
    o.now_unix_ms = [this] { return now_ms_; };
    o.artifacts_dir = dir_.File("artifacts");
    std::filesystem::create_directories(o.artifacts_dir);
    ASSERT_OK_AND_ASSIGN(c_, Coordinator::Open(std::move(store), o));
  }
  void SetUp() override { Open(); }

  std::string SubmitCounting(int steps) {
    v1::SubmitJobRequest r;
    r.mutable_spec()->mutable_supernet_training()->set_space_name("tiny");
    r.mutable_spec()->mutable_supernet_training()->set_corpus("toy");
    r.mutable_spec()->mutable_supernet_training()->set_steps(steps);
    auto job = c_->SubmitJob(r);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? job->job_id() : "";
  }
  // Runs one queued job with `job` as its executor; whether one ran.
  bool RunOnce(std::unique_ptr<ServerJob> job) {
    JobRunner runner(c_.get(), {1, dir_.File("jobs")});
    runner.Add(std::move(job));
    auto ran = runner.RunOnce(now_ms_);
    EXPECT_TRUE(ran.ok()) << ran.status();
    return ran.ok() && *ran;
  }
  // Whether the store holds saved state for the job (closes the coordinator to look).
  bool HasSavedState(const std::string& job_id) {
    c_.reset();
    auto store = OpenRocksDbStore(dir_.File("db"));
    EXPECT_TRUE(store.ok()) << store.status();
    auto saved = (*store)->Get(Table::kJobCheckpoints, job_id);
    EXPECT_TRUE(saved.ok()) << saved.status();
    return saved.ok() && saved->has_value();
  }

  hat::testing::TempDir dir_;
  int64_t now_ms_ = 1'700'000'000'000;
  std::unique_ptr<Coordinator> c_;
};

TEST_F(JobRunnerTest, AJobStoppedByAShutdownResumesFromItsSavedStateAndRunsOnlyOnce) {
  const std::string id = SubmitCounting(5);
  Seen first_run;
  auto first = std::make_unique<CountingJob>(&first_run);
  // The server shuts down after the second unit: the job stops and is left to resume.
  first->during = [this](JobContext&, int done) {
    if (done == 2) c_->Shutdown();
    return absl::OkStatus();
  };
  ASSERT_TRUE(RunOnce(std::move(first)));
  EXPECT_EQ(first_run.saved_state, std::vector<std::string>{""});
  const std::string work_dir = first_run.work_dirs.at(0);
  EXPECT_TRUE(std::filesystem::exists(work_dir));  // kept to resume from
  EXPECT_TRUE(HasSavedState(id));

  Open();  // the restart
  ASSERT_OK_AND_ASSIGN(v1::Job queued, c_->GetJob(id));
  EXPECT_EQ(queued.state(), v1::JOB_STATE_QUEUED);
  Seen second_run;
  auto second = std::make_unique<CountingJob>(&second_run);
  ASSERT_TRUE(RunOnce(std::move(second)));
  EXPECT_EQ(second_run.saved_state, std::vector<std::string>{"2"});
  ASSERT_OK_AND_ASSIGN(v1::Job done, c_->GetJob(id));
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error();
  EXPECT_EQ(done.result().final_step(), 5);
  EXPECT_EQ(done.progress().done(), 5);
  EXPECT_FALSE(std::filesystem::exists(work_dir));
  EXPECT_FALSE(HasSavedState(id));
  Open();

  // Finished is final: not claimed again, also after a restart.
  EXPECT_FALSE(RunOnce(std::make_unique<CountingJob>()));
  ASSERT_OK_AND_ASSIGN(v1::Job still, c_->GetJob(id));
  EXPECT_EQ(still.state(), v1::JOB_STATE_SUCCEEDED);
}

TEST_F(JobRunnerTest, ACancelledJobStopsKeepsItsStateAndLosesItsSavedState) {
  const std::string id = SubmitCounting(100);
  Seen run;
  auto job = std::make_unique<CountingJob>(&run);
  job->during = [this, &id](JobContext&, int done) {
    if (done == 3) return c_->CancelJob(id).status();
    return absl::OkStatus();
  };
  ASSERT_TRUE(RunOnce(std::move(job)));
  ASSERT_OK_AND_ASSIGN(v1::Job cancelled, c_->GetJob(id));
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_LT(cancelled.progress().done(), 100);
  EXPECT_FALSE(std::filesystem::exists(run.work_dirs.at(0)));
  // Saving state for a job that is no longer running is refused.
  EXPECT_THAT(c_->SaveServerJobState(id, "4"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not running")));
  EXPECT_FALSE(HasSavedState(id));
}

TEST_F(JobRunnerTest, AFailureFailsTheJobWithTheJobAndTheReason) {
  const std::string id = SubmitCounting(5);
  auto job = std::make_unique<CountingJob>();
  job->during = [](JobContext&, int done) {
    return done == 2 ? absl::InvalidArgumentError("the corpus has no valid split")
                     : absl::OkStatus();
  };
  ASSERT_TRUE(RunOnce(std::move(job)));
  ASSERT_OK_AND_ASSIGN(v1::Job failed, c_->GetJob(id));
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(failed.error(), "job " + id + ": the corpus has no valid split");
}

TEST(JobRunnerArtifactTest, ArtifactsAreInstalledWithTheJobsEndAndNotOnAFailedWrite) {
  hat::testing::TempDir dir;
  auto faulty = std::make_unique<FaultInjectingStore>(NewMemoryStore());
  FaultInjectingStore* store = faulty.get();
  CoordinatorOptions o;
  o.artifacts_dir = dir.File("artifacts");
  std::filesystem::create_directories(o.artifacts_dir);
  ASSERT_OK_AND_ASSIGN(auto c, Coordinator::Open(std::move(faulty), o));
  v1::SubmitJobRequest r;
  r.mutable_spec()->mutable_supernet_training()->set_space_name("tiny");
  r.mutable_spec()->mutable_supernet_training()->set_corpus("toy");
  r.mutable_spec()->mutable_supernet_training()->set_steps(1);
  ASSERT_OK_AND_ASSIGN(v1::Job job, c->SubmitJob(r));
  ASSERT_OK_AND_ASSIGN(auto claimed, c->ClaimServerJob({v1::JobSpec::kSupernetTraining}, 0));
  ASSERT_TRUE(claimed.has_value());
  const std::string made = dir.File("weights.pt");
  std::ofstream(made) << "trained weights";
  ServerJobOutput output;
  ArtifactFile file{made, {}};
  file.header.set_kind(v1::ARTIFACT_KIND_SUPERNET_CHECKPOINT);
  file.header.set_filename("supernet.pt");
  output.artifacts.push_back(file);

  store->FailWritesAfter(0);
  EXPECT_THAT(c->FinishServerJob(job.job_id(), output),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected")));
  store->Heal();
  EXPECT_TRUE(std::filesystem::exists(made));  // put back where the job left it
  EXPECT_TRUE(std::filesystem::is_empty(o.artifacts_dir));
  ASSERT_OK_AND_ASSIGN(v1::ListArtifactsResponse none, c->ListArtifacts({}));
  EXPECT_EQ(none.artifacts_size(), 0);
  ASSERT_OK_AND_ASSIGN(v1::Job running, c->GetJob(job.job_id()));
  EXPECT_EQ(running.state(), v1::JOB_STATE_RUNNING);

  ASSERT_THAT(c->FinishServerJob(job.job_id(), output), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Job done, c->GetJob(job.job_id()));
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.result().artifact_id(), "art-000001");
  ASSERT_OK_AND_ASSIGN(auto artifact, c->GetArtifact("art-000001"));
  EXPECT_EQ(artifact.first.job_id(), job.job_id());
  EXPECT_EQ(ReadAll(artifact.second), "trained weights");
  EXPECT_FALSE(std::filesystem::exists(made));
  EXPECT_THAT(c->GetArtifact("art-000002"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'art-000002' does not exist")));
  EXPECT_THAT(c->GetArtifact("../db"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CorpusRootTest, NamesStayInsideTheRoot) {
  hat::testing::TempDir dir;
  std::filesystem::create_directories(dir.File("root/multi30k"));
  std::filesystem::create_directories(dir.File("outside"));
  std::filesystem::create_directory_symlink(dir.File("outside"), dir.File("root/escape"));
  std::filesystem::create_directory_symlink(dir.File("root/multi30k"), dir.File("root/alias"));
  const std::string root = dir.File("root");
  EXPECT_THAT(ResolveCorpusDir(root, "multi30k"), IsOk());
  EXPECT_THAT(ResolveCorpusDir(root, "alias"), IsOk());  // a link that stays inside is fine
  EXPECT_THAT(ResolveCorpusDir(root, "escape"),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("leads out")));
  EXPECT_THAT(ResolveCorpusDir(root, "missing"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'missing' does not exist")));
  EXPECT_THAT(ResolveCorpusDir("", "multi30k"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("--corpora-dir")));
  for (const char* bad : {"../outside", "multi30k/../../outside", "/etc", "a//b", ".", "a b", ""}) {
    EXPECT_THAT(CheckCorpusName("corpus", bad), StatusIs(absl::StatusCode::kInvalidArgument))
        << bad;
  }
  EXPECT_THAT(CheckCorpusName("corpus", "wmt/en-de_2014.v1"), IsOk());
}

TEST(ArtifactUploadTest, DamagedShortLongAndForeignUploadsAreRefusedAndLeaveNothing) {
  hat::testing::TempDir dir;
  const std::string bytes = "not a checkpoint, but the right size and checksum";
  Sha256 sha;
  sha.Update(bytes);
  v1::Artifact header;
  header.set_kind(v1::ARTIFACT_KIND_SUPERNET_CHECKPOINT);
  header.set_size_bytes(static_cast<int64_t>(bytes.size()));
  header.set_sha256(sha.HexDigest());
  auto finish = [&](const v1::Artifact& h, const std::string& sent) {
    absl::StatusOr<std::unique_ptr<ArtifactUpload>> upload = ArtifactUpload::Begin(dir.path(), h);
    if (!upload.ok()) return upload.status();
    absl::Status appended = (*upload)->Append(sent);
    if (!appended.ok()) return appended;
    return (*upload)->Finish().status();
  };
  EXPECT_THAT(finish(header, bytes.substr(0, 10)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("10 of 49 bytes arrived")));
  EXPECT_THAT(finish(header, bytes + "!"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("more than the declared")));
  std::string flipped = bytes;
  flipped[3] ^= 1;
  EXPECT_THAT(finish(header, flipped),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("upload damaged")));
  EXPECT_THAT(finish(header, bytes),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("not a hatfleet SuperTransformer checkpoint")));
  v1::Artifact bad = header;
  bad.set_sha256("XYZ");
  EXPECT_THAT(finish(bad, bytes),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("header.sha256")));
  bad = header;
  bad.set_kind(v1::ARTIFACT_KIND_UNSPECIFIED);
  EXPECT_THAT(finish(bad, bytes),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("header.kind")));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace hat
