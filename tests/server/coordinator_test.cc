// The coordinator's logic with a fake clock and in-memory or RocksDB storage: leases, reports,
// expiry, lost agents, host groups, cancellation, recovery and storage failures.
#include "server/coordinator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/proto_conversions.h"
#include "measure/measure_proto.h"
#include "server/storage/record_codec.h"
#include "tests/server/coordinator_test_fixture.h"
#include "tests/support/gated_sync_store.h"
#include "tests/support/status_matchers.h"
#include "tests/support/temp_dir.h"

namespace hat {
namespace {

using ::hat::testing::IsOk;
using ::hat::testing::StatusIs;
using ::testing::HasSubstr;

TEST_F(CoordinatorTest, JobRunsToCompletionWithOneMeasurementPerConfig) {
  const std::string agent = Register("cpu");
  const std::string job = Submit(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto lease, Lease(agent));
    ASSERT_TRUE(lease.has_task());
    EXPECT_EQ(lease.task().attempt(), 1);
    ASSERT_OK_AND_ASSIGN(auto ack, Report(agent, lease));
    EXPECT_TRUE(ack.stored());
  }
  ASSERT_OK_AND_ASSIGN(v1::Job done, c_->GetJob(job));
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.progress().done(), 3);
  EXPECT_EQ(StoredMeasurements(), 3);
  ASSERT_OK_AND_ASSIGN(auto none, Lease(agent));
  EXPECT_FALSE(none.has_task());
}

TEST_F(CoordinatorTest, DuplicateAndLateReportsCreateNoSecondMeasurement) {
  const std::string a = Register("cpu"), b = Register("cpu");
  Submit(1);
  ASSERT_OK_AND_ASSIGN(auto first, Lease(a));
  // The lease expires; b gets the task and reports; a's late report changes nothing.
  now_ms_ += 11000;
  ASSERT_THAT(c_->Tick(), IsOk());
  v1::HeartbeatRequest hb;
  hb.set_agent_id(b);
  ASSERT_THAT(c_->Heartbeat(hb), IsOk());
  ASSERT_OK_AND_ASSIGN(auto second, Lease(b));
  ASSERT_EQ(second.task().task_id(), first.task().task_id());
  EXPECT_EQ(second.task().attempt(), 2);
  ASSERT_OK_AND_ASSIGN(auto ack_b, Report(b, second));
  EXPECT_TRUE(ack_b.stored());
  ASSERT_OK_AND_ASSIGN(auto ack_a, Report(a, first));
  EXPECT_FALSE(ack_a.stored());
  ASSERT_OK_AND_ASSIGN(auto again, Report(b, second));
  EXPECT_FALSE(again.stored());
  EXPECT_EQ(StoredMeasurements(), 1);
}

// Reports that arrive after their lease expired: the task went back to the queue, or on to
// another agent.
class LateReportTest : public CoordinatorTest {
 protected:
  // Lets every lease expire while `agents` stay alive (heartbeats without a lease id keep an
  // agent, not its lease); the leased tasks go back to their queue.
  void ExpireLeases(const std::vector<std::string>& agents) {
    now_ms_ += 11000;  // a lease lasts 10 s
    for (const std::string& agent : agents) {
      v1::HeartbeatRequest hb;
      hb.set_agent_id(agent);
      ASSERT_THAT(c_->Heartbeat(hb), IsOk());
    }
    ASSERT_THAT(c_->Tick(), IsOk());
  }
  // The distinct configs with a stored measurement: what a job's done count must equal.
  std::set<uint64_t> MeasuredConfigs() {
    std::set<uint64_t> configs;
    absl::StatusOr<std::vector<v1::MeasurementResult>> rows = c_->Measurements("cpu");
    EXPECT_TRUE(rows.ok()) << rows.status();
    if (rows.ok()) {
      for (const v1::MeasurementResult& r : *rows) configs.insert(r.config_id());
    }
    return configs;
  }
};

TEST_F(LateReportTest, LateReportOfARequeuedTaskIsStoredOnceAndTakesItOutOfTheQueue) {
  const std::string a = Register("cpu"), b = Register("cpu");
  const std::string job = Submit(2);
  ASSERT_OK_AND_ASSIGN(auto first, Lease(a));
  ASSERT_EQ(first.task().index(), 0);
  ExpireLeases({a, b});
  ASSERT_OK_AND_ASSIGN(auto late, Report(a, first));
  EXPECT_TRUE(late.stored()) << "the late measurement is real";
  ASSERT_OK_AND_ASSIGN(v1::Job after_late, c_->GetJob(job));
  EXPECT_EQ(after_late.progress().done(), 1);
  EXPECT_EQ(after_late.state(), v1::JOB_STATE_RUNNING);
  // Only the second config is left: the first must not be leased (and counted) again.
  ASSERT_OK_AND_ASSIGN(auto next, Lease(b));
  ASSERT_TRUE(next.has_task());
  EXPECT_EQ(next.task().index(), 1) << "the measured config was leased again";
  ASSERT_OK_AND_ASSIGN(auto ack, Report(b, next));
  EXPECT_TRUE(ack.stored());
  ASSERT_OK_AND_ASSIGN(auto none, Lease(a));
  EXPECT_FALSE(none.has_task()) << "the job ended with " << none.task().task_id() << " to do";
  ASSERT_OK_AND_ASSIGN(v1::Job done, c_->GetJob(job));
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.progress().done(), 2);
  EXPECT_EQ(MeasuredConfigs().size(), 2u);
  EXPECT_EQ(StoredMeasurements(), 2);
}

TEST_F(LateReportTest, LateReportEndsTheLeaseOfTheAgentThatGotTheTaskAgain) {
  const std::string a = Register("cpu"), b = Register("cpu");
  const std::string job = Submit(2);
  ASSERT_OK_AND_ASSIGN(auto first, Lease(a));
  ExpireLeases({a, b});
  ASSERT_OK_AND_ASSIGN(auto second, Lease(b));
  ASSERT_EQ(second.task().task_id(), first.task().task_id());
  ASSERT_OK_AND_ASSIGN(auto late, Report(a, first));
  EXPECT_TRUE(late.stored());
  // b's lease ended: its heartbeat tells it to stop, it is idle, its report is a duplicate.
  v1::HeartbeatRequest hb;
  hb.set_agent_id(b);
  hb.set_lease_id(second.lease_id());
  ASSERT_OK_AND_ASSIGN(auto beat, c_->Heartbeat(hb));
  EXPECT_TRUE(beat.cancel_lease());
  const v1::ListAgentsResponse agents = c_->ListAgents("");
  for (const v1::Agent& agent : agents.agents()) {
    EXPECT_EQ(agent.state(), v1::AGENT_STATE_IDLE) << agent.agent_id();
    EXPECT_EQ(agent.measurements_done(), agent.agent_id() == a ? 1 : 0) << agent.agent_id();
  }
  ASSERT_OK_AND_ASSIGN(auto duplicate, Report(b, second));
  EXPECT_FALSE(duplicate.stored());
  // One config of two is measured: the job goes on.
  ASSERT_OK_AND_ASSIGN(v1::Job running, c_->GetJob(job));
  EXPECT_EQ(running.progress().done(), 1);
  EXPECT_EQ(running.state(), v1::JOB_STATE_RUNNING);
  EXPECT_EQ(MeasuredConfigs().size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto next, Lease(b));
  ASSERT_TRUE(next.has_task());
  EXPECT_EQ(next.task().index(), 1);
  ASSERT_THAT(Report(b, next), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Job done, c_->GetJob(job));
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED);
  EXPECT_EQ(done.progress().done(), 2);
  EXPECT_EQ(MeasuredConfigs().size(), 2u);
}

TEST_F(LateReportTest, LateFailureLeavesTheTaskToItsNextLease) {
  const std::string a = Register("cpu"), b = Register("cpu");
  const std::string job = Submit(1);
  ASSERT_OK_AND_ASSIGN(auto first, Lease(a));
  ExpireLeases({a, b});
  ASSERT_OK_AND_ASSIGN(auto second, Lease(b));
  v1::ReportResultRequest failure;
  failure.set_agent_id(a);
  failure.set_lease_id(first.lease_id());
  failure.mutable_result()->set_task_id(first.task().task_id());
  failure.mutable_result()->set_error("out of memory");
  ASSERT_OK_AND_ASSIGN(auto ack, c_->ReportResult(failure));
  EXPECT_FALSE(ack.stored());
  ASSERT_OK_AND_ASSIGN(auto measured, Report(b, second));
  EXPECT_TRUE(measured.stored());
  ASSERT_OK_AND_ASSIGN(v1::Job done, c_->GetJob(job));
  EXPECT_EQ(done.state(), v1::JOB_STATE_SUCCEEDED) << done.error();
}

TEST_F(CoordinatorTest, ReportUnderALeaseTheTaskNeverHadIsRefused) {
  const std::string agent = Register("cpu");
  const std::string job = Submit(2);
  ASSERT_OK_AND_ASSIGN(auto lease, Lease(agent));
  const std::string task = lease.task().task_id();
  for (const std::string& bad : {task + "#2", task + "#0", task + "#01", task + "#x", task,
                                 job + "/000001#1", std::string()}) {
    v1::LeaseTaskResponse forged = lease;
    forged.set_lease_id(bad);
    EXPECT_THAT(Report(agent, forged),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr("lease_id '" + bad + "' is not a lease of task " + task +
                                   " (its leases are " + task + "#1 to #1)")));
  }
  lease.mutable_task()->set_task_id(job + "/000001");  // queued, never leased
  EXPECT_THAT(Report(agent, lease),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("(it was never leased)")));
  ASSERT_OK_AND_ASSIGN(v1::Job unchanged, c_->GetJob(job));
  EXPECT_EQ(unchanged.progress().done(), 0);
  EXPECT_EQ(StoredMeasurements(), 0);
}

TEST_F(CoordinatorTest, ExpiredLeasesRetryThenFail) {
  const std::string agent = Register("cpu");
  const std::string job = Submit(1);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    v1::HeartbeatRequest hb;
    hb.set_agent_id(agent);
    ASSERT_THAT(c_->Heartbeat(hb), IsOk());
    ASSERT_OK_AND_ASSIGN(auto lease, Lease(agent));
    ASSERT_TRUE(lease.has_task()) << "attempt " << attempt;
    EXPECT_EQ(lease.task().attempt(), attempt);
    now_ms_ += 4000;  // heartbeat keeps the agent alive but not the lease: no lease id sent
    ASSERT_THAT(c_->Heartbeat(hb), IsOk());
    now_ms_ += 7000;
    ASSERT_THAT(c_->Tick(), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(v1::Job failed, c_->GetJob(job));
  EXPECT_EQ(failed.state(), v1::JOB_STATE_FAILED);
  EXPECT_EQ(failed.progress().failed(), 1);
  EXPECT_THAT(failed.error(), HasSubstr("1 of 1 configs could not be measured"));
}

TEST_F(CoordinatorTest, HeartbeatsNamingTheLeaseExtendIt) {
  const std::string agent = Register("cpu");
  Submit(1);
  ASSERT_OK_AND_ASSIGN(auto lease, Lease(agent));
  v1::HeartbeatRequest hb;
  hb.set_agent_id(agent);
  hb.set_lease_id(lease.lease_id());
  for (int i = 0; i < 5; ++i) {  // 5 x 4 s = 20 s, twice the lease duration
    now_ms_ += 4000;
    ASSERT_OK_AND_ASSIGN(auto resp, c_->Heartbeat(hb));
    EXPECT_FALSE(resp.cancel_lease());
    ASSERT_THAT(c_->Tick(), IsOk());
  }
  ASSERT_OK_AND_ASSIGN(auto ack, Report(agent, lease));
  EXPECT_TRUE(ack.stored());
}

TEST_F(CoordinatorTest, SilentAgentIsLostAndItsLeaseRequeued) {
  const std::string quiet = Register("cpu"), alive = Register("cpu");
  Submit(1);
  ASSERT_OK_AND_ASSIGN(auto lease, Lease(quiet));
  now_ms_ += 6000;
  v1::HeartbeatRequest hb;
  hb.set_agent_id(alive);
  ASSERT_THAT(c_->Heartbeat(hb), IsOk());
  ASSERT_THAT(c_->Tick(), IsOk());
  v1::ListAgentsResponse agents = c_->ListAgents("");
  for (const v1::Agent& a : agents.agents()) {
    EXPECT_EQ(a.state(), a.agent_id() == quiet ? v1::AGENT_STATE_LOST : v1::AGENT_STATE_IDLE);
  }
  ASSERT_OK_AND_ASSIGN(auto again, Lease(alive));
  EXPECT_EQ(again.task().task_id(), lease.task().task_id());
}

TEST_F(CoordinatorTest, AgentsOfOneHostGroupNeverMeasureTogether) {
  const std::string cpu = Register("cpu", "box1");
  const std::string gpu = Register("gpu", "box1");
  Submit(1, "cpu");
  Submit(1, "gpu");
  ASSERT_OK_AND_ASSIGN(auto cpu_lease, Lease(cpu));
  ASSERT_TRUE(cpu_lease.has_task());
  ASSERT_OK_AND_ASSIGN(auto blocked, Lease(gpu));
  EXPECT_FALSE(blocked.has_task());
  ASSERT_THAT(Report(cpu, cpu_lease), IsOk());
  ASSERT_OK_AND_ASSIGN(auto gpu_lease, Lease(gpu));
  EXPECT_TRUE(gpu_lease.has_task());
}

TEST_F(CoordinatorTest, OneLeaseAtATimePerAgent) {
  const std::string agent = Register("cpu");
  Submit(2);
  ASSERT_THAT(Lease(agent), IsOk());
  EXPECT_THAT(Lease(agent),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("already holds lease")));
}

TEST_F(CoordinatorTest, CancelStopsQueuedAndLeasedWork) {
  const std::string agent = Register("cpu");
  const std::string job = Submit(3);
  ASSERT_OK_AND_ASSIGN(auto lease, Lease(agent));
  ASSERT_OK_AND_ASSIGN(v1::Job cancelled, c_->CancelJob(job));
  EXPECT_EQ(cancelled.state(), v1::JOB_STATE_CANCELLED);
  v1::HeartbeatRequest hb;
  hb.set_agent_id(agent);
  hb.set_lease_id(lease.lease_id());
  ASSERT_OK_AND_ASSIGN(auto resp, c_->Heartbeat(hb));
  EXPECT_TRUE(resp.cancel_lease());
  ASSERT_OK_AND_ASSIGN(auto ack, Report(agent, lease));
  EXPECT_FALSE(ack.stored());
  ASSERT_OK_AND_ASSIGN(auto none, Lease(agent));
  EXPECT_FALSE(none.has_task());
  EXPECT_EQ(StoredMeasurements(), 0);
}

TEST_F(CoordinatorTest, FailedWriteIsNotAcknowledgedAndChangesNothing) {
  const std::string agent = Register("cpu");
  const std::string job = Submit(1);
  ASSERT_OK_AND_ASSIGN(auto lease, Lease(agent));
  faulty_->FailWritesAfter(0);
  EXPECT_THAT(Report(agent, lease),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected storage failure")));
  ASSERT_OK_AND_ASSIGN(v1::Job still, c_->GetJob(job));
  EXPECT_EQ(still.progress().done(), 0);
  faulty_->Heal();
  ASSERT_OK_AND_ASSIGN(auto ack, Report(agent, lease));  // the agent's retry succeeds
  EXPECT_TRUE(ack.stored());
  EXPECT_EQ(StoredMeasurements(), 1);
}

// Group commit: a report is answered only once its sync is done, and the coordinator's lock is
// free while the disk works, so other calls go on.
TEST_F(CoordinatorTest, AReportIsAnsweredAfterItsSyncWhichHoldsNoLock) {
  auto gated = std::make_unique<hat::testing::GatedSyncStore>(NewMemoryStore());
  hat::testing::GatedSyncStore* store = gated.get();
  Open(std::move(gated));
  const std::string first = Register("cpu");
  const std::string second = Register("cpu");
  const std::string job = Submit(2);
  ASSERT_OK_AND_ASSIGN(auto lease, Lease(first));
  const int syncs_before = store->syncs();
  store->CloseGate();
  std::atomic<bool> answered{false};
  std::thread reporter([&] {
    EXPECT_THAT(Report(first, lease), IsOk());
    answered = true;
  });
  // The report is written; its sync is on the disk.
  if (!store->WaitForSyncs(syncs_before + 1)) {
    store->OpenGate();
    reporter.join();
    FAIL() << "the report was answered without a sync";
  }
  // Meanwhile the coordinator serves calls that need its lock (a hang here would mean the lock
  // is held across the sync; a watchdog turns that into a failure).
  auto meanwhile = std::async(std::launch::async, [&] {
    absl::StatusOr<v1::LeaseTaskResponse> other = Lease(second);
    absl::StatusOr<v1::Job> progress = c_->GetJob(job);
    return other.ok() && other->has_task() && progress.ok() && progress->progress().done() == 1;
  });
  const bool served = meanwhile.wait_for(std::chrono::seconds(60)) == std::future_status::ready;
  EXPECT_FALSE(answered) << "acknowledged before its sync ended";
  store->OpenGate();
  reporter.join();
  ASSERT_TRUE(served) << "the coordinator's lock was held across the sync";
  EXPECT_TRUE(meanwhile.get());
  EXPECT_TRUE(answered);
}

// After fsync fails, what it held may be gone: the report is not acknowledged, and no later
// write is either (a restart recovers from the disk).
TEST_F(CoordinatorTest, AFailedSyncIsNotAcknowledgedAndStopsEveryLaterWrite) {
  const std::string agent = Register("cpu");
  const std::string job = Submit(2);
  ASSERT_OK_AND_ASSIGN(auto lease, Lease(agent));
  faulty_->FailSyncs();
  EXPECT_THAT(Report(agent, lease),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("injected sync failure")));
  faulty_->Heal();
  // The retry finds the task done in memory, but that is not durable: still not acknowledged.
  EXPECT_THAT(Report(agent, lease),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("restart hat-server")));
  EXPECT_THAT(Lease(agent), StatusIs(absl::StatusCode::kUnavailable));
  v1::SubmitJobRequest submit;
  submit.mutable_spec()->mutable_latency_dataset()->set_space_name("tiny");
  submit.mutable_spec()->mutable_latency_dataset()->set_device_class("cpu");
  submit.mutable_spec()->mutable_latency_dataset()->set_num_configs(1);
  EXPECT_THAT(c_->SubmitJob(submit), StatusIs(absl::StatusCode::kUnavailable));
  v1::RegisterAgentRequest again;
  again.set_device_class("cpu");
  EXPECT_THAT(c_->RegisterAgent(again),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("could not make writes durable")));
}

TEST_F(CoordinatorTest, BadSubmissionsNameTheField) {
  v1::SubmitJobRequest r;
  auto* spec = r.mutable_spec()->mutable_latency_dataset();
  spec->set_space_name("tiny");
  spec->set_device_class("cpu/../x");
  spec->set_num_configs(1);
  EXPECT_THAT(c_->SubmitJob(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("latency_dataset.device_class")));
  spec->set_device_class("cpu");
  spec->set_num_configs(0);
  EXPECT_THAT(c_->SubmitJob(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("latency_dataset.num_configs=0")));
  spec->set_num_configs(1);
  spec->set_space_name("huge");
  EXPECT_THAT(c_->SubmitJob(r), StatusIs(absl::StatusCode::kInvalidArgument,
                                         HasSubstr("latency_dataset.space_name")));
  spec->set_space_name("tiny");
  spec->mutable_protocol()->set_beam(1000);
  EXPECT_THAT(c_->SubmitJob(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("protocol.beam=1000")));
  v1::SubmitJobRequest search;
  v1::SearchJobSpec* s = search.mutable_spec()->mutable_search();
  EXPECT_THAT(c_->SubmitJob(search), StatusIs(absl::StatusCode::kInvalidArgument,
                                              HasSubstr("search.supernet_artifact: name the")));
  s->set_supernet_artifact("art-000001");
  EXPECT_THAT(c_->SubmitJob(search),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("'art-000001' does not exist")));
}

TEST_F(CoordinatorTest, IdempotencyKeyReturnsTheSameJob) {
  v1::SubmitJobRequest r;
  auto* spec = r.mutable_spec()->mutable_latency_dataset();
  spec->set_space_name("tiny");
  spec->set_device_class("cpu");
  spec->set_num_configs(2);
  r.set_idempotency_key("nightly-1");
  ASSERT_OK_AND_ASSIGN(v1::Job a, c_->SubmitJob(r));
  ASSERT_OK_AND_ASSIGN(v1::Job b, c_->SubmitJob(r));
  EXPECT_EQ(a.job_id(), b.job_id());
  ASSERT_OK_AND_ASSIGN(auto list, c_->ListJobs(v1::ListJobsRequest()));
  EXPECT_EQ(list.jobs_size(), 1);
}

TEST_F(CoordinatorTest, ReportsAreValidated) {
  const std::string agent = Register("cpu");
  Submit(1);
  ASSERT_OK_AND_ASSIGN(auto lease, Lease(agent));
  v1::ReportResultRequest r;
  r.set_agent_id(agent);
  r.mutable_result()->set_task_id("job-999999/000000");
  r.mutable_result()->set_total_ms(1);
  EXPECT_THAT(c_->ReportResult(r),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("names no task")));
  r.mutable_result()->set_task_id(lease.task().task_id());
  r.set_lease_id(lease.lease_id());
  r.mutable_result()->set_config_id(12345);
  EXPECT_THAT(c_->ReportResult(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("does not match")));
  r.mutable_result()->set_config_id(0);
  r.mutable_result()->set_total_ms(-3);
  EXPECT_THAT(c_->ReportResult(r),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("total_ms=-3")));
}

TEST(CoordinatorRecoveryTest, ReopeningRestoresJobsQueuesLeasesAndMeasurements) {
  hat::testing::TempDir dir;
  int64_t now = 1'700'000'000'000;
  CoordinatorOptions o;
  o.now_unix_ms = [&now] { return now; };
  std::string agent, job;
  v1::LeaseTaskResponse held;
  {
    ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStore(dir.File("db")));
    ASSERT_OK_AND_ASSIGN(auto c, Coordinator::Open(std::move(store), o));
    v1::RegisterAgentRequest reg;
    reg.set_device_class("cpu");
    ASSERT_OK_AND_ASSIGN(auto r, c->RegisterAgent(reg));
    agent = r.agent_id();
    v1::SubmitJobRequest s;
    s.mutable_spec()->mutable_latency_dataset()->set_space_name("tiny");
    s.mutable_spec()->mutable_latency_dataset()->set_device_class("cpu");
    s.mutable_spec()->mutable_latency_dataset()->set_num_configs(3);
    ASSERT_OK_AND_ASSIGN(v1::Job j, c->SubmitJob(s));
    job = j.job_id();
    v1::LeaseTaskRequest lr;
    lr.set_agent_id(agent);
    ASSERT_OK_AND_ASSIGN(auto first, c->LeaseTask(lr, now, nullptr));
    v1::ReportResultRequest rep;
    rep.set_agent_id(agent);
    rep.set_lease_id(first.lease_id());
    rep.mutable_result()->set_task_id(first.task().task_id());
    rep.mutable_result()->set_total_ms(5);
    ASSERT_OK_AND_ASSIGN(auto ack, c->ReportResult(rep));
    ASSERT_TRUE(ack.stored());
    ASSERT_OK_AND_ASSIGN(held, c->LeaseTask(lr, now, nullptr));  // in flight at the "crash"
  }
  ASSERT_OK_AND_ASSIGN(auto store, OpenRocksDbStore(dir.File("db")));
  ASSERT_OK_AND_ASSIGN(auto c, Coordinator::Open(std::move(store), o));
  ASSERT_OK_AND_ASSIGN(v1::Job j, c->GetJob(job));
  EXPECT_EQ(j.progress().done(), 1);
  EXPECT_EQ(j.state(), v1::JOB_STATE_RUNNING);
  // The lease survived: the agent's report of it is accepted once.
  v1::ReportResultRequest rep;
  rep.set_agent_id(agent);
  rep.set_lease_id(held.lease_id());
  rep.mutable_result()->set_task_id(held.task().task_id());
  rep.mutable_result()->set_total_ms(6);
  ASSERT_OK_AND_ASSIGN(auto ack, c->ReportResult(rep));
  EXPECT_TRUE(ack.stored());
  // The queue still holds the third config.
  v1::LeaseTaskRequest lr;
  lr.set_agent_id(agent);
  ASSERT_OK_AND_ASSIGN(auto third, c->LeaseTask(lr, now, nullptr));
  ASSERT_TRUE(third.has_task());
  EXPECT_EQ(third.task().index(), 2);
  // Ids keep counting after the restart.
  v1::SubmitJobRequest s;
  s.mutable_spec()->mutable_latency_dataset()->set_space_name("tiny");
  s.mutable_spec()->mutable_latency_dataset()->set_device_class("cpu");
  s.mutable_spec()->mutable_latency_dataset()->set_num_configs(1);
  ASSERT_OK_AND_ASSIGN(v1::Job next, c->SubmitJob(s));
  EXPECT_NE(next.job_id(), job);
}

TEST(RecordCodecTest, NewerRecordVersionIsRefusedNamingBoth) {
  v1::Job job;
  std::string bytes = EncodeRecord(job);
  bytes[0] = 7;
  EXPECT_THAT(DecodeRecord(bytes, "job x", &job),
              StatusIs(absl::StatusCode::kDataLoss,
                       HasSubstr("record version 7 is not readable by this build (it reads "
                                 "version 1)")));
}

}  // namespace
}  // namespace hat
