// SuperTransformer-training jobs; see supernet_job.h.
#include "server/supernet_job.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/builtin_spaces.h"
#include "common/child_processes.h"
#include "common/free_port.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "nmt/corpus_layout.h"
#include "nmt/prepared_corpus.h"
#include "server/corpus_root.h"
#include "train/trainer.h"

namespace hat {

absl::StatusOr<ServerJobOutput> SupernetTrainingJob::Run(JobContext& context) {
  const v1::SupernetTrainingJobSpec& spec = context.job().spec().supernet_training();
  const int64_t total = spec.steps();
  HAT_ASSIGN_OR_RETURN(std::string corpus_dir,
                       ResolveCorpusDir(options_.corpora_dir, spec.corpus()));
  HAT_ASSIGN_OR_RETURN(CorpusLayout layout, ReadCorpusLayout(corpus_dir));
  HAT_RETURN_IF_ERROR(context.ReportProgress(0, total, "preparing the corpus"));
  PrepareOptions prepare;
  prepare.threads = spec.threads();
  prepare.vocab_size = spec.vocab_size();
  prepare.cache_dir = options_.cache_dir;
  prepare.log = [&context, total](const std::string& line) {
    context.ReportProgress(0, total, "preparing the corpus: " + line).IgnoreError();
  };
  HAT_ASSIGN_OR_RETURN(PreparedCorpus corpus, PrepareCorpus(layout, prepare));

  TrainOptions o;
  HAT_ASSIGN_OR_RETURN(o.space, BuiltinSpace(spec.space_name()));
  o.steps = spec.steps();
  o.batching.max_tokens = spec.max_tokens();
  o.schedule.kind = LrSchedule::Kind::kInverseSqrt;
  o.schedule.peak_lr = spec.lr();
  o.schedule.warmup_steps = spec.warmup();
  o.schedule.warmup_init_lr = std::min(1e-7, spec.lr());
  o.schedule.min_lr = std::min(1e-7, spec.lr());
  o.schedule.total_steps = spec.steps();
  o.threads = spec.threads();
  o.seed = spec.seed();
  o.out_dir = context.work_dir() + "/train";
  o.save_every = spec.save_every();
  o.keep_checkpoints = 2;
  o.valid_sentences = spec.valid_sentences();
  // Data parallel on this machine: this job is rank 0, hatctl processes are the others, started
  // with the same options (TrainTransformer refuses a rank that differs) and their logs in the
  // job's directory.
  if (spec.workers() > 1) {
    const int port = FreeLoopbackPort();
    if (port == 0) return absl::UnavailableError("no free loopback port for the rendezvous");
    o.distributed.world_size = spec.workers();
    o.distributed.master = absl::StrCat("127.0.0.1:", port);
  }
  HAT_RETURN_IF_ERROR(o.Validate());
  ChildProcesses ranks;
  if (spec.workers() > 1) {
    std::vector<std::vector<std::string>> argvs;
    std::vector<std::string> logs;
    for (int rank = 1; rank < spec.workers(); ++rank) {
      std::vector<std::string> argv = {options_.hatctl,
                                       "supernet",
                                       "train",
                                       "--space",
                                       spec.space_name(),
                                       "--data",
                                       corpus_dir,
                                       "--vocab-size",
                                       std::to_string(spec.vocab_size()),
                                       "--cache",
                                       options_.cache_dir,
                                       "--out",
                                       absl::StrCat(context.work_dir(), "/rank-", rank),
                                       "--steps",
                                       std::to_string(spec.steps()),
                                       "--max-tokens",
                                       std::to_string(spec.max_tokens()),
                                       "--lr",
                                       absl::StrCat(spec.lr()),
                                       "--warmup",
                                       std::to_string(spec.warmup()),
                                       "--threads",
                                       std::to_string(spec.threads()),
                                       "--seed",
                                       std::to_string(spec.seed()),
                                       "--valid-sentences",
                                       std::to_string(spec.valid_sentences()),
                                       "--log-every",
                                       "1000000",
                                       "--json"};
      DistributedOptions place = o.distributed;
      place.rank = rank;
      for (std::string& flag : place.Flags()) argv.push_back(std::move(flag));
      argvs.push_back(std::move(argv));
      logs.push_back(absl::StrCat(context.work_dir(), "/rank-", rank, ".log"));
    }
    HAT_ASSIGN_OR_RETURN(ranks, ChildProcesses::Start(argvs, logs));
  }

  // Asked after every update, so a cancellation or shutdown stops the trainer (which writes a
  // checkpoint) within one update; progress is written at most once a second, and at the end.
  std::atomic<bool> stop{false};
  int64_t last_report_ms = 0;
  double loss_sum = 0;  // the shown loss is the mean since the last write
  int losses = 0;
  auto report = [&](const TrainProgress& p) {
    loss_sum += p.loss;
    ++losses;
    const int64_t now = context.coordinator().NowMs();
    if (now - last_report_ms >= 1000 || p.step == p.total_steps) {
      last_report_ms = now;
      context
          .ReportProgress(p.step, p.total_steps,
                          absl::StrFormat("training: loss %.3f, %.0f tokens/s", loss_sum / losses,
                                          p.tokens_per_s))
          .IgnoreError();
      loss_sum = 0;
      losses = 0;
    }
    if (!context.Wanted()) stop = true;
  };
  absl::StatusOr<TrainResult> result =
      TrainTransformer(o, corpus, report, /*report_every=*/1, &stop);
  // After the last update the other ranks only exit; after a failure they are ended.
  ranks.Stop(/*terminate=*/!result.ok(), /*grace_s=*/result.ok() ? 60 : 10);
  HAT_ASSIGN_OR_RETURN(TrainResult trained, std::move(result));

  ServerJobOutput output;
  output.result.set_final_step(trained.final_step);
  output.result.set_valid_loss(trained.valid_loss);
  output.result.set_resumed_from_step(trained.resumed_from);
  ArtifactFile file;
  file.path = trained.last_checkpoint;
  HAT_ASSIGN_OR_RETURN(FileDigest digest, DigestFile(file.path));
  file.header.set_kind(v1::ARTIFACT_KIND_SUPERNET_CHECKPOINT);
  file.header.set_size_bytes(digest.size);
  file.header.set_sha256(digest.sha256);
  file.header.set_space_name(spec.space_name());
  file.header.set_filename(absl::StrFormat("supernet-%s-%s-step%d.pt", spec.space_name(),
                                           context.job_id(), trained.final_step));
  file.header.set_description(
      absl::StrFormat("%s SuperTransformer, %d updates on %s, seed %d, %d rank%s, valid loss %.3f",
                      spec.space_name(), trained.final_step, spec.corpus(), spec.seed(),
                      spec.workers(), spec.workers() == 1 ? "" : "s", trained.valid_loss));
  output.artifacts.push_back(std::move(file));
  return output;
}

}  // namespace hat
