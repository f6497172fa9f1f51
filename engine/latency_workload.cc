// Latency workloads over standalone SubTransformers; see latency_workload.h.
#include "engine/latency_workload.h"

#include <ATen/ATen.h>
#include <c10/core/InferenceMode.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "engine/runtime.h"
#include "engine/stream_timer.h"
#include "engine/sub_transformer.h"
#include "engine/super_transformer.h"  // kEosIdx
#include "engine/torch_status.h"
#include "engine/transformer_forward.h"

namespace hat {
namespace {

// HAT's dummy token (any id that is not a special symbol works the same).
constexpr int64_t kDummyToken = 7;

class SubTransformerWorkload : public TimedWorkload {
 public:
  SubTransformerWorkload(SubTransformer model, const WorkloadShape& shape, bool cuda)
      : model_(std::move(model)), shape_(shape), timer_(cuda) {
    const at::Device device = cuda ? at::Device("cuda") : at::Device("cpu");
    // HAT: source = eos then dummy tokens; the decoder is fed dummy tokens and eos last.
    source_ = at::full({1, shape.source_tokens}, kDummyToken, at::kLong).to(device);
    source_[0][0] = kEosIdx;
    for (int k = 0; k < shape.decoder_steps; ++k) {
      const int64_t token = k + 1 < shape.decoder_steps ? kDummyToken : kEosIdx;
      step_tokens_.push_back(at::full({shape.beam}, token, at::kLong).to(device));
    }
  }

  absl::StatusOr<double> TimeEncoderMs() override {
    return CallTorch("encoder", [&]() -> absl::StatusOr<double> {
      c10::InferenceMode inference;
      timer_.Start();
      encoder_ = Encode(model_.weights(), source_);
      return timer_.StopMs();
    });
  }

  absl::StatusOr<double> TimeDecoderMs() override {
    if (encoder_.layers.empty()) HAT_RETURN_IF_ERROR(TimeEncoderMs().status());
    return CallTorch("decoder", [&]() -> absl::StatusOr<double> {
      c10::InferenceMode inference;
      timer_.Start();
      IncrementalDecoder decoder(model_.weights(), encoder_, shape_.beam, shape_.decoder_steps,
                                 model_.decoding_kernels());
      for (const at::Tensor& tokens : step_tokens_) decoder.Step(tokens);
      return timer_.StopMs();
    });
  }

  TimingMethod timing_method() const override { return timer_.method(); }

 private:
  SubTransformer model_;
  WorkloadShape shape_;
  StreamTimer timer_;
  at::Tensor source_;
  std::vector<at::Tensor> step_tokens_;
  EncoderOutput encoder_;
};

absl::Status CheckShape(const WorkloadShape& shape, int max_positions) {
  if (shape.source_tokens < 1 || shape.decoder_steps < 1 || shape.beam < 1 ||
      shape.source_tokens > max_positions || shape.decoder_steps > max_positions ||
      shape.beam > 64) {
    return absl::InvalidArgumentError(absl::StrCat(
        "workload shape source_tokens=", shape.source_tokens, ", decoder_steps=",
        shape.decoder_steps, ", beam=", shape.beam, ": tokens and steps must be in [1, ",
        max_positions, "] (the space's max positions) and beam in [1, 64]"));
  }
  return absl::OkStatus();
}

}  // namespace

LatencyWorkloadFactory::~LatencyWorkloadFactory() = default;

absl::StatusOr<std::unique_ptr<LatencyWorkloadFactory>> LatencyWorkloadFactory::Create(
    const DesignSpace& space, const std::string& device, uint64_t seed) {
  HAT_RETURN_IF_ERROR(CheckDevice(device));
  std::unique_ptr<LatencyWorkloadFactory> factory(new LatencyWorkloadFactory());
  factory->space_ = space;
  factory->device_ = device;
  factory->seed_ = seed;
  return factory;
}

absl::StatusOr<std::unique_ptr<TimedWorkload>> LatencyWorkloadFactory::Create(
    const SubTransformerConfig& config, const WorkloadShape& shape) const {
  HAT_RETURN_IF_ERROR(ValidateConfig(config, space_));
  HAT_RETURN_IF_ERROR(CheckShape(shape, space_.super.max_positions));
  HAT_ASSIGN_OR_RETURN(SubTransformer model, SubTransformer::Random(space_, config, seed_));
  return MakeLatencyWorkload(std::move(model), shape, device_);
}

absl::StatusOr<std::unique_ptr<TimedWorkload>> MakeLatencyWorkload(SubTransformer model,
                                                                   const WorkloadShape& shape,
                                                                   const std::string& device) {
  HAT_RETURN_IF_ERROR(CheckDevice(device));
  HAT_RETURN_IF_ERROR(CheckShape(shape, model.max_positions()));
  HAT_RETURN_IF_ERROR(model.MoveTo(device));
  return CallTorch("preparing workload", [&]() -> absl::StatusOr<std::unique_ptr<TimedWorkload>> {
    return std::unique_ptr<TimedWorkload>(
        new SubTransformerWorkload(std::move(model), shape, device == "cuda"));
  });
}

}  // namespace hat
