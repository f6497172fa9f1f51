// SubTransformer: a standalone dense model extracted from a SuperTransformer: its own contiguous
// weight tensors at its own dimensions, giving the same outputs as the sliced SuperTransformer.
// This is what gets deployed and what latency is measured on.
//
// Files (Save/Load) are LibTorch archives holding a format tag, the config and the design-space
// facts the network needs (qkv width, vocabulary, positions), and every tensor by name. Load
// checks every tensor's shape against the config, so a corrupt or mismatched file is refused with
// the name of what is wrong.
#ifndef HATFLEET_ENGINE_SUB_TRANSFORMER_H_
#define HATFLEET_ENGINE_SUB_TRANSFORMER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/design_space.h"
#include "common/subtransformer_config.h"
#include "engine/sub_transformer_weights.h"

namespace hat {

class SuperTransformer;
struct DecodingKernels;

inline constexpr char kSubTransformerFormat[] = "hatfleet.subtransformer.v1";

class SubTransformer {
 public:
  // Copies the leading slices `config` uses out of `super` (no gradient history).
  static absl::StatusOr<SubTransformer> Extract(const SuperTransformer& super,
                                                const SubTransformerConfig& config);

  // A SubTransformer of `config` in `space` with random weights (seeded), built at its own size
  // without a SuperTransformer: what latency is measured on, since latency does not depend on
  // the weights' values. The values are distributed as a slice of SuperTransformer::Create's
  // (the same bounds and scales, from the SuperTransformer's dimensions), so the arithmetic
  // sees the same magnitudes.
  // REQUIRES: ValidateConfig(config, space).ok().
  static absl::StatusOr<SubTransformer> Random(const DesignSpace& space,
                                               const SubTransformerConfig& config, uint64_t seed);

  static absl::StatusOr<SubTransformer> Load(const std::string& path);
  // Written atomically (temporary file, then rename).
  absl::Status Save(const std::string& path) const;

  // Moves every tensor to `device` ("cpu" or "cuda"; see runtime.h CheckDevice).
  absl::Status MoveTo(const std::string& device);

  const SubTransformerConfig& config() const { return config_; }
  const SubTransformerWeights& weights() const { return weights_; }
  // The decoder's linear layers packed for incremental decoding on CPU (packed_linear.h);
  // null on other devices. Pass it to IncrementalDecoder.
  const DecodingKernels* decoding_kernels() const { return kernels_.get(); }
  // Parameters, the shared embedding counted once.
  int64_t ParameterCount() const;
  // Bytes the model holds: every tensor once (shared storage counted once), the position tables
  // and the packed decoding kernels. What a device needs for the model beyond LibTorch itself.
  int64_t ResidentBytes() const;
  // Longest sequence the position tables cover.
  int max_positions() const { return max_positions_; }

 private:
  SubTransformer() = default;
  // Derives the embedding views and position tables of weights_ from embed_ and the dims, and
  // packs the decoding kernels.
  void FinishEmbeddings();

  SubTransformerConfig config_;   // active layers only
  int encoder_position_dim_ = 0;  // the SuperTransformer embed dims the sinusoids were built at
  int decoder_position_dim_ = 0;
  int max_positions_ = 0;
  at::Tensor embed_;  // [vocab, max(d_encoder, d_decoder)]: the one stored embedding
  SubTransformerWeights weights_;
  std::shared_ptr<const DecodingKernels> kernels_;
};

}  // namespace hat

#endif  // HATFLEET_ENGINE_SUB_TRANSFORMER_H_
