// Training checkpoints: the SuperTransformer's parameters, the optimizer state, the step, and
// everything needed to use the weights without the training run: the design space, the trained
// SubTransformer (when one config was trained), the subword model and the languages. A checkpoint
// is one LibTorch archive, written atomically (temporary file, fsync, rename); loading checks the
// format and every tensor's shape, so a truncated or corrupt file is refused with its name.
//
// A run directory holds checkpoint_<step>.pt files; the newest is the one to resume from, the last
// N can be averaged into checkpoint_avg.pt.
#ifndef HATFLEET_TRAIN_CHECKPOINT_H_
#define HATFLEET_TRAIN_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"

namespace torch::optim {
class Optimizer;
}  // namespace torch::optim

namespace hat {

class SuperTransformer;

inline constexpr char kCheckpointFormat[] = "hatfleet.checkpoint.v1";

struct CheckpointInfo {
  std::string kind;  // "supernet" or "subnet"
  DesignSpace space;
  std::optional<SubTransformerConfig> config;  // subnet: the SubTransformer trained
  int64_t step = 0;
  std::string subword_model;  // serialized SentencePiece model
  std::string source_lang, target_lang;
  std::string corpus_dir;    // the corpus it was trained on (the default for evaluation)
  std::string options_json;  // the training options, for the record and for resume checks
  int averaged_from = 0;     // > 0: the average of this many checkpoints (no optimizer state)
  // Training wall time up to `step`, summed over every run that resumed the training; unset in
  // checkpoints written before it was recorded (and in runs resumed from one).
  std::optional<double> train_seconds;
};

// A checkpoint file read and parsed once: its metadata, then its parameters into a model built
// from that metadata. (LibTorch parses the archive whole, so the metadata alone costs as much as
// everything: a caller that needs both opens the file once with this.)
class CheckpointReader {
 public:
  // DATA_LOSS for an unreadable, truncated or foreign file; FAILED_PRECONDITION for another
  // format version.
  static absl::StatusOr<CheckpointReader> Open(const std::string& path);
  CheckpointReader(CheckpointReader&&) noexcept;
  CheckpointReader& operator=(CheckpointReader&&) noexcept;
  ~CheckpointReader();

  const std::string& path() const { return path_; }
  const CheckpointInfo& info() const { return info_; }
  // Copies the parameters into `model` (built from the same space) and, when given and present,
  // the optimizer state. INVALID_ARGUMENT for a model of other dimensions; DATA_LOSS naming the
  // tensor when a shape differs or one is missing; FAILED_PRECONDITION when an optimizer state
  // is asked of an averaged checkpoint.
  absl::Status Restore(SuperTransformer& model, torch::optim::Optimizer* optimizer);

 private:
  struct Archive;  // LibTorch's archive, kept out of this header
  CheckpointReader();
  std::string path_;
  CheckpointInfo info_;
  std::unique_ptr<Archive> archive_;
};

absl::Status SaveCheckpoint(const std::string& path, const CheckpointInfo& info,
                            const SuperTransformer& model,
                            const torch::optim::Optimizer* optimizer);

// CheckpointReader's, for callers that need only one of the two.
absl::StatusOr<CheckpointInfo> ReadCheckpointInfo(const std::string& path);
absl::Status RestoreCheckpoint(const std::string& path, SuperTransformer& model,
                               torch::optim::Optimizer* optimizer);

// SHA-256 over the checkpoint's parameters (names and fp32 values, in name order): equal for two
// checkpoints exactly when their weights are bit for bit the same, whatever else differs in the
// files (training time, options, optimizer state).
absl::StatusOr<std::string> ParametersSha256(const std::string& path);

// checkpoint_<step>.pt in `dir`, oldest first (the average is not among them).
std::vector<std::string> ListCheckpoints(const std::string& dir);
std::string CheckpointPath(const std::string& dir, int64_t step);
// A checkpoint file as given, or the newest checkpoint of a run directory (checkpoint_avg.pt when
// `prefer_average` and it exists). NOT_FOUND when there is none.
absl::StatusOr<std::string> ResolveCheckpoint(const std::string& path, bool prefer_average = true);
// Deletes all but the newest `keep` checkpoints of `dir`.
absl::Status PruneCheckpoints(const std::string& dir, int keep);

// The checkpoints `inputs` name, in order: a file stands for itself, a run directory for its
// checkpoint_<step>.pt files, oldest first (not its average). With last > 0, only the last `last`
// of them. NOT_FOUND for a missing input or an empty directory; INVALID_ARGUMENT for a checkpoint
// named twice or fewer than `last` found.
absl::StatusOr<std::vector<std::string>> ExpandCheckpoints(const std::vector<std::string>& inputs,
                                                           int last = 0);

// Averages the parameters of `paths` (same space) into `out` and returns the metadata written
// there (the newest input's, with averaged_from set). INVALID_ARGUMENT when they are from
// different design spaces.
absl::StatusOr<CheckpointInfo> AverageCheckpoints(const std::vector<std::string>& paths,
                                                  const std::string& out);

}  // namespace hat

#endif  // HATFLEET_TRAIN_CHECKPOINT_H_
