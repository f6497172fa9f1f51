// A trained model ready to use: a checkpoint's SuperTransformer with its weights, its subword
// model, and the SubTransformer to run (the checkpoint's own for a SubTransformer run, a given
// config for a SuperTransformer).
#ifndef HATFLEET_TRAIN_TRAINED_MODEL_H_
#define HATFLEET_TRAIN_TRAINED_MODEL_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "common/subtransformer_config.h"
#include "nmt/subword_model.h"
#include "train/checkpoint.h"

namespace hat {

class SuperTransformer;

struct TrainedModel {
  std::string checkpoint;  // the file loaded
  CheckpointInfo info;
  std::shared_ptr<SuperTransformer> super;
  std::shared_ptr<const SubwordModel> subword;
};

// A checkpoint file or a run directory (its averaged checkpoint, else its newest).
absl::StatusOr<TrainedModel> LoadTrainedModel(const std::string& checkpoint_or_dir);

// `config` when given (INVALID_ARGUMENT when outside the model's space), else the trained
// SubTransformer of a subnet run; a SuperTransformer needs a config (INVALID_ARGUMENT).
absl::StatusOr<SubTransformerConfig> ChooseConfig(
    const TrainedModel& model, const std::optional<SubTransformerConfig>& config);

}  // namespace hat

#endif  // HATFLEET_TRAIN_TRAINED_MODEL_H_
