// Multi-layer perceptrons for latency prediction (HAT's predictor), trained with LibTorch.
// The header is LibTorch-free: the model travels as a hat.v1.MlpModel.
#ifndef HATFLEET_PREDICTOR_MLP_H_
#define HATFLEET_PREDICTOR_MLP_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "hat/v1/predictor.pb.h"
#include "predictor/linear_fit.h"

namespace hat {

// HAT's settings (latency_predictor/*.yml): 10 -> 400, 3 hidden 400 -> 400, 400 -> 1, ReLU, MSE,
// Adam lr 1e-5, 5000 steps of 128 rows drawn without replacement.
struct MlpOptions {
  int hidden_dim = 400;
  int hidden_layer_num = 3;
  double learning_rate = 1e-5;
  int train_steps = 5000;
  int batch_size = 128;
  uint64_t seed = 1;
  // HAT trains for a fixed number of steps. With early stopping the weights with the lowest
  // validation loss (checked every `eval_every` steps) are kept instead of the last ones.
  bool early_stopping = false;
  int eval_every = 100;
  // Called every `eval_every` steps and at the end, for progress reports.
  std::function<void(int step, int total_steps)> progress;
  // Asked every `eval_every` steps; true stops training with CANCELLED (a job cancelled, a server
  // shutting down: a fit takes tens of seconds and nobody should wait for it).
  std::function<bool()> should_stop;
};

// Trains on rows `train` of (x, y), inputs and target already normalised. Deterministic for a
// seed (weights drawn by LibTorch's generator seeded with it, batches by the project PRNG) on one
// thread. INVALID_ARGUMENT for bad options or no rows; INTERNAL for a LibTorch failure;
// CANCELLED when `should_stop` said so.
absl::StatusOr<v1::MlpModel> TrainMlp(const FeatureRows& x, const std::vector<double>& y,
                                      const std::vector<int>& train, const std::vector<int>& valid,
                                      const MlpOptions& options);

// Forward pass of every row, batched. INVALID_ARGUMENT when a row's width does not match.
absl::StatusOr<std::vector<double>> EvaluateMlp(const v1::MlpModel& model, const FeatureRows& x);

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_MLP_H_
