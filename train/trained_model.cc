// Loading trained models; see trained_model.h.
#include "train/trained_model.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "engine/super_transformer.h"

namespace hat {

absl::StatusOr<TrainedModel> LoadTrainedModel(const std::string& checkpoint_or_dir) {
  TrainedModel model;
  HAT_ASSIGN_OR_RETURN(model.checkpoint, ResolveCheckpoint(checkpoint_or_dir));
  HAT_ASSIGN_OR_RETURN(CheckpointReader reader, CheckpointReader::Open(model.checkpoint));
  model.info = reader.info();
  HAT_ASSIGN_OR_RETURN(model.super, SuperTransformer::Create(model.info.space, 0));
  HAT_RETURN_IF_ERROR(reader.Restore(*model.super, nullptr));
  HAT_ASSIGN_OR_RETURN(SubwordModel subword,
                       SubwordModel::FromSerialized(model.info.subword_model,
                                                    model.checkpoint + " (subword model)"));
  model.subword = std::make_shared<const SubwordModel>(std::move(subword));
  return model;
}

absl::StatusOr<SubTransformerConfig> ChooseConfig(
    const TrainedModel& model, const std::optional<SubTransformerConfig>& config) {
  if (config) {
    // Inactive layers do not matter (and a SubTransformer run's space has only active ones).
    const SubTransformerConfig active = ActiveOnly(*config);
    HAT_RETURN_IF_ERROR(Annotate(ValidateConfig(active, model.info.space),
                                 absl::StrCat("config in the space of ", model.checkpoint)));
    return active;
  }
  if (model.info.config) return *model.info.config;
  return absl::InvalidArgumentError(absl::StrCat(
      model.checkpoint, " is a SuperTransformer: give the SubTransformer to use (--config)"));
}

}  // namespace hat
