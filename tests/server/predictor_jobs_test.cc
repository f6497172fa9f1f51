// Predictor-training jobs end to end inside the coordinator: measurements of a device class in,
// a versioned predictor out; failures, cancellation, storage faults and restarts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "common/builtin_spaces.h"
#include "common/cost_model.h"
#include "common/proto_conversions.h"
#include "common/sampling.h"
#include "server/job_runner.h"
#include "server/predictor_job.h"
#include "server/storage/record_codec.h"
#include "tests/server/coordinator_test_fixture.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

// A predictor fit's result as a server job's output.
absl::StatusOr<ServerJobOutput> AsOutput(absl::StatusOr<v1::StoredPredictor> trained) {
  if (!trained.ok()) return trained.status();
  ServerJobOutput output;
  output.predictor = *std::move(trained);
  return output;
}

class PredictorJobTest : public CoordinatorTest {
 protected:
  // Measures every queued config of `device_class` with a device whose latency is linear in the
  // config's analytic cost (what the default predictor should learn almost exactly).
  void MeasureAll(const std::string& device_class, int configs) {
    Submit(configs, device_class);
    MeasureQueued(device_class, configs);
  }
  void MeasureQueued(const std::string& device_class, int configs) {
    if (agent_.empty()) agent_ = Register(device_class);
    const std::string agent = agent_;
    const DesignSpace tiny = *BuiltinSpace("tiny");
    for (int i = 0; i < configs; ++i) {
      ASSERT_OK_AND_ASSIGN(auto lease, Lease(agent));
      ASSERT_TRUE(lease.has_task()) << "config " << i << " of " << configs;
      ASSERT_OK_AND_ASSIGN(SubTransformerConfig config, FromProto(lease.task().config().config()));
      measured_ids_.push_back(lease.task().config().config_id());
      ASSERT_OK_AND_ASSIGN(ModelCost cost, EstimateCost(config, tiny));
      const double encoder_ms = 0.5 + 2e-6 * cost.encoder_macs;
      const double decoder_ms = 1.0 + 3e-6 * cost.decoder_macs;
      ASSERT_OK_AND_ASSIGN(auto ack,
                           Report(agent, lease, encoder_ms + decoder_ms, encoder_ms, decoder_ms));
      ASSERT_TRUE(ack.stored());
    }
  }
  std::string SubmitPredictor(const std::string& device_class, const std::string& model = "") {
    v1::SubmitJobRequest r;
    r.mutable_spec()->mutable_predictor_training()->set_device_class(device_class);
    r.mutable_spec()->mutable_predictor_training()->set_model(model);
    auto job = c_->SubmitJob(r);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? job->job_id() : "";
  }
  std::string agent_;
  std::vector<uint64_t> measured_ids_;  // config ids in the order MeasureQueued measured them

  // Runs the queued predictor job, if any (deadline now: no waiting).
  bool RunWorker() {
    JobRunner runner(c_.get(), {1, jobs_dir_.path()});
    runner.Add(std::make_unique<PredictorTrainingJob>());
    auto ran = runner.RunOnce(now_ms_);
    EXPECT_TRUE(ran.ok()) << ran.status();
    return ran.ok() && *ran;
  }
  hat::testing::TempDir jobs_dir_;
};

TEST_F(PredictorJobTest, TrainsOnTheDeviceClassAndStoresVersions) {
  MeasureAll("cpu", 60);
  const std::string first = SubmitPredictor("cpu");
  ASSERT_OK_AND_ASSIGN(v1::Job queued, c_->GetJob(first));
  EXPECT_EQ(queued.state(), v1::JOB_STATE_QUEUED);
  EXPECT_EQ(queued.spec().predictor_training().model(), "default");
  ASSERT_TRUE(RunWorker());
  ASSERT_OK_AND_ASSIGN(v1::Job done, c_->GetJob(first));
  ASSERT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error();
  EXPECT_EQ(done.result().predictor_version(), 1);
  EXPECT_EQ(done.result().measurements(), 60);
  EXPECT_LT(done.result().test_mape_pct(), 1.0);  // the device is linear in the costs
  EXPECT_FALSE(RunWorker());                      // nothing left to run

  const std::string second = SubmitPredictor("cpu", "default");
  ASSERT_TRUE(RunWorker());
  ASSERT_OK_AND_ASSIGN(v1::StoredPredictor latest, c_->GetPredictor("cpu", 0));
  EXPECT_EQ(latest.version(), 2);
  EXPECT_EQ(latest.job_id(), second);
  EXPECT_EQ(latest.predictor().accuracy().train_rows(), 48);
  EXPECT_GT(latest.predictor().linear_members_size(), 0);
  ASSERT_OK_AND_ASSIGN(v1::StoredPredictor v1_again, c_->GetPredictor("cpu", 1));
  EXPECT_EQ(v1_again.job_id(), first);
  EXPECT_THAT(c_->GetPredictor("cpu", 3),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("no predictor version 3")));
  EXPECT_THAT(c_->GetPredictor("gpu", 0),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'gpu'")));
  ASSERT_OK_AND_ASSIGN(v1::ListPredictorsResponse list, c_->ListPredictors(""));
  ASSERT_EQ(list.predictors_size(), 2);
  EXPECT_EQ(list.predictors(0).version(), 1);
  EXPECT_EQ(list.predictors(1).predictor().linear_members_size(), 0);  // weights left out
}

// Export by job id: a dataset job's own rows, a predictor job's predictor file; nothing before a
// job has results.
TEST_F(PredictorJobTest, ExportOfAJobGivesItsOwnResults) {
  MeasureAll("cpu", 12);
  const std::string dataset_job = "job-000001";
  Submit(3, "cpu");  // a second dataset job of the class, unmeasured
  ASSERT_OK_AND_ASSIGN(Coordinator::JobExport rows,
                       c_->ExportJob(dataset_job, v1::EXPORT_FORMAT_FULL));
  EXPECT_EQ(rows.filename, dataset_job + ".jsonl");
  EXPECT_EQ(std::count(rows.data.begin(), rows.data.end(), '\n'), 12);
  ASSERT_OK_AND_ASSIGN(Coordinator::JobExport none,
                       c_->ExportJob("job-000002", v1::EXPORT_FORMAT_FULL));
  EXPECT_TRUE(none.data.empty());

  const std::string job = SubmitPredictor("cpu");
  EXPECT_THAT(c_->ExportJob(job, v1::EXPORT_FORMAT_UNSPECIFIED),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("has not succeeded")));
  ASSERT_TRUE(RunWorker());
  ASSERT_OK_AND_ASSIGN(Coordinator::JobExport file,
                       c_->ExportJob(job, v1::EXPORT_FORMAT_UNSPECIFIED));
  EXPECT_EQ(file.filename, "cpu-v1.predictor");
  v1::LatencyPredictor exported;
  ASSERT_TRUE(exported.ParseFromString(file.data));
  ASSERT_OK_AND_ASSIGN(v1::StoredPredictor stored, c_->GetPredictor("cpu", 1));
  EXPECT_EQ(exported.SerializeAsString(), stored.predictor().SerializeAsString());
  EXPECT_THAT(c_->ExportJob("job-999999", v1::EXPORT_FORMAT_FULL),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'job-999999' does not exist")));
}

TEST_F(PredictorJobTest, TooFewMeasurementsFailTheJobWithAMessage) {
  MeasureAll("cpu", 4);
  const std::string job = SubmitPredictor("cpu");
  ASSERT_TRUE(RunWorker());
  ASSERT_OK_AND_ASSIGN(v1::Job failed, c_->GetJob(job));
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_THAT(failed.error(), HasSubstr("'cpu' has 4 stored measurements"));
  EXPECT_THAT(
      c_->GetPredictor("cpu", 0),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no predictor for device class 'cpu'")));
}

TEST_F(PredictorJobTest, BadSubmissionsNameTheField) {
  v1::SubmitJobRequest r;
  r.mutable_spec()->mutable_predictor_training()->set_device_class("cpu");
  r.mutable_spec()->mutable_predictor_training()->set_model("xgboost");
  EXPECT_THAT(c_->SubmitJob(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("predictor_training.model='xgboost'")));
  r.mutable_spec()->mutable_predictor_training()->set_model("hat-mlp");
  r.mutable_spec()->mutable_predictor_training()->set_max_train_rows(-1);
  EXPECT_THAT(c_->SubmitJob(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("predictor_training.max_train_rows=-1")));
  r.mutable_spec()->mutable_predictor_training()->set_device_class("no/slash");
  EXPECT_THAT(c_->SubmitJob(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("predictor_training.device_class")));
  EXPECT_THAT(c_->SubmitJob(v1::SubmitJobRequest()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no job kind")));
}

TEST_F(PredictorJobTest, ACancelledJobStoresNothing) {
  MeasureAll("cpu", 20);
  const std::string job = SubmitPredictor("cpu");
  ASSERT_OK_AND_ASSIGN(std::optional<ClaimedJob> claimed,
                       c_->ClaimServerJob({v1::JobSpec::kPredictorTraining}, now_ms_));
  ASSERT_TRUE(claimed.has_value());
  EXPECT_EQ(claimed->job.state(), v1::JOB_STATE_RUNNING);
  ASSERT_THAT(c_->CancelJob(job), IsOk());
  ASSERT_THAT(c_->FinishServerJob(
                  job, AsOutput(TrainPredictor(*c_, claimed->job.spec().predictor_training()))),
              IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Job cancelled, c_->GetJob(job));
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  EXPECT_THAT(
      c_->GetPredictor("cpu", 0),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no predictor for device class 'cpu'")));
}

TEST_F(PredictorJobTest, AFitStoppedForShutdownLeavesTheJobToRunAgain) {
  MeasureAll("cpu", 20);
  const std::string job = SubmitPredictor("cpu", "hat-mlp");
  ASSERT_OK_AND_ASSIGN(std::optional<ClaimedJob> claimed,
                       c_->ClaimServerJob({v1::JobSpec::kPredictorTraining}, now_ms_));
  ASSERT_TRUE(claimed.has_value());
  EXPECT_TRUE(c_->ServerJobWanted(job));
  c_->Shutdown();
  EXPECT_FALSE(c_->ServerJobWanted(job));
  // The fit asks, stops at its first checkpoint, and nothing is written.
  auto trained = TrainPredictor(*c_, claimed->job.spec().predictor_training(),
                                [&] { return !c_->ServerJobWanted(job); });
  EXPECT_THAT(trained, StatusIs(absl::StatusCode::kCancelled, HasSubstr("stopped")));
  ASSERT_THAT(c_->FinishServerJob(job, AsOutput(trained)), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Job still, c_->GetJob(job));
  EXPECT_EQ(still.state(), v1::JOB_STATE_RUNNING);  // queued again when the server restarts
  EXPECT_TRUE(still.error().empty());
}

TEST_F(PredictorJobTest, AFailedWriteStoresNoVersionAndAcknowledgesNothing) {
  MeasureAll("cpu", 20);
  const std::string job = SubmitPredictor("cpu");
  ASSERT_OK_AND_ASSIGN(std::optional<ClaimedJob> claimed,
                       c_->ClaimServerJob({v1::JobSpec::kPredictorTraining}, now_ms_));
  ASSERT_TRUE(claimed.has_value());
  auto trained = TrainPredictor(*c_, claimed->job.spec().predictor_training());
  ASSERT_THAT(trained, IsOk());
  faulty_->FailWritesAfter(0);
  EXPECT_THAT(c_->FinishServerJob(job, AsOutput(trained)),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected")));
  faulty_->Heal();
  ASSERT_OK_AND_ASSIGN(v1::Job running, c_->GetJob(job));
  EXPECT_EQ(running.state(), v1::JOB_STATE_RUNNING);
  EXPECT_THAT(
      c_->GetPredictor("cpu", 0),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("no predictor for device class 'cpu'")));
  ASSERT_THAT(c_->FinishServerJob(job, AsOutput(trained)), IsOk());  // the retry stores version 1
  ASSERT_OK_AND_ASSIGN(v1::StoredPredictor stored, c_->GetPredictor("cpu", 0));
  EXPECT_EQ(stored.version(), 1);
}

TEST_F(PredictorJobTest, UncertaintySamplingAddsBatchesUntilTheTotal) {
  v1::SubmitJobRequest r;
  auto* spec = r.mutable_spec()->mutable_latency_dataset();
  spec->set_space_name("tiny");
  spec->set_device_class("cpu");
  spec->set_num_configs(40);
  spec->set_seed(5);
  spec->set_strategy(v1::LatencyDatasetJobSpec::STRATEGY_UNCERTAINTY);
  ASSERT_OK_AND_ASSIGN(v1::Job job, c_->SubmitJob(r));
  EXPECT_EQ(job.progress().total(), 40);
  MeasureQueued("cpu", 20);  // the initial random fifth (at least 20)
  ASSERT_OK_AND_ASSIGN(auto idle, Lease(agent_));
  EXPECT_FALSE(idle.has_task());
  ASSERT_OK_AND_ASSIGN(v1::Job between, c_->GetJob(job.job_id()));
  EXPECT_EQ(between.state(), v1::JOB_STATE_RUNNING);  // 20 of 40: not done
  EXPECT_EQ(between.progress().done(), 20);

  ASSERT_THAT(c_->AdvanceActiveSampling(), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Job round, c_->GetJob(job.job_id()));
  EXPECT_THAT(round.progress().phase(),
              HasSubstr("10 more configs chosen by predictor uncertainty"));
  ASSERT_THAT(c_->AdvanceActiveSampling(), IsOk());  // nothing while the batch is out
  MeasureQueued("cpu", 10);
  ASSERT_THAT(c_->AdvanceActiveSampling(), IsOk());
  MeasureQueued("cpu", 10);
  ASSERT_OK_AND_ASSIGN(auto none, Lease(agent_));
  EXPECT_FALSE(none.has_task());

  ASSERT_OK_AND_ASSIGN(v1::Job done, c_->GetJob(job.job_id()));
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.progress().phase();
  EXPECT_EQ(done.progress().done(), 40);
  ASSERT_OK_AND_ASSIGN(auto rows, c_->Measurements("cpu"));
  std::set<uint64_t> ids;
  for (const v1::MeasurementResult& m : rows) ids.insert(m.config_id());
  EXPECT_EQ(ids.size(), 40u);                        // no config measured twice
  ASSERT_THAT(c_->AdvanceActiveSampling(), IsOk());  // an ended job gets no more
  ASSERT_OK_AND_ASSIGN(auto after, Lease(agent_));
  EXPECT_FALSE(after.has_task());
}

TEST_F(PredictorJobTest, RepeatsRunPassByPassAndTrainOneRowPerConfig) {
  v1::SubmitJobRequest r;
  auto* spec = r.mutable_spec()->mutable_latency_dataset();
  spec->set_space_name("tiny");
  spec->set_device_class("cpu");
  spec->set_num_configs(30);
  spec->set_seed(3);
  spec->set_repeats(2);
  ASSERT_OK_AND_ASSIGN(v1::Job job, c_->SubmitJob(r));
  EXPECT_EQ(job.progress().total(), 60);
  MeasureQueued("cpu", 60);
  ASSERT_EQ(measured_ids_.size(), 60u);
  // Every config once, then every config again in another order.
  const std::vector<uint64_t> first(measured_ids_.begin(), measured_ids_.begin() + 30);
  std::vector<uint64_t> second(measured_ids_.begin() + 30, measured_ids_.end());
  EXPECT_NE(first, second);
  std::sort(second.begin(), second.end());
  std::vector<uint64_t> first_sorted = first;
  std::sort(first_sorted.begin(), first_sorted.end());
  EXPECT_EQ(first_sorted, second);

  SubmitPredictor("cpu");
  ASSERT_TRUE(RunWorker());
  ASSERT_OK_AND_ASSIGN(v1::StoredPredictor stored, c_->GetPredictor("cpu", 0));
  const v1::PredictorAccuracy& accuracy = stored.predictor().accuracy();
  EXPECT_EQ(accuracy.measurements(), 60);
  // One row per config, not per measurement: a config's measurements cannot sit on both sides
  // of the split. (A small space's sample may hold a config twice: it is one row too.)
  const int distinct = static_cast<int>(std::set<uint64_t>(first.begin(), first.end()).size());
  EXPECT_EQ(accuracy.train_rows() + accuracy.valid_rows() + accuracy.test_rows(), distinct);
  // HAT's CSV has the rows predictors train on; the full export every measurement.
  ASSERT_OK_AND_ASSIGN(std::string csv, c_->ExportDataset("cpu", v1::EXPORT_FORMAT_HAT_CSV));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n') - 1, distinct);
  EXPECT_EQ(StoredMeasurements(), 60);
}

TEST_F(PredictorJobTest, BadRepeatsAreRefusedWithTheField) {
  v1::SubmitJobRequest r;
  auto* spec = r.mutable_spec()->mutable_latency_dataset();
  spec->set_space_name("tiny");
  spec->set_device_class("cpu");
  spec->set_num_configs(10);
  spec->set_repeats(-1);
  EXPECT_THAT(c_->SubmitJob(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("latency_dataset.repeats=-1")));
  spec->set_repeats(kMaxMeasurementRepeats + 1);
  EXPECT_THAT(c_->SubmitJob(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("latency_dataset.repeats=21")));
  spec->set_repeats(2);
  spec->set_strategy(v1::LatencyDatasetJobSpec::STRATEGY_UNCERTAINTY);
  EXPECT_THAT(c_->SubmitJob(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("strategy=UNCERTAINTY")));
  spec->set_strategy(v1::LatencyDatasetJobSpec::STRATEGY_RANDOM);
  spec->set_num_configs(60000);
  EXPECT_THAT(c_->SubmitJob(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("60000 configs x 2 repeats = 120000")));
}

TEST_F(PredictorJobTest, UncertaintySamplingChoosesItsOwnConfigs) {
  v1::SubmitJobRequest r;
  auto* spec = r.mutable_spec()->mutable_latency_dataset();
  spec->set_space_name("tiny");
  spec->set_device_class("cpu");
  spec->set_strategy(v1::LatencyDatasetJobSpec::STRATEGY_UNCERTAINTY);
  ToProto(SmallestConfig(*BuiltinSpace("tiny")), spec->add_configs());
  EXPECT_THAT(c_->SubmitJob(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("chooses its own configs")));
}

TEST(PredictorJobRecoveryTest, VersionsSurviveARestartAndALostFitRunsAgain) {
  hat::testing::TempDir dir;
  int64_t now = 1'700'000'000'000;
  CoordinatorOptions o;
  o.now_unix_ms = [&now] { return now; };
  std::string interrupted;
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStore(dir.File("db")));
    ASSERT_OK_AND_ASSIGN(auto c, Coordinator::Open(std::move(store), o));
    v1::StoredPredictor trained;
    v1::SubmitJobRequest r;
    r.mutable_spec()->mutable_predictor_training()->set_device_class("cpu");
    ASSERT_OK_AND_ASSIGN(v1::Job first, c->SubmitJob(r));
    ASSERT_OK_AND_ASSIGN(auto claimed, c->ClaimServerJob({v1::JobSpec::kPredictorTraining}, now));
    ASSERT_TRUE(claimed.has_value());
    // A stand-in result: storage and versioning do not look inside the model.
    trained.set_measurements(12);
    trained.mutable_predictor()->set_format_version(1);
    ASSERT_THAT(c->FinishServerJob(first.job_id(), AsOutput(trained)), IsOk());
    ASSERT_OK_AND_ASSIGN(v1::Job second, c->SubmitJob(r));
    interrupted = second.job_id();
    ASSERT_OK_AND_ASSIGN(auto running, c->ClaimServerJob({v1::JobSpec::kPredictorTraining}, now));
    ASSERT_TRUE(running.has_value());  // ... and the server stops before it finishes
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStore(dir.File("db")));
  ASSERT_OK_AND_ASSIGN(auto c, Coordinator::Open(std::move(store), o));
  ASSERT_OK_AND_ASSIGN(v1::StoredPredictor latest, c->GetPredictor("cpu", 0));
  EXPECT_EQ(latest.version(), 1);
  EXPECT_EQ(latest.measurements(), 12);
  ASSERT_OK_AND_ASSIGN(v1::Job requeued, c->GetJob(interrupted));
  EXPECT_EQ(requeued.state(), v1::JOB_STATE_QUEUED);
  ASSERT_OK_AND_ASSIGN(auto again, c->ClaimServerJob({v1::JobSpec::kPredictorTraining}, now));
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->job.job_id(), interrupted);
  ASSERT_THAT(c->FinishServerJob(interrupted, AsOutput(v1::StoredPredictor())), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::StoredPredictor next, c->GetPredictor("cpu", 0));
  EXPECT_EQ(next.version(), 2);  // numbering continues after the restart
}

}  // namespace
}  // namespace hat
