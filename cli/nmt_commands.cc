// `hatctl data prepare`, `supernet train`, `subnet train|eval`, `translate`, `bleu`.
#include "cli/nmt_commands.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/cli_output.h"
#include "cli/interrupt.h"
#include "common/child_processes.h"
#include "common/config_io.h"
#include "common/design_space_io.h"
#include "common/file_util.h"
#include "common/free_port.h"
#include "common/status_macros.h"
#include "engine/runtime.h"
#include "engine/sub_transformer.h"
#include "nmt/bleu.h"
#include "nmt/corpus_layout.h"
#include "nmt/prepared_corpus.h"
#include "nmt/text_file.h"
#include "train/trained_model.h"
#include "train/trainer.h"
#include "train/translator.h"
#include "train/validation.h"

namespace hat::cli {
namespace {

struct DataFlags {
  std::string data;
  std::string source_lang, target_lang;
  int vocab_size = 10000;
  std::string cache;
};

void AddDataFlags(CLI::App* cmd, DataFlags* d) {
  cmd->add_option("--data", d->data,
                  "Parallel corpus directory: <split>.<lang>[.gz] files and an optional "
                  "corpus.json (see docs/TRAINING.md)")
      ->required();
  cmd->add_option("--source-lang", d->source_lang,
                  "Source language (default: corpus.json's first)");
  cmd->add_option("--target-lang", d->target_lang,
                  "Target language (default: corpus.json's second)");
  cmd->add_option("--vocab-size", d->vocab_size, "Joint BPE vocabulary size")
      ->capture_default_str();
  cmd->add_option("--cache", d->cache,
                  "Prepared-corpus cache (default: $HATFLEET_CACHE or ~/.cache/hatfleet)");
}

absl::StatusOr<PreparedCorpus> Prepare(const DataFlags& d, int threads) {
  std::error_code ec;
  const std::string dir = std::filesystem::absolute(d.data, ec).lexically_normal().string();
  HAT_ASSIGN_OR_RETURN(CorpusLayout layout, ReadCorpusLayout(dir, d.source_lang, d.target_lang));
  PrepareOptions options;
  options.vocab_size = d.vocab_size;
  options.threads = threads;
  options.cache_dir = d.cache;
  options.log = [](const std::string& line) { std::cerr << line << "\n"; };
  return PrepareCorpus(layout, options);
}

// ---- data prepare ----

struct PrepareFlags {
  DataFlags data;
  bool json = false;
};

absl::Status RunPrepare(const PrepareFlags& f) {
  HAT_ASSIGN_OR_RETURN(PreparedCorpus corpus, Prepare(f.data, 2));
  auto tokens = [](const EncodedSplit& s) {
    int64_t n = 0;
    for (size_t i = 0; i < s.size(); ++i) n += s.source[i].size() + s.target[i].size();
    return n;
  };
  const nlohmann::json j = {{"cache", corpus.cache_path},
                            {"from_cache", corpus.from_cache},
                            {"source_lang", corpus.layout.source_lang},
                            {"target_lang", corpus.layout.target_lang},
                            {"subword_pieces", corpus.subword->vocab_size()},
                            {"train_pairs", corpus.train.size()},
                            {"valid_pairs", corpus.valid.size()},
                            {"test_pairs", corpus.test.size()},
                            {"train_tokens", tokens(corpus.train)}};
  if (f.json) {
    PrintJson(j);
  } else {
    std::cout << absl::StrFormat(
        "%s-%s: %d train / %d valid / %d test pairs, %d subword pieces, %d train tokens\n"
        "cache: %s\n",
        corpus.layout.source_lang, corpus.layout.target_lang, corpus.train.size(),
        corpus.valid.size(), corpus.test.size(), corpus.subword->vocab_size(), tokens(corpus.train),
        corpus.cache_path);
  }
  return absl::OkStatus();
}

// ---- supernet train / subnet train ----

struct TrainFlags {
  DataFlags data;
  std::string space = "tiny";
  std::string config_file;  // subnet train
  std::string out;
  int64_t steps = 1000;
  int max_tokens = 4096;
  std::string schedule = "inverse_sqrt";
  double lr = 5e-4;
  int64_t warmup = 4000;
  double min_lr = 1e-7;
  double dropout = 0.3, attention_dropout = 0, activation_dropout = 0;
  double label_smoothing = 0.1;
  double clip_norm = 0;
  double weight_decay = 0;
  int threads = 2;
  uint64_t seed = 1;
  int64_t save_every = 1000;
  int keep = 10;
  int average_last = 0;
  int64_t valid_every = 0;
  int valid_sentences = 0;
  int64_t log_every = 100;
  bool json = false;
  // Data parallel; unset (-1, ""): torchrun's WORLD_SIZE, RANK, MASTER_ADDR and MASTER_PORT.
  int world_size = -1;
  int rank = -1;
  std::string master;
  double dist_timeout = 300;
  int local_ranks = 0;  // > 1: start that many ranks here, this process rank 0
};

void AddTrainFlags(CLI::App* cmd, TrainFlags* f) {
  AddDataFlags(cmd, &f->data);
  cmd->add_option("--out", f->out, "Run directory: checkpoints go here; an existing run resumes")
      ->required();
  cmd->add_option("--steps", f->steps, "Total updates")->capture_default_str();
  cmd->add_option("--max-tokens", f->max_tokens, "Tokens per batch (sentences x longest)")
      ->capture_default_str();
  cmd->add_option("--schedule", f->schedule, "inverse_sqrt or cosine")->capture_default_str();
  cmd->add_option("--lr", f->lr, "Peak learning rate")->capture_default_str();
  cmd->add_option("--warmup", f->warmup, "Warm-up updates")->capture_default_str();
  cmd->add_option("--min-lr", f->min_lr, "cosine: final learning rate")->capture_default_str();
  cmd->add_option("--dropout", f->dropout, "Dropout (scaled by sampled/super embed dim)")
      ->capture_default_str();
  cmd->add_option("--attention-dropout", f->attention_dropout)->capture_default_str();
  cmd->add_option("--activation-dropout", f->activation_dropout)->capture_default_str();
  cmd->add_option("--label-smoothing", f->label_smoothing)->capture_default_str();
  cmd->add_option("--clip-norm", f->clip_norm, "Gradient clipping norm (0: off)")
      ->capture_default_str();
  cmd->add_option("--weight-decay", f->weight_decay)->capture_default_str();
  cmd->add_option("--threads", f->threads, "Intra-op threads")->capture_default_str();
  cmd->add_option("--seed", f->seed)->capture_default_str();
  cmd->add_option("--save-every", f->save_every, "Checkpoint every N updates")
      ->capture_default_str();
  cmd->add_option("--keep", f->keep, "Checkpoints kept")->capture_default_str();
  cmd->add_option("--average-last", f->average_last,
                  "At the end, average the last N checkpoints into checkpoint_avg.pt");
  cmd->add_option("--valid-every", f->valid_every,
                  "Validation loss every N updates (0: at the end)");
  cmd->add_option("--valid-sentences", f->valid_sentences,
                  "Validation subset: the first N pairs (0: all)");
  cmd->add_option("--log-every", f->log_every, "Progress every N updates")->capture_default_str();
  cmd->add_flag("--json", f->json, "Print the result as JSON");
  cmd->add_option("--world-size", f->world_size,
                  "Data-parallel ranks (default: WORLD_SIZE, else 1); start one process per rank");
  cmd->add_option("--rank", f->rank, "This process's rank, 0 to world size - 1 (default: RANK)");
  cmd->add_option("--master", f->master,
                  "HOST:PORT where rank 0 serves the rendezvous (default: MASTER_ADDR:MASTER_PORT, "
                  "else 127.0.0.1:29500)");
  cmd->add_option("--dist-timeout", f->dist_timeout,
                  "Seconds to wait for the other ranks (rendezvous, each all-reduce)")
      ->capture_default_str();
  cmd->add_option("--local-ranks", f->local_ranks,
                  "Data-parallel ranks on this machine, started by this command (it is rank 0; "
                  "the others log to OUT/rank-R.log): torchrun --nproc-per-node's job")
      ->check(CLI::Range(0, 64));
}

// The other ranks of --local-ranks N: this command line again (the binary from /proc/self/exe),
// without --local-ranks, with each rank's place in the group; logs in `out`.
absl::StatusOr<ChildProcesses> StartLocalRanks(const DistributedOptions& group,
                                               const std::string& out) {
  HAT_ASSIGN_OR_RETURN(const std::string cmdline, ReadFileToString("/proc/self/cmdline"));
  std::vector<std::string> args = absl::StrSplit(cmdline, '\0', absl::SkipEmpty());
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec || args.empty()) {
    return absl::UnavailableError("cannot read this process's command line to start its ranks");
  }
  std::vector<std::string> base = {self};
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--local-ranks") {
      ++i;  // and its value
    } else if (!absl::StartsWith(args[i], "--local-ranks=")) {
      base.push_back(args[i]);
    }
  }
  std::vector<std::vector<std::string>> argvs;
  std::vector<std::string> logs;
  for (int rank = 1; rank < group.world_size; ++rank) {
    DistributedOptions place = group;
    place.rank = rank;
    std::vector<std::string> argv = base;
    for (std::string& flag : place.Flags()) argv.push_back(std::move(flag));
    argvs.push_back(std::move(argv));
    logs.push_back(absl::StrCat(out, "/rank-", rank, ".log"));
  }
  return ChildProcesses::Start(argvs, logs);
}

// Flags over torchrun's environment variables over the defaults.
absl::StatusOr<DistributedOptions> DistributedFromFlags(const TrainFlags& f) {
  HAT_ASSIGN_OR_RETURN(DistributedOptions d,
                       DistributedOptions::FromEnvironment(DistributedOptions()));
  if (f.world_size != -1) d.world_size = f.world_size;
  if (f.rank != -1) d.rank = f.rank;
  if (!f.master.empty()) d.master = f.master;
  d.timeout_s = f.dist_timeout;
  return d;
}

absl::Status RunTrain(const TrainFlags& f, bool subnet) {
  TrainOptions o;
  if (subnet) {
    HAT_ASSIGN_OR_RETURN(auto space_and_config, LoadConfigAndSpace(f.config_file, f.space));
    o.space = space_and_config.first;
    o.config = space_and_config.second;
  } else {
    HAT_ASSIGN_OR_RETURN(o.space, ResolveDesignSpace(f.space));
  }
  o.steps = f.steps;
  o.batching.max_tokens = f.max_tokens;
  HAT_ASSIGN_OR_RETURN(o.schedule.kind, LrSchedule::ParseKind(f.schedule));
  o.schedule.peak_lr = f.lr;
  o.schedule.warmup_steps = f.warmup;
  o.schedule.min_lr = std::min(f.min_lr, f.lr);
  o.schedule.warmup_init_lr = std::min(1e-7, f.lr);
  o.schedule.total_steps = f.steps;
  o.dropout = f.dropout;
  o.attention_dropout = f.attention_dropout;
  o.activation_dropout = f.activation_dropout;
  o.label_smoothing = f.label_smoothing;
  o.clip_norm = f.clip_norm;
  o.weight_decay = f.weight_decay;
  o.threads = f.threads;
  o.seed = f.seed;
  o.out_dir = f.out;
  o.save_every = f.save_every;
  o.keep_checkpoints = f.keep;
  o.average_last = f.average_last;
  o.valid_every = f.valid_every;
  o.valid_sentences = f.valid_sentences;
  HAT_ASSIGN_OR_RETURN(o.distributed, DistributedFromFlags(f));
  if (f.local_ranks > 1) {
    if (f.world_size != -1 || f.rank != -1 || !f.master.empty()) {
      return absl::InvalidArgumentError(
          "--local-ranks starts every rank itself: leave out --world-size, --rank and --master");
    }
    const int port = FreeLoopbackPort();
    if (port == 0) return absl::UnavailableError("no free loopback port for the rendezvous");
    o.distributed.world_size = f.local_ranks;
    o.distributed.rank = 0;
    o.distributed.master = absl::StrCat("127.0.0.1:", port);
  }
  HAT_RETURN_IF_ERROR(o.Validate());
  HAT_ASSIGN_OR_RETURN(PreparedCorpus corpus, Prepare(f.data, f.threads));
  // After the corpus is prepared, so that the other ranks read it from the cache.
  ChildProcesses ranks;
  if (f.local_ranks > 1) {
    std::filesystem::create_directories(f.out);
    HAT_ASSIGN_OR_RETURN(ranks, StartLocalRanks(o.distributed, f.out));
  }
  // Ctrl-C during training: finish the step, write a checkpoint, exit (resume continues there).
  std::optional<InterruptScope> interrupt;
  interrupt.emplace();
  auto report = [](const TrainProgress& p) {
    std::string detail = absl::StrFormat("loss %.3f nll %.3f lr %.2e %.0f tok/s", p.loss, p.nll,
                                         p.lr, p.tokens_per_s);
    if (p.valid_loss >= 0) absl::StrAppendFormat(&detail, " valid %.3f", p.valid_loss);
    const double rate = p.elapsed_s > 0 ? (p.step - p.resumed_from) / p.elapsed_s : 0;
    PrintProgress("train", static_cast<int>(p.step), static_cast<int>(p.total_steps), rate, p.eta_s,
                  detail);
  };
  absl::StatusOr<TrainResult> r =
      TrainTransformer(o, corpus, report, f.log_every, InterruptScope::flag());
  // After the last update the other ranks only exit; after a failure they are ended.
  ranks.Stop(/*terminate=*/!r.ok(), /*grace_s=*/r.ok() ? 60 : 10);
  interrupt.reset();
  if (!r.ok()) return r.status();
  nlohmann::json j = {{"kind", subnet ? "subnet" : "supernet"},
                      {"space", o.space.name},
                      {"final_step", r->final_step},
                      {"steps_run", r->steps_run},
                      {"resumed_from", r->resumed_from},
                      {"seconds", r->seconds},
                      {"tokens_per_s", r->tokens_per_s},
                      {"final_train_loss", r->final_loss},
                      {"valid_loss", r->valid_loss},
                      {"valid_nll", r->valid_nll},
                      {"skipped_too_long", r->skipped_too_long},
                      {"checkpoint", r->last_checkpoint},
                      {"averaged_checkpoint", r->averaged_checkpoint},
                      {"world_size", o.distributed.world_size},
                      {"rank", o.distributed.rank}};
  if (o.distributed.rank != 0) {  // rank 0 validates and writes the checkpoints
    j["valid_loss"] = j["valid_nll"] = j["checkpoint"] = nlohmann::json();
  }
  // Null when the run resumed a checkpoint that did not record its training time.
  j["total_seconds"] = r->total_seconds ? nlohmann::json(*r->total_seconds) : nlohmann::json();
  if (f.json) {
    PrintJson(j);
  } else {
    std::cout << absl::StrFormat(
        "trained to step %d (%d steps in %.0f s, %.0f tokens/s); valid loss %.4f (nll %.4f)\n"
        "training time in all: %s\ncheckpoint: %s\n",
        r->final_step, r->steps_run, r->seconds, r->tokens_per_s, r->valid_loss, r->valid_nll,
        r->total_seconds ? absl::StrFormat("%.0f s", *r->total_seconds) : "not recorded",
        r->averaged_checkpoint.empty() ? r->last_checkpoint : r->averaged_checkpoint);
  }
  return absl::OkStatus();
}

// ---- subnet eval / translate ----

struct DecodeFlags {
  int beam = 5;
  double lenpen = 1.0;
  int batch = 64;
  int threads = 2;
  std::string device = "cpu";
};

void AddDecodeFlags(CLI::App* cmd, DecodeFlags* d) {
  cmd->add_option("--beam", d->beam, "Beam size")->capture_default_str();
  cmd->add_option("--lenpen", d->lenpen, "Length penalty (score / length^lenpen)")
      ->capture_default_str();
  cmd->add_option("--batch", d->batch, "Sentences per batch")->capture_default_str();
  cmd->add_option("--threads", d->threads, "Intra-op threads")->capture_default_str();
  cmd->add_option("--device", d->device, "Translate on cpu or cuda (needs a CUDA LibTorch build)")
      ->capture_default_str();
}

// `config` of `model` as a standalone SubTransformer on `device`, ready to translate.
absl::StatusOr<SubTransformer> ExtractForDecoding(const TrainedModel& model,
                                                  const SubTransformerConfig& config,
                                                  const std::string& device) {
  HAT_ASSIGN_OR_RETURN(SubTransformer sub, SubTransformer::Extract(*model.super, config));
  HAT_RETURN_IF_ERROR(sub.MoveTo(device));
  return sub;
}

TranslateOptions ToTranslateOptions(const DecodeFlags& d) {
  TranslateOptions t;
  t.beam = d.beam;
  t.length_penalty = d.lenpen;
  t.batch_sentences = d.batch;
  return t;
}

// A trained model and the SubTransformer to run on it: `config_file`'s, or the one a subnet run
// trained. Fixes the thread count first.
struct ModelAndConfig {
  TrainedModel model;
  SubTransformerConfig config;
};

absl::StatusOr<ModelAndConfig> LoadModelAndConfig(const std::string& checkpoint,
                                                  const std::string& config_file, int threads) {
  HAT_RETURN_IF_ERROR(ConfigureThreads(threads));
  ModelAndConfig out;
  HAT_ASSIGN_OR_RETURN(out.model, LoadTrainedModel(checkpoint));
  std::optional<SubTransformerConfig> given;
  if (!config_file.empty()) {
    HAT_ASSIGN_OR_RETURN(ParsedConfig parsed, LoadSubTransformerConfigFile(config_file));
    given = parsed.config;
  }
  HAT_ASSIGN_OR_RETURN(out.config, ChooseConfig(out.model, given));
  return out;
}

// A corpus BLEU's breakdown as JSON, the fields `hatctl bleu --json` prints: what a user needs to
// see why a score is what it is (e.g. a brevity penalty below 1: translations too short).
nlohmann::json BleuBreakdownJson(const BleuScore& b) {
  return {{"bleu", b.bleu},
          {"precisions", b.precisions},
          {"matches", b.matches},
          {"totals", b.totals},
          {"brevity_penalty", b.brevity_penalty},
          {"hyp_len", b.hypothesis_length},
          {"ref_len", b.reference_length},
          {"sentences", b.sentences}};
}

// sacreBLEU's one-line form: "BLEU = 39.70 71.3/47.2/33.8/24.5 (BP = 0.972 ...)".
std::string SacreBleuLine(const BleuScore& b) {
  return absl::StrFormat(
      "BLEU = %.2f %.1f/%.1f/%.1f/%.1f (BP = %.3f ratio = %.3f hyp_len = %d ref_len = %d)", b.bleu,
      b.precisions[0], b.precisions[1], b.precisions[2], b.precisions[3], b.brevity_penalty,
      b.reference_length > 0 ? static_cast<double>(b.hypothesis_length) / b.reference_length : 0,
      b.hypothesis_length, b.reference_length);
}

// The directory `path` is to be written into exists: checked before minutes of translation.
absl::Status CheckParentDirectoryExists(const std::string& path, absl::string_view flag) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " ", path, ": directory ", parent.string(), " does not exist"));
  }
  return absl::OkStatus();
}

struct EvalFlags {
  std::string supernet;
  std::string config_file;
  std::string data;  // default: the corpus the model was trained on
  std::string source_lang, target_lang;
  int valid_sentences = 0;
  int max_tokens = 4096;
  bool bleu = false;
  std::string bleu_split = "test";  // the split translated and scored; valid is for tuning
  std::string tokenize = "13a";
  bool lowercase = false;
  std::string translations;  // where the scored translations go ("": not kept)
  DecodeFlags decode;
  bool json = false;
};

absl::Status RunEval(const EvalFlags& f) {
  if (!f.translations.empty() && !f.bleu) {
    return absl::InvalidArgumentError(
        "--translations needs --bleu (it keeps the scored translations)");
  }
  if (f.bleu_split != "test" && f.bleu_split != "valid") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--bleu-split ", f.bleu_split,
        ": must be test or valid (choose decoding settings such as --lenpen on valid, report "
        "test)"));
  }
  if (f.bleu) HAT_RETURN_IF_ERROR(CheckDevice(f.decode.device));
  if (!f.translations.empty()) {
    HAT_RETURN_IF_ERROR(CheckParentDirectoryExists(f.translations, "--translations"));
  }
  HAT_ASSIGN_OR_RETURN(ModelAndConfig loaded,
                       LoadModelAndConfig(f.supernet, f.config_file, f.decode.threads));
  const TrainedModel& model = loaded.model;
  const SubTransformerConfig& config = loaded.config;
  // The corpus and direction the model was trained on, unless given; encoded with the model's
  // own subword model.
  const std::string dir = f.data.empty() ? model.info.corpus_dir : f.data;
  if (dir.empty()) return absl::InvalidArgumentError("give the corpus with --data");
  const bool langs_given = !f.source_lang.empty();
  HAT_ASSIGN_OR_RETURN(CorpusLayout layout,
                       ReadCorpusLayout(dir, langs_given ? f.source_lang : model.info.source_lang,
                                        langs_given ? f.target_lang : model.info.target_lang));
  HAT_ASSIGN_OR_RETURN(EncodedSplit valid, EncodeSplit(layout, "valid", *model.subword));
  HAT_ASSIGN_OR_RETURN(ValidationSet set, MakeValidationSet(valid, f.valid_sentences, f.max_tokens,
                                                            model.info.space.super.max_positions));
  HAT_ASSIGN_OR_RETURN(ValidationResult v, ValidationLoss(*model.super, config, set, 0.1));
  nlohmann::json j = {{"checkpoint", model.checkpoint}, {"config", ConfigToJsonValue(config)},
                      {"valid_loss", v.loss},           {"valid_nll", v.nll},
                      {"valid_sentences", v.sentences}, {"valid_tokens", v.target_tokens},
                      {"valid_seconds", v.seconds}};
  std::optional<BleuScore> bleu;
  if (f.bleu) {
    HAT_ASSIGN_OR_RETURN(BleuTokenize tokenize, ParseBleuTokenize(f.tokenize));
    const std::string& split = f.bleu_split;
    HAT_ASSIGN_OR_RETURN(std::string src_file, layout.File(split, layout.source_lang));
    HAT_ASSIGN_OR_RETURN(std::string ref_file, layout.File(split, layout.target_lang));
    HAT_ASSIGN_OR_RETURN(std::vector<std::string> sources, ReadLines(src_file));
    HAT_ASSIGN_OR_RETURN(std::vector<std::string> refs, ReadLines(ref_file));
    HAT_ASSIGN_OR_RETURN(SubTransformer sub, ExtractForDecoding(model, config, f.decode.device));
    const auto start = std::chrono::steady_clock::now();
    auto progress = [&](int done, int total) {
      const double s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      PrintProgress("translate", done, total, done / std::max(s, 1e-9),
                    s / std::max(done, 1) * (total - done), "");
    };
    HAT_ASSIGN_OR_RETURN(
        std::vector<std::string> hyps,
        Translate(sub, *model.subword, sources, ToTranslateOptions(f.decode), progress));
    j["translate_seconds"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!f.translations.empty()) {
      HAT_RETURN_IF_ERROR(WriteFileAtomically(
          f.translations, hyps.empty() ? "" : absl::StrJoin(hyps, "\n") + "\n"));
      j["translations"] = f.translations;
    }
    HAT_ASSIGN_OR_RETURN(bleu, CorpusBleu(hyps, {refs}, {tokenize, f.lowercase}));
    // "test_bleu" and "test" (or "valid_bleu" and "valid"); the sentence count is in the
    // breakdown ("valid_sentences" is the validation loss's subset).
    j[split + "_bleu"] = bleu->bleu;
    if (split == "test") j["test_sentences"] = bleu->sentences;
    j["bleu_split"] = split;
    j["bleu_tokenize"] = f.tokenize;
    j["beam"] = f.decode.beam;
    j["lenpen"] = f.decode.lenpen;
    j[split] = BleuBreakdownJson(*bleu);
  }
  if (f.json) {
    PrintJson(j);
  } else {
    std::cout << absl::StrFormat("valid loss %.4f (nll %.4f) on %d sentences in %.3f s\n", v.loss,
                                 v.nll, v.sentences, v.seconds);
    if (bleu) std::cout << f.bleu_split << " " << SacreBleuLine(*bleu) << "\n";
  }
  return absl::OkStatus();
}

struct TranslateFlags {
  std::string model;
  std::string config_file;
  DecodeFlags decode;
};

absl::Status RunTranslate(const TranslateFlags& f) {
  HAT_RETURN_IF_ERROR(CheckDevice(f.decode.device));
  HAT_ASSIGN_OR_RETURN(ModelAndConfig loaded,
                       LoadModelAndConfig(f.model, f.config_file, f.decode.threads));
  const TrainedModel& model = loaded.model;
  HAT_ASSIGN_OR_RETURN(SubTransformer sub,
                       ExtractForDecoding(model, loaded.config, f.decode.device));
  std::vector<std::string> sources;
  for (std::string line; std::getline(std::cin, line);) sources.push_back(line);
  int truncated = 0;
  HAT_ASSIGN_OR_RETURN(
      std::vector<std::string> out,
      Translate(sub, *model.subword, sources, ToTranslateOptions(f.decode), nullptr, &truncated));
  for (const std::string& line : out) std::cout << line << "\n";
  if (truncated > 0) {
    std::cerr << "hatctl: warning: " << truncated
              << " input line(s) were longer than the model's positions and were cut\n";
  }
  return absl::OkStatus();
}

// ---- bleu ----

struct BleuFlags {
  std::vector<std::string> refs;
  std::string hyp;
  std::string tokenize = "13a";
  bool lowercase = false;
  bool json = false;
};

absl::Status RunBleu(const BleuFlags& f) {
  HAT_ASSIGN_OR_RETURN(BleuTokenize tokenize, ParseBleuTokenize(f.tokenize));
  HAT_ASSIGN_OR_RETURN(std::vector<std::string> hyps, ReadLines(f.hyp));
  std::vector<std::vector<std::string>> refs;
  for (const std::string& path : f.refs) {
    HAT_ASSIGN_OR_RETURN(std::vector<std::string> lines, ReadLines(path));
    refs.push_back(std::move(lines));
  }
  // CorpusBleu checks the line alignment; the files are named here.
  const absl::StatusOr<BleuScore> scored = CorpusBleu(hyps, refs, {tokenize, f.lowercase});
  if (!scored.ok()) {
    return Annotate(scored.status(),
                    absl::StrCat("--hyp ", f.hyp, " against --ref ", absl::StrJoin(f.refs, ", ")));
  }
  const BleuScore& b = *scored;
  if (f.json) {
    nlohmann::json j = BleuBreakdownJson(b);
    j["tokenize"] = f.tokenize;
    j["lowercase"] = f.lowercase;
    PrintJson(j);
  } else {
    std::cout << SacreBleuLine(b) << "\n";
  }
  return absl::OkStatus();
}

}  // namespace

void AddNmtCommands(CLI::App& app, int* exit_code) {
  CLI::App* data = app.add_subcommand("data", "Prepare parallel corpora (local)");
  data->require_subcommand(1);
  CLI::App* prepare = data->add_subcommand(
      "prepare", "Train the joint BPE model and encode every split into the cache");
  auto pf = std::make_shared<PrepareFlags>();
  AddDataFlags(prepare, &pf->data);
  prepare->add_flag("--json", pf->json, "Print JSON");
  prepare->callback([pf, exit_code] { *exit_code = ReportError(RunPrepare(*pf)); });

  CLI::App* supernet = app.add_subcommand("supernet", "Train SuperTransformers (local)");
  supernet->require_subcommand(1);
  CLI::App* strain = supernet->add_subcommand(
      "train", "Train a SuperTransformer: one SubTransformer sampled per step (HAT)");
  auto sf = std::make_shared<TrainFlags>();
  strain->add_option("--space", sf->space, "Design space (built-in name or file)")
      ->capture_default_str();
  AddTrainFlags(strain, sf.get());
  strain->callback([sf, exit_code] { *exit_code = ReportError(RunTrain(*sf, false)); });

  CLI::App* subnet = app.add_subcommand("subnet", "Train and evaluate SubTransformers (local)");
  subnet->require_subcommand(1);
  CLI::App* btrain = subnet->add_subcommand("train", "Train one SubTransformer from scratch");
  auto bf = std::make_shared<TrainFlags>();
  btrain->add_option("--config", bf->config_file, "The SubTransformer (HAT YAML or hatfleet JSON)")
      ->required();
  btrain->add_option("--space", bf->space, "Its design space (default: the first that has it)");
  bf->space.clear();
  AddTrainFlags(btrain, bf.get());
  btrain->callback([bf, exit_code] { *exit_code = ReportError(RunTrain(*bf, true)); });

  CLI::App* eval = subnet->add_subcommand(
      "eval", "Validation loss of a SubTransformer with inherited weights (and test BLEU)");
  auto ef = std::make_shared<EvalFlags>();
  eval->add_option("--supernet", ef->supernet, "Checkpoint file or run directory")->required();
  eval->add_option("--config", ef->config_file,
                   "The SubTransformer (default: the one a subnet run trained)");
  eval->add_option("--data", ef->data, "Corpus directory (default: the one it was trained on)");
  eval->add_option("--source-lang", ef->source_lang, "Source language (default: as trained)");
  eval->add_option("--target-lang", ef->target_lang, "Target language (default: as trained)");
  eval->add_option("--valid-sentences", ef->valid_sentences,
                   "Fixed validation subset: the first N pairs (0: all)");
  eval->add_option("--max-tokens", ef->max_tokens)->capture_default_str();
  eval->add_flag("--bleu", ef->bleu, "Also translate a split (--bleu-split) and score BLEU");
  eval->add_option("--bleu-split", ef->bleu_split,
                   "The split --bleu scores: test, or valid to choose decoding settings on")
      ->capture_default_str();
  eval->add_option("--tokenize", ef->tokenize, "BLEU tokenisation: 13a or none")
      ->capture_default_str();
  eval->add_flag("--lowercase", ef->lowercase, "Case-insensitive BLEU");
  eval->add_option("--translations", ef->translations,
                   "With --bleu: also write the scored translations to this file");
  AddDecodeFlags(eval, &ef->decode);
  eval->add_flag("--json", ef->json,
                 "Print JSON: valid_loss, valid_nll, valid_seconds; with --bleu test_bleu and its "
                 "breakdown (test), or valid_bleu and valid");
  eval->callback([ef, exit_code] { *exit_code = ReportError(RunEval(*ef)); });

  CLI::App* translate = app.add_subcommand(
      "translate", "Translate stdin line by line with a trained model (beam search)");
  auto tf = std::make_shared<TranslateFlags>();
  translate->add_option("--model", tf->model, "Checkpoint file or run directory")->required();
  translate->add_option("--config", tf->config_file,
                        "The SubTransformer (needed for a SuperTransformer checkpoint)");
  AddDecodeFlags(translate, &tf->decode);
  translate->callback([tf, exit_code] { *exit_code = ReportError(RunTranslate(*tf)); });

  CLI::App* bleu = app.add_subcommand("bleu", "Corpus BLEU (sacreBLEU-compatible)");
  auto bl = std::make_shared<BleuFlags>();
  bleu->add_option("--ref", bl->refs, "Reference file (repeat for several references)")->required();
  bleu->add_option("--hyp", bl->hyp, "Hypothesis file, line-aligned with the references")
      ->required();
  bleu->add_option("--tokenize", bl->tokenize, "13a (detokenised text) or none (tokenised)")
      ->capture_default_str();
  bleu->add_flag("--lowercase", bl->lowercase, "Case-insensitive");
  bleu->add_flag("--json", bl->json, "Print JSON: bleu, precisions, brevity_penalty, lengths");
  bleu->callback([bl, exit_code] { *exit_code = ReportError(RunBleu(*bl)); });
}

}  // namespace hat::cli
