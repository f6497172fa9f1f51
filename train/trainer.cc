// The training loop; see trainer.h.
#include "train/trainer.h"

#include <malloc.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/config_io.h"
#include "common/design_space_io.h"
#include "common/file_util.h"
#include "common/prng.h"
#include "common/sampling.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "engine/runtime.h"
#include "engine/super_transformer.h"
#include "engine/torch_status.h"
#include "engine/transformer_forward.h"
#include "train/checkpoint.h"
#include "train/collate.h"
#include "train/data_parallel.h"
#include "train/data_parallel_update.h"
#include "train/label_smoothed_loss.h"
#include "train/validation.h"

namespace hat {
namespace {

// Seeds derived from (seed, step, purpose), so that nothing depends on what ran before.
uint64_t StepSeed(uint64_t seed, int64_t step, uint64_t purpose) {
  Prng prng(seed * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(step) * 0xbf58476d1ce4e5b9ULL +
            purpose);
  return prng.Next();
}

// Rank `rank`'s share of a batch: its sentences rank, rank + world_size, ... (batches are sorted
// by length, so the shards are alike).
std::vector<int> Shard(const std::vector<int>& batch, int rank, int world_size) {
  std::vector<int> shard;
  for (size_t i = static_cast<size_t>(rank); i < batch.size(); i += world_size) {
    shard.push_back(batch[i]);
  }
  return shard;
}

// Ranks train one model only when they agree on everything but their threads: the options, the
// corpus and its subword model. A rank started with other flags would silently train something
// else (its updates still add up); it is refused by name instead.
absl::Status CheckSameTraining(DataParallelGroup& group, const TrainOptions& options,
                               const PreparedCorpus& corpus) {
  nlohmann::json mine = nlohmann::json::parse(options.ToJson());
  mine.erase("threads");
  mine["valid_sentences"] = options.valid_sentences;
  mine["train_pairs"] = corpus.train.size();
  Sha256 subword;
  subword.Update(corpus.subword->serialized());
  mine["subword_model_sha256"] = subword.HexDigest();
  const std::string text = mine.dump();
  HAT_ASSIGN_OR_RETURN(const std::string rank0, group.ShareBytes("training-options", text, 0));
  if (rank0 == text) return absl::OkStatus();
  const nlohmann::json theirs = nlohmann::json::parse(rank0, nullptr, false);
  std::string differences;
  for (auto it = mine.begin(); it != mine.end(); ++it) {
    if (!theirs.is_object() || !theirs.contains(it.key()) || theirs[it.key()] != it.value()) {
      absl::StrAppend(
          &differences, differences.empty() ? "" : ", ", it.key(), " ", it.value().dump(),
          " (rank 0: ",
          theirs.is_object() && theirs.contains(it.key()) ? theirs[it.key()].dump() : "none", ")");
    }
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "rank ", group.rank(), " trains something else than rank 0: ", differences.substr(0, 600),
      "; start every rank with the same options and corpus"));
}

// The checkpoint this process resumes from ("" for a fresh run): out_dir's newest, or in a group
// rank 0's newest, whose bytes reach the other ranks through the rendezvous store (no shared file
// system needed; any number of ranks resumes any run). Other ranks get a copy in out_dir that
// the caller removes once opened.
absl::StatusOr<std::string> CheckpointToResume(const std::string& out_dir,
                                               DataParallelGroup* group) {
  const std::vector<std::string> existing = ListCheckpoints(out_dir);
  if (group == nullptr) return existing.empty() ? std::string() : existing.back();
  std::string bytes;
  if (group->rank() == 0 && !existing.empty()) {
    // Checkpoints of the largest spaces run to gigabytes with the optimizer's state.
    HAT_ASSIGN_OR_RETURN(bytes, ReadFileToString(existing.back(), size_t{8} << 30));
  }
  HAT_ASSIGN_OR_RETURN(const std::string shared, group->ShareBytes("resume", bytes, 0));
  if (group->rank() == 0) return existing.empty() ? std::string() : existing.back();
  if (shared.empty()) return std::string();
  const std::string copy = absl::StrCat(out_dir, "/.resume-rank-", group->rank(), ".pt");
  HAT_RETURN_IF_ERROR(WriteFileAtomically(copy, shared));
  return copy;
}

absl::Status CheckResumable(const CheckpointInfo& info, const TrainOptions& options,
                            const DesignSpace& space, const std::string& path) {
  const std::string kind = options.config ? "subnet" : "supernet";
  if (info.kind != kind) {
    return absl::FailedPreconditionError(absl::StrCat(options.out_dir, " holds a ", info.kind,
                                                      " run (", path, "), not a ", kind,
                                                      " run: use another --out"));
  }
  if (!(info.space == space)) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.out_dir, " holds a run of another design space (", path, "): use another --out"));
  }
  if (options.config &&
      (!info.config || CanonicalKey(*info.config) != CanonicalKey(ActiveOnly(*options.config)))) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.out_dir, " holds a run of another SubTransformer (", path, "): use another --out"));
  }
  if (info.averaged_from > 0) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is an average, not resumable"));
  }
  // Runs written before a SubTransformer's dropout was scaled against the design space's
  // SuperTransformer scaled it against the SubTransformer's own dims (info.space.super).
  const nlohmann::json previous = nlohmann::json::parse(info.options_json, nullptr, false);
  std::vector<int> was = {info.space.super.encoder_embed_dim, info.space.super.decoder_embed_dim};
  if (previous.is_object() && previous.contains("dropout_embed_reference")) {
    const nlohmann::json& recorded = previous["dropout_embed_reference"];
    if (!recorded.is_array() || recorded.size() != 2 || !recorded[0].is_number_integer() ||
        !recorded[1].is_number_integer()) {
      return absl::DataLossError(absl::StrCat(
          path, ": dropout_embed_reference is not two integers: ", recorded.dump().substr(0, 64)));
    }
    was = {recorded[0].get<int>(), recorded[1].get<int>()};
  }
  const std::vector<int> now = {options.space.super.encoder_embed_dim,
                                options.space.super.decoder_embed_dim};
  if (was != now) {
    return absl::FailedPreconditionError(
        absl::StrCat(options.out_dir, " holds a run whose dropout was scaled against embed dims ",
                     absl::StrJoin(was, "/"), ", not ", absl::StrJoin(now, "/"), " (", path,
                     "): resuming would change its dropout; use another --out"));
  }
  return absl::OkStatus();
}

// glibc hands every freed block above its mmap threshold back to the kernel and maps fresh,
// zeroed pages for the next one; a training update allocates and frees hundreds of tensors of
// 1-120 MB, so it spent ~10% of its time in page faults. Keeping freed memory in the heap for
// reuse (the process keeps its peak size) made Transformer-tiny updates 11% faster
// (docs/BENCHMARKS.md). Process-wide; training processes only.
void KeepFreedTensorMemory() {
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_TOP_PAD, 256 << 20);
}

}  // namespace

absl::Status TrainOptions::Validate() const {
  HAT_RETURN_IF_ERROR(space.Validate());
  if (config) HAT_RETURN_IF_ERROR(ValidateConfig(*config, space));
  auto bad = [](const std::string& what) { return absl::InvalidArgumentError(what); };
  if (steps < 1) return bad(absl::StrCat("steps=", steps, ": must be at least 1"));
  if (batching.max_tokens < 1) return bad("max_tokens must be at least 1");
  if (label_smoothing < 0 || label_smoothing >= 1) return bad("label_smoothing must be in [0, 1)");
  for (double p : {dropout, attention_dropout, activation_dropout}) {
    if (p < 0 || p >= 1) return bad("dropout rates must be in [0, 1)");
  }
  if (clip_norm < 0) return bad("clip_norm must be >= 0");
  if (threads < 1 || threads > 1024)
    return bad(absl::StrCat("threads=", threads, ": must be in [1, 1024]"));
  if (out_dir.empty()) return bad("an output directory is required");
  if (save_every < 1) return bad("save_every must be at least 1");
  if (keep_checkpoints < 1) return bad("keep_checkpoints must be at least 1");
  if (average_last > keep_checkpoints) {
    return bad(absl::StrCat("average_last=", average_last,
                            " exceeds keep_checkpoints=", keep_checkpoints));
  }
  HAT_RETURN_IF_ERROR(Annotate(distributed.Validate(), "distributed"));
  return schedule.Validate();
}

std::string TrainOptions::ToJson() const {
  nlohmann::json j = {
      {"space", space.name},
      {"steps", steps},
      {"max_tokens", batching.max_tokens},
      {"schedule", schedule.KindName()},
      {"lr", schedule.peak_lr},
      {"warmup", schedule.warmup_steps},
      {"adam_betas", {adam_beta1, adam_beta2}},
      {"weight_decay", weight_decay},
      {"label_smoothing", label_smoothing},
      {"dropout", dropout},
      {"dropout_embed_reference", {space.super.encoder_embed_dim, space.super.decoder_embed_dim}},
      {"attention_dropout", attention_dropout},
      {"activation_dropout", activation_dropout},
      {"clip_norm", clip_norm},
      {"threads", threads},
      {"world_size", distributed.world_size},
      {"seed", seed}};
  if (config) j["config"] = ConfigToJsonValue(*config);
  return j.dump();
}

StepDropout ScaledDropout(double dropout, const SubTransformerConfig& config,
                          const SuperTransformerDims& super) {
  return {dropout * config.encoder.embed_dim / super.encoder_embed_dim,
          dropout * config.decoder.embed_dim / super.decoder_embed_dim};
}

DesignSpace SpaceOfConfig(const SubTransformerConfig& config, const DesignSpace& base) {
  DesignSpace space;
  space.name = absl::StrCat(base.name, "/", CanonicalKey(config));
  space.super = base.super;
  const SubTransformerConfig active = ActiveOnly(config);
  space.super.encoder_embed_dim = active.encoder.embed_dim;
  space.super.decoder_embed_dim = active.decoder.embed_dim;
  space.super.encoder_layers = active.encoder.layer_num;
  space.super.decoder_layers = active.decoder.layer_num;
  space.super.encoder_ffn_embed_dim =
      *std::max_element(active.encoder.ffn_embed_dim.begin(), active.encoder.ffn_embed_dim.end());
  space.super.decoder_ffn_embed_dim =
      *std::max_element(active.decoder.ffn_embed_dim.begin(), active.decoder.ffn_embed_dim.end());
  for (const GeneInfo& info : AllGenes()) {
    std::vector<int> values;
    if (info.per_layer) {
      values = *active.List(info.gene);
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
    } else {
      values = {*active.Scalar(info.gene)};
    }
    space.MutableChoices(info.gene) = values;
  }
  space.super.encoder_attention_heads = *std::max_element(
      active.encoder.self_attention_heads.begin(), active.encoder.self_attention_heads.end());
  int decoder_heads = 1;
  for (const auto* list :
       {&active.decoder.self_attention_heads, &active.decoder.ende_attention_heads}) {
    decoder_heads = std::max(decoder_heads, *std::max_element(list->begin(), list->end()));
  }
  space.super.decoder_attention_heads = decoder_heads;
  return space;
}

absl::StatusOr<TrainResult> TrainTransformer(
    const TrainOptions& options, const PreparedCorpus& corpus,
    const std::function<void(const TrainProgress&)>& report, int64_t report_every,
    const std::atomic<bool>* stop) {
  HAT_RETURN_IF_ERROR(options.Validate());
  const DesignSpace space =
      options.config ? SpaceOfConfig(*options.config, options.space) : options.space;
  HAT_RETURN_IF_ERROR(Annotate(space.Validate(), "training space"));
  if (corpus.subword->vocab_size() > space.super.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the subword model has ", corpus.subword->vocab_size(), " pieces but design space '",
        options.space.name, "' has a vocabulary of ", space.super.vocab_size,
        ": prepare the corpus with --vocab-size <= ", space.super.vocab_size));
  }
  HAT_RETURN_IF_ERROR(ConfigureThreads(options.threads));
  KeepFreedTensorMemory();
  std::error_code ec;
  std::filesystem::create_directories(options.out_dir, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", options.out_dir, ": ", ec.message()));
  }

  BatchingOptions batching = options.batching;
  // Positions beyond the table cannot be embedded: such pairs are skipped, as fairseq does.
  const int max_len = space.super.max_positions;
  batching.max_length = batching.max_length > 0 ? std::min(batching.max_length, max_len) : max_len;
  HAT_ASSIGN_OR_RETURN(BatchPlan plan, MakeBatches(corpus.train, batching, options.seed));
  if (plan.batches.empty()) return absl::InvalidArgumentError("no training sentence fits");
  HAT_ASSIGN_OR_RETURN(ValidationSet valid, MakeValidationSet(corpus.valid, options.valid_sentences,
                                                              batching.max_tokens, max_len));
  // The trained SubTransformer with its inactive layers dropped: the space-of-one has only the
  // active ones.
  const SubTransformerConfig fixed =
      options.config ? ActiveOnly(*options.config) : SubTransformerConfig();
  const SubTransformerConfig valid_config = options.config ? fixed : LargestConfig(space);

  HAT_ASSIGN_OR_RETURN(std::shared_ptr<SuperTransformer> model,
                       SuperTransformer::Create(space, options.seed));
  CheckpointInfo info;
  info.kind = options.config ? "subnet" : "supernet";
  info.space = space;
  if (options.config) info.config = fixed;
  info.subword_model = corpus.subword->serialized();
  info.source_lang = corpus.layout.source_lang;
  info.target_lang = corpus.layout.target_lang;
  info.corpus_dir = corpus.layout.dir;
  info.options_json = options.ToJson();

  // Data parallel: every rank joins before the first update (rank 0 serves the rendezvous).
  std::unique_ptr<DataParallelGroup> group;
  if (options.distributed.enabled()) {
    HAT_ASSIGN_OR_RETURN(group, DataParallelGroup::Join(options.distributed));
    HAT_RETURN_IF_ERROR(CheckSameTraining(*group, options, corpus));
  }
  const bool writer = group == nullptr || group->rank() == 0;  // checkpoints, validation, reports

  return CallTorch("training", [&]() -> absl::StatusOr<TrainResult> {
    torch::optim::Adam optimizer(model->parameters(),
                                 torch::optim::AdamOptions(options.schedule.peak_lr)
                                     .betas({options.adam_beta1, options.adam_beta2})
                                     .eps(options.adam_eps)
                                     .weight_decay(options.weight_decay));
    TrainResult result;
    result.skipped_too_long = plan.skipped_too_long;
    // Training time before this process: unknown when resuming a checkpoint without a record.
    std::optional<double> earlier_seconds = 0.0;
    HAT_ASSIGN_OR_RETURN(const std::string resume,
                         CheckpointToResume(options.out_dir, group.get()));
    if (!resume.empty()) {
      absl::StatusOr<CheckpointReader> previous = CheckpointReader::Open(resume);
      if (group != nullptr && group->rank() != 0) std::filesystem::remove(resume, ec);  // a copy
      if (!previous.ok()) return previous.status();
      HAT_RETURN_IF_ERROR(CheckResumable(previous->info(), options, space, resume));
      HAT_RETURN_IF_ERROR(previous->Restore(*model, &optimizer));
      result.resumed_from = previous->info().step;
      earlier_seconds = previous->info().train_seconds;
    }
    const auto start = std::chrono::steady_clock::now();
    auto seconds = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    auto total_seconds = [&](double this_run) -> std::optional<double> {
      if (!earlier_seconds) return std::nullopt;
      return *earlier_seconds + this_run;
    };
    const int64_t num_batches = static_cast<int64_t>(plan.batches.size());
    auto save = [&](int64_t step) -> absl::Status {
      info.step = step;
      info.train_seconds = total_seconds(seconds());
      const std::string path = CheckpointPath(options.out_dir, step);
      HAT_RETURN_IF_ERROR(SaveCheckpoint(path, info, *model, &optimizer));
      result.last_checkpoint = path;
      return PruneCheckpoints(options.out_dir, options.keep_checkpoints);
    };

    int64_t tokens = 0;
    double window_loss = 0, window_nll = 0;
    int64_t window_tokens = 0;
    std::vector<int> epoch_order;
    int64_t epoch_of_order = -1;
    const auto params = model->parameters();
    int64_t step = result.resumed_from;
    while (step < options.steps) {
      if (stop != nullptr && stop->load()) {
        if (writer) HAT_RETURN_IF_ERROR(save(step));
        return absl::CancelledError(
            absl::StrCat("training stopped at step ", step, "; resume with the same command"));
      }
      const int64_t epoch = step / num_batches;
      if (epoch != epoch_of_order) {
        epoch_order = EpochOrder(static_cast<int>(num_batches), options.seed, epoch);
        epoch_of_order = epoch;
      }
      const std::vector<int>& batch_indices = plan.batches[epoch_order[step % num_batches]];
      const std::vector<int> indices =
          group == nullptr ? batch_indices
                           : Shard(batch_indices, group->rank(), group->world_size());
      ++step;  // 1-based from here: the update being made
      Prng sampler(StepSeed(options.seed, step, 1));
      const SubTransformerConfig config = options.config ? fixed : SampleConfig(space, sampler);
      at::manual_seed(StepSeed(options.seed, step, 2) +
                      (group == nullptr ? 0 : static_cast<uint64_t>(group->rank())));
      model->train();
      HAT_ASSIGN_OR_RETURN(const SubTransformerWeights w, model->Slice(config));
      ForwardOptions enc, dec;
      enc.training = dec.training = true;
      // Scaled against the design space's SuperTransformer (options.space), also for a
      // SubTransformer trained on a space of its own; not after encoder self-attention (HAT).
      const StepDropout dropout = ScaledDropout(options.dropout, config, options.space.super);
      enc.dropout = dropout.encoder;
      enc.encoder_attn_dropout = options.dropout;
      dec.dropout = dropout.decoder;
      enc.attention_dropout = dec.attention_dropout = options.attention_dropout;
      enc.activation_dropout = dec.activation_dropout = options.activation_dropout;
      // A parameter the sampled SubTransformer does not use gets no gradient and no update.
      for (const at::Tensor& p : params) {
        if (p.grad().defined()) p.mutable_grad() = at::Tensor();
      }
      BatchSums sums;
      if (!indices.empty()) {  // a rank's shard of a batch smaller than the group is empty
        const TrainingBatch batch = Collate(corpus.train, indices);
        const EncoderOutput encoded = Encode(w, batch.source, enc);
        const at::Tensor logits = DecodeAll(w, batch.prev_output, encoded, dec);
        const LossSums loss =
            LabelSmoothedLoss(logits, batch.target, options.label_smoothing, kPaddingIdx);
        sums.loss = loss.loss.item<double>();
        sums.nll = loss.nll.item<double>();
        sums.target_tokens = batch.target_tokens;
        sums.source_tokens = batch.source.ne(kPaddingIdx).sum().item<int64_t>();
        // Alone, the batch's mean; in a group, the shard's sum: AllReduceUpdate divides the
        // summed gradients by the whole batch's tokens.
        (group == nullptr ? loss.loss / static_cast<double>(batch.target_tokens) : loss.loss)
            .backward();
      }
      if (group != nullptr) {
        HAT_ASSIGN_OR_RETURN(
            sums, AllReduceUpdate(*group, params, TouchedRegions(params, w), sums, step));
      }
      if (options.clip_norm > 0) torch::nn::utils::clip_grad_norm_(params, options.clip_norm);
      const double lr = options.schedule.At(step);
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      }
      optimizer.step();
      const double loss = sums.loss;
      if (!std::isfinite(loss)) {
        return absl::InternalError(absl::StrCat("training diverged at step ", step, " (loss ", loss,
                                                "); lower --lr or set --clip-norm"));
      }
      window_loss += loss;
      window_nll += sums.nll;
      window_tokens += sums.target_tokens;
      tokens += sums.source_tokens + sums.target_tokens;
      ++result.steps_run;
      result.final_loss = loss / static_cast<double>(sums.target_tokens);

      const bool last = step == options.steps;
      if (writer && (step % options.save_every == 0 || last)) HAT_RETURN_IF_ERROR(save(step));
      const bool validate =
          writer && (last || (options.valid_every > 0 && step % options.valid_every == 0));
      double valid_loss = -1;
      if (validate) {
        model->eval();
        HAT_ASSIGN_OR_RETURN(ValidationResult v,
                             ValidationLoss(*model, valid_config, valid, options.label_smoothing));
        valid_loss = v.loss;
        result.valid_loss = v.loss;
        result.valid_nll = v.nll;
      }
      if (writer && report && (step % report_every == 0 || last || validate)) {
        TrainProgress p;
        p.step = step;
        p.total_steps = options.steps;
        p.loss = window_tokens > 0 ? window_loss / static_cast<double>(window_tokens) : 0;
        p.nll = window_tokens > 0 ? window_nll / static_cast<double>(window_tokens) : 0;
        p.lr = lr;
        p.elapsed_s = seconds();
        p.tokens_per_s = static_cast<double>(tokens) / std::max(p.elapsed_s, 1e-9);
        p.eta_s = p.elapsed_s / static_cast<double>(result.steps_run) *
                  static_cast<double>(options.steps - step);
        p.valid_loss = valid_loss;
        p.resumed_from = result.resumed_from;
        report(p);
        window_loss = window_nll = 0;
        window_tokens = 0;
      }
    }
    result.final_step = step;
    result.seconds = seconds();
    result.total_seconds = total_seconds(result.seconds);
    result.tokens_per_s = static_cast<double>(tokens) / std::max(result.seconds, 1e-9);
    if (result.last_checkpoint.empty() && writer) {
      const std::vector<std::string> all = ListCheckpoints(options.out_dir);
      if (!all.empty()) result.last_checkpoint = all.back();
    }
    if (options.average_last > 1 && writer) {
      std::vector<std::string> all = ListCheckpoints(options.out_dir);
      if (all.size() > static_cast<size_t>(options.average_last)) {
        all.erase(all.begin(), all.end() - options.average_last);
      }
      result.averaged_checkpoint = options.out_dir + "/checkpoint_avg.pt";
      HAT_RETURN_IF_ERROR(AverageCheckpoints(all, result.averaged_checkpoint).status());
    }
    return result;
  });
}

}  // namespace hat
