// MLP training and inference with LibTorch; see mlp.h.
#include "predictor/mlp.h"

#include <torch/torch.h>

#include <limits>

#include "absl/strings/str_cat.h"
#include "common/prng.h"
#include "common/status_macros.h"
#include "engine/torch_status.h"

namespace hat {
namespace {

torch::Tensor RowsToTensor(const FeatureRows& x, const std::vector<int>& which) {
  const int64_t d = x[which.front()].size();
  torch::Tensor t = torch::empty({static_cast<int64_t>(which.size()), d}, torch::kFloat32);
  float* out = t.data_ptr<float>();
  for (size_t r = 0; r < which.size(); ++r) {
    for (int64_t f = 0; f < d; ++f) out[r * d + f] = static_cast<float>(x[which[r]][f]);
  }
  return t;
}

torch::Tensor TargetsToTensor(const std::vector<double>& y, const std::vector<int>& which) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(which.size()), 1}, torch::kFloat32);
  float* out = t.data_ptr<float>();
  for (size_t r = 0; r < which.size(); ++r) out[r] = static_cast<float>(y[which[r]]);
  return t;
}

torch::nn::Sequential BuildNet(int64_t inputs, const MlpOptions& o) {
  torch::nn::Sequential net;
  net->push_back(torch::nn::Linear(inputs, o.hidden_dim));
  net->push_back(torch::nn::ReLU());
  for (int i = 0; i < o.hidden_layer_num; ++i) {
    net->push_back(torch::nn::Linear(o.hidden_dim, o.hidden_dim));
    net->push_back(torch::nn::ReLU());
  }
  net->push_back(torch::nn::Linear(o.hidden_dim, 1));
  return net;
}

v1::MlpModel NetToProto(torch::nn::Sequential& net) {
  v1::MlpModel model;
  for (auto& module : net->modules(/*include_self=*/false)) {
    auto* linear = module->as<torch::nn::LinearImpl>();
    if (linear == nullptr) continue;
    v1::MlpLayer* layer = model.add_layers();
    const torch::Tensor w = linear->weight.detach().contiguous();
    const torch::Tensor b = linear->bias.detach().contiguous();
    layer->set_outputs(static_cast<int32_t>(w.size(0)));
    layer->set_inputs(static_cast<int32_t>(w.size(1)));
    layer->mutable_weight()->Add(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    layer->mutable_bias()->Add(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
  }
  return model;
}

// Batch of `k` distinct rows of `train` (partial Fisher-Yates), like HAT's random.sample.
std::vector<int> SampleBatch(std::vector<int>& pool, int k, Prng& prng) {
  const int n = static_cast<int>(pool.size());
  k = std::min(k, n);
  for (int i = 0; i < k; ++i) {
    std::swap(pool[i], pool[i + prng.Uniform(static_cast<uint64_t>(n - i))]);
  }
  return std::vector<int>(pool.begin(), pool.begin() + k);
}

}  // namespace

absl::StatusOr<v1::MlpModel> TrainMlp(const FeatureRows& x, const std::vector<double>& y,
                                      const std::vector<int>& train, const std::vector<int>& valid,
                                      const MlpOptions& o) {
  if (train.empty()) return absl::InvalidArgumentError("MLP training needs training rows");
  if (o.hidden_dim < 1 || o.hidden_layer_num < 0 || o.train_steps < 1 || o.batch_size < 1 ||
      !(o.learning_rate > 0) || o.eval_every < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "MLP options: hidden_dim=", o.hidden_dim, " hidden_layer_num=", o.hidden_layer_num,
        " train_steps=", o.train_steps, " batch_size=", o.batch_size,
        " learning_rate=", o.learning_rate, ": sizes must be positive"));
  }
  return CallTorch("training the MLP", [&]() -> absl::StatusOr<v1::MlpModel> {
    torch::manual_seed(o.seed);
    const int64_t inputs = x[train.front()].size();
    torch::nn::Sequential net = BuildNet(inputs, o);
    torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(o.learning_rate));
    const torch::Tensor train_x = RowsToTensor(x, train);
    const torch::Tensor train_y = TargetsToTensor(y, train);
    const bool early_stopping = o.early_stopping && !valid.empty();
    torch::Tensor valid_x, valid_y;
    if (early_stopping) {
      valid_x = RowsToTensor(x, valid);
      valid_y = TargetsToTensor(y, valid);
    }
    std::vector<int> pool(train.size());
    for (size_t i = 0; i < pool.size(); ++i) pool[i] = static_cast<int>(i);
    Prng prng(o.seed);
    double best_loss = std::numeric_limits<double>::infinity();
    v1::MlpModel best;
    for (int step = 1; step <= o.train_steps; ++step) {
      const std::vector<int> batch = SampleBatch(pool, o.batch_size, prng);
      const torch::Tensor index =
          torch::from_blob(const_cast<int*>(batch.data()), {static_cast<int64_t>(batch.size())},
                           torch::kInt32)
              .to(torch::kInt64);
      optimizer.zero_grad();
      torch::Tensor loss = torch::mse_loss(net->forward(train_x.index_select(0, index)),
                                           train_y.index_select(0, index));
      loss.backward();
      optimizer.step();
      const bool checkpoint = step % o.eval_every == 0 || step == o.train_steps;
      if (checkpoint && o.progress) o.progress(step, o.train_steps);
      if (checkpoint && o.should_stop && o.should_stop()) {
        return absl::CancelledError(
            absl::StrCat("MLP training stopped at step ", step, " of ", o.train_steps));
      }
      if (early_stopping && checkpoint) {
        torch::NoGradGuard no_grad;
        const double valid_loss = torch::mse_loss(net->forward(valid_x), valid_y).item<double>();
        if (valid_loss < best_loss) {
          best_loss = valid_loss;
          best = NetToProto(net);
        }
      }
    }
    return early_stopping ? best : NetToProto(net);
  });
}

absl::StatusOr<std::vector<double>> EvaluateMlp(const v1::MlpModel& model, const FeatureRows& x) {
  if (model.layers_size() == 0) return absl::InvalidArgumentError("MLP has no layers");
  for (size_t r = 0; r < x.size(); ++r) {
    if (static_cast<int>(x[r].size()) != model.layers(0).inputs()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "row ", r, " has ", x[r].size(), " features, the MLP takes ", model.layers(0).inputs()));
    }
  }
  if (x.empty()) return std::vector<double>();
  return CallTorch("MLP inference", [&]() -> absl::StatusOr<std::vector<double>> {
    torch::NoGradGuard no_grad;
    std::vector<int> all(x.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
    torch::Tensor h = RowsToTensor(x, all);
    for (int l = 0; l < model.layers_size(); ++l) {
      const v1::MlpLayer& layer = model.layers(l);
      if (layer.weight_size() != layer.inputs() * layer.outputs() ||
          layer.bias_size() != layer.outputs() || h.size(1) != layer.inputs()) {
        return absl::InvalidArgumentError(absl::StrCat("MLP layer ", l,
                                                       ": weight/bias sizes do not match ",
                                                       layer.inputs(), " -> ", layer.outputs()));
      }
      const torch::Tensor w = torch::from_blob(const_cast<float*>(layer.weight().data()),
                                               {layer.outputs(), layer.inputs()}, torch::kFloat32);
      const torch::Tensor b = torch::from_blob(const_cast<float*>(layer.bias().data()),
                                               {layer.outputs()}, torch::kFloat32);
      h = torch::addmm(b, h, w.t());
      if (l + 1 < model.layers_size()) h = torch::relu(h);
    }
    if (h.size(1) != 1) {
      return absl::InvalidArgumentError("MLP's last layer must have one output");
    }
    h = h.contiguous();
    const float* out = h.data_ptr<float>();
    return std::vector<double>(out, out + h.size(0));
  });
}

}  // namespace hat
