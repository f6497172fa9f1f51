// CoordinatorTest: a Coordinator on a fault-injecting memory store with a fake clock, and
// helpers that play agents and users. Shared by the coordinator's test files.
#ifndef HATFLEET_TESTS_SERVER_COORDINATOR_TEST_FIXTURE_H_
#define HATFLEET_TESTS_SERVER_COORDINATOR_TEST_FIXTURE_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>

#include "server/coordinator.h"
#include "server/storage/kv_store.h"

namespace hat {

class CoordinatorTest : public ::testing::Test {
 protected:
  CoordinatorOptions Options() {
    CoordinatorOptions o;
    o.heartbeat_interval_ms = 1000;
    o.lost_after_ms = 5000;
    o.lease_duration_ms = 10000;
    o.max_attempts = 2;
    o.now_unix_ms = [this] { return now_ms_; };
    return o;
  }
  void Open(std::unique_ptr<KvStore> store) {
    auto c = Coordinator::Open(std::move(store), Options());
    ASSERT_TRUE(c.ok()) << c.status();
    c_ = *std::move(c);
  }
  void SetUp() override {
    auto faulty = std::make_unique<FaultInjectingStore>(NewMemoryStore());
    faulty_ = faulty.get();
    Open(std::move(faulty));
  }

  std::string Register(const std::string& device_class, const std::string& group = "") {
    v1::RegisterAgentRequest r;
    r.set_device_class(device_class);
    r.set_host_group(group);
    auto resp = c_->RegisterAgent(r);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? resp->agent_id() : "";
  }
  std::string Submit(int configs, const std::string& device_class = "cpu") {
    v1::SubmitJobRequest r;
    auto* spec = r.mutable_spec()->mutable_latency_dataset();
    spec->set_space_name("tiny");
    spec->set_device_class(device_class);
    spec->set_num_configs(configs);
    spec->set_seed(3);
    auto job = c_->SubmitJob(r);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? job->job_id() : "";
  }
  // An immediate long poll (deadline now).
  absl::StatusOr<v1::LeaseTaskResponse> Lease(const std::string& agent) {
    v1::LeaseTaskRequest r;
    r.set_agent_id(agent);
    return c_->LeaseTask(r, now_ms_, nullptr);
  }
  absl::StatusOr<v1::ReportResultResponse> Report(const std::string& agent,
                                                  const v1::LeaseTaskResponse& lease,
                                                  double total_ms = 12.5, double encoder_ms = 2.5,
                                                  double decoder_ms = 10) {
    v1::ReportResultRequest r;
    r.set_agent_id(agent);
    r.set_lease_id(lease.lease_id());
    v1::MeasurementResult* m = r.mutable_result();
    m->set_task_id(lease.task().task_id());
    m->set_config_id(lease.task().config().config_id());
    m->set_total_ms(total_ms);
    m->mutable_encoder()->set_median_ms(encoder_ms);
    m->mutable_decoder()->set_median_ms(decoder_ms);
    return c_->ReportResult(r);
  }
  // The full export has a line per measurement (HAT's CSV one per config).
  int StoredMeasurements() {
    auto full = c_->ExportDataset("cpu", v1::EXPORT_FORMAT_FULL);
    EXPECT_TRUE(full.ok()) << full.status();
    return full.ok() ? static_cast<int>(std::count(full->begin(), full->end(), '\n')) : -1;
  }

  int64_t now_ms_ = 1'700'000'000'000;
  FaultInjectingStore* faulty_ = nullptr;
  std::unique_ptr<Coordinator> c_;
};

}  // namespace hat

#endif  // HATFLEET_TESTS_SERVER_COORDINATOR_TEST_FIXTURE_H_
