// The stored-record codec and what the coordinator does with records when it opens a store: a
// store left by a real scenario (two agents, a job of four configs, leases, three measurements
// reported, one lease outstanding) is edited by the fuzz input (records replaced, bytes flipped,
// records added under any key, records deleted), then the coordinator opens it and answers the
// reads a restarted server answers first (jobs, agents, exports, predictors, artifacts, a tick).
// Input: a sequence of edits, each [op][table][index][length][bytes...].
// Properties: no crash, no hang; a store the coordinator refuses is refused with a message.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "server/coordinator.h"
#include "server/storage/kv_store.h"
#include "tests/fuzz/fuzz_support.h"

namespace hat {
namespace {

struct Record {
  Table table;
  std::string key, value;
};

constexpr int64_t kStartMs = 1'700'000'000'000;

CoordinatorOptions Options(const std::string& artifacts) {
  CoordinatorOptions options;
  options.now_unix_ms = [] { return kStartMs + 5000; };
  options.artifacts_dir = artifacts;
  return options;
}

std::vector<Record> Snapshot(KvStore& store) {
  std::vector<Record> records;
  for (Table table : kAllTables) {
    const absl::Status scanned =
        store.Scan(table, "", [&](const std::string& key, const std::string& value) {
          records.push_back({table, key, value});
          return true;
        });
    FUZZ_CHECK(scanned.ok(), "the memory store scans");
  }
  return records;
}

// The records a short real scenario leaves in the store.
std::vector<Record> ScenarioRecords(const std::string& artifacts) {
  auto store = NewMemoryStore();
  KvStore* raw = store.get();
  // The coordinator owns the store; a second owner-less view reads it after the scenario.
  {
    absl::StatusOr<std::unique_ptr<Coordinator>> c =
        Coordinator::Open(std::make_unique<KvStoreWrapper>(raw), Options(artifacts));
    FUZZ_CHECK(c.ok(), "the coordinator opens on an empty store");
    v1::RegisterAgentRequest reg;
    reg.set_device_class("cpu");
    absl::StatusOr<v1::RegisterAgentResponse> a = (*c)->RegisterAgent(reg);
    FUZZ_CHECK(a.ok() && (*c)->RegisterAgent(reg).ok(), "agents register");
    v1::SubmitJobRequest job;
    auto* spec = job.mutable_spec()->mutable_latency_dataset();
    spec->set_space_name("tiny");
    spec->set_device_class("cpu");
    spec->set_num_configs(4);
    FUZZ_CHECK((*c)->SubmitJob(job).ok(), "a job is submitted");
    for (int i = 0; i < 4; ++i) {
      v1::LeaseTaskRequest lease;
      lease.set_agent_id(a->agent_id());
      absl::StatusOr<v1::LeaseTaskResponse> leased = (*c)->LeaseTask(lease, kStartMs, nullptr);
      FUZZ_CHECK(leased.ok() && leased->has_task(), "a task is leased");
      if (i == 3) break;  // one lease left outstanding
      v1::ReportResultRequest report;
      report.set_agent_id(a->agent_id());
      report.set_lease_id(leased->lease_id());
      report.mutable_result()->set_task_id(leased->task().task_id());
      report.mutable_result()->set_total_ms(10 + i);
      FUZZ_CHECK((*c)->ReportResult(report).ok(), "a result is stored");
    }
    (*c)->Shutdown();
  }
  return Snapshot(*store);
}

// Reads one byte of the input; 0 past its end.
uint8_t Next(const uint8_t*& data, const uint8_t* end) { return data < end ? *data++ : 0; }

}  // namespace
}  // namespace hat

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace hat;
  static const std::string artifacts = [] {
    const auto dir = std::filesystem::temp_directory_path() /
                     ("hatfleet-fuzz-store-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir.string();
  }();
  static const std::vector<Record> scenario = ScenarioRecords(artifacts);

  std::vector<Record> records = scenario;
  const uint8_t* end = data + size;
  while (data < end) {
    const uint8_t op = Next(data, end), table = Next(data, end), index = Next(data, end);
    const size_t length = std::min<size_t>(Next(data, end), end - data);
    const std::string bytes(reinterpret_cast<const char*>(data), length);
    data += length;
    Record& target = records[index % records.size()];
    switch (op % 4) {
      case 0:
        target.value = bytes;
        break;  // replaced
      case 1:   // bytes flipped in place
        for (size_t i = 0; i < bytes.size() && !target.value.empty(); ++i) {
          target.value[i % target.value.size()] ^= bytes[i];
        }
        break;
      case 2: {  // added: key and value split at the middle
        const Table t = kAllTables[table % std::size(kAllTables)];
        records.push_back({t, bytes.substr(0, bytes.size() / 2), bytes.substr(bytes.size() / 2)});
        break;
      }
      case 3:
        if (records.size() > 1) records.erase(records.begin() + index % records.size());
        break;
    }
  }

  auto store = NewMemoryStore();
  WriteBatch batch;
  for (const Record& r : records) batch.Put(r.table, r.key, r.value);
  FUZZ_CHECK(store->Write(batch).ok(), "the memory store takes the edited records");
  absl::StatusOr<std::unique_ptr<Coordinator>> opened =
      Coordinator::Open(std::move(store), Options(artifacts));
  if (!opened.ok()) {
    FUZZ_CHECK(!opened.status().message().empty(), "a refused store is refused with a reason");
    return 0;
  }
  Coordinator& c = **opened;
  c.ListJobs(v1::ListJobsRequest()).IgnoreError();
  c.ListAgents(v1::ListAgentsRequest()).IgnoreError();
  c.ExportDataset("cpu", v1::EXPORT_FORMAT_FULL).IgnoreError();
  c.ExportDataset("cpu", v1::EXPORT_FORMAT_HAT_CSV).IgnoreError();
  c.ListPredictors("").IgnoreError();
  c.ListArtifacts({}).IgnoreError();
  c.Tick().IgnoreError();
  c.Shutdown();
  return 0;
}
