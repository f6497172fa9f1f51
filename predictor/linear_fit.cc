// Ridge regression with robust refits and bootstrap members; see linear_fit.h.
#include "predictor/linear_fit.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "common/median.h"
#include "common/prng.h"
#include "common/status_macros.h"

namespace hat {
namespace {

// Solves A x = b for symmetric positive definite A (n×n, row-major) by Cholesky.
absl::StatusOr<std::vector<double>> SolveSpd(std::vector<double> a, std::vector<double> b, int n) {
  for (int j = 0; j < n; ++j) {
    double diag = a[j * n + j];
    for (int k = 0; k < j; ++k) diag -= a[j * n + k] * a[j * n + k];
    if (!(diag > 0)) {
      return absl::FailedPreconditionError(
          "ridge system is not positive definite (features are degenerate)");
    }
    const double l = std::sqrt(diag);
    a[j * n + j] = l;
    for (int i = j + 1; i < n; ++i) {
      double v = a[i * n + j];
      for (int k = 0; k < j; ++k) v -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = v / l;
    }
  }
  for (int i = 0; i < n; ++i) {  // L y = b
    for (int k = 0; k < i; ++k) b[i] -= a[i * n + k] * b[k];
    b[i] /= a[i * n + i];
  }
  for (int i = n - 1; i >= 0; --i) {  // Lᵀ x = y
    for (int k = i + 1; k < n; ++k) b[i] -= a[k * n + i] * b[k];
    b[i] /= a[i * n + i];
  }
  return b;
}

double Rmse(const LinearModel& model, const FeatureRows& z, const std::vector<double>& y,
            const std::vector<int>& which) {
  double sum = 0;
  for (int i : which) {
    const double e = model.Predict(z[i]) - y[i];
    sum += e * e;
  }
  return std::sqrt(sum / std::max<size_t>(1, which.size()));
}

}  // namespace

Standardizer Standardizer::FromRows(const FeatureRows& rows, const std::vector<int>& which) {
  const size_t d = rows.empty() ? 0 : rows[which.front()].size();
  Standardizer s;
  s.offset.assign(d, 0);
  s.scale.assign(d, 1);
  for (size_t f = 0; f < d; ++f) {
    double mean = 0;
    for (int i : which) mean += rows[i][f];
    mean /= which.size();
    double var = 0;
    for (int i : which) var += (rows[i][f] - mean) * (rows[i][f] - mean);
    const double sd = std::sqrt(var / which.size());
    s.offset[f] = mean;
    // Constant up to rounding: leave unscaled so that (x - mean) stays ~0 instead of being
    // blown up to ±1 by dividing rounding noise by rounding noise.
    s.scale[f] = sd > 1e-9 * (std::abs(mean) + 1) ? sd : 1.0;
  }
  return s;
}

std::vector<double> Standardizer::Apply(const std::vector<double>& x) const {
  std::vector<double> z(x.size());
  for (size_t f = 0; f < x.size(); ++f) z[f] = (x[f] - offset[f]) / scale[f];
  return z;
}

double LinearModel::Predict(const std::vector<double>& z) const {
  double y = intercept;
  for (size_t f = 0; f < weights.size(); ++f) y += weights[f] * z[f];
  return y;
}

absl::StatusOr<LinearModel> FitRidge(const FeatureRows& z, const std::vector<double>& y,
                                     const std::vector<int>& which, double lambda) {
  if (which.empty()) return absl::InvalidArgumentError("ridge fit on no rows");
  const int d = static_cast<int>(z[which.front()].size());
  // Centre features and target over the rows used, so the intercept is not penalised.
  std::vector<double> mean_z(d, 0);
  double mean_y = 0;
  for (int i : which) {
    for (int f = 0; f < d; ++f) mean_z[f] += z[i][f];
    mean_y += y[i];
  }
  for (double& m : mean_z) m /= which.size();
  mean_y /= which.size();
  std::vector<double> a(d * d, 0), b(d, 0), row(d);
  for (int i : which) {
    for (int f = 0; f < d; ++f) row[f] = z[i][f] - mean_z[f];
    const double t = y[i] - mean_y;
    for (int r = 0; r < d; ++r) {
      b[r] += row[r] * t;
      for (int c = 0; c <= r; ++c) a[r * d + c] += row[r] * row[c];
    }
  }
  for (int r = 0; r < d; ++r) {
    for (int c = r + 1; c < d; ++c) a[r * d + c] = a[c * d + r];
    a[r * d + r] += lambda;
  }
  HAT_ASSIGN_OR_RETURN(std::vector<double> w, SolveSpd(std::move(a), std::move(b), d));
  LinearModel model;
  model.intercept = mean_y;
  for (int f = 0; f < d; ++f) model.intercept -= w[f] * mean_z[f];
  model.weights = std::move(w);
  return model;
}

absl::StatusOr<CostLinearFit> FitCostLinear(const FeatureRows& x, const std::vector<double>& y,
                                            const std::vector<int>& train,
                                            const std::vector<int>& valid,
                                            const CostLinearOptions& options) {
  if (train.size() < 2) {
    return absl::InvalidArgumentError(
        absl::StrCat("cost-linear fit needs at least 2 training rows, got ", train.size()));
  }
  if (options.lambdas.empty()) return absl::InvalidArgumentError("no ridge penalties to try");
  CostLinearFit fit;
  fit.standardizer = Standardizer::FromRows(x, train);
  FeatureRows z(x.size());
  for (int i : train) z[i] = fit.standardizer.Apply(x[i]);
  for (int i : valid) z[i] = fit.standardizer.Apply(x[i]);

  // Fits on `rows`, choosing lambda by validation RMSE.
  auto fit_best = [&](const std::vector<int>& rows) -> absl::StatusOr<LinearModel> {
    LinearModel best;
    double best_rmse = std::numeric_limits<double>::infinity();
    for (double lambda : options.lambdas) {
      HAT_ASSIGN_OR_RETURN(LinearModel m, FitRidge(z, y, rows, lambda));
      const double rmse = valid.empty() ? 0 : Rmse(m, z, y, valid);
      if (rmse < best_rmse) {
        best_rmse = rmse;
        best = std::move(m);
        fit.lambda = lambda;
      }
      if (valid.empty()) break;
    }
    return best;
  };

  std::vector<int> kept = train;
  HAT_ASSIGN_OR_RETURN(LinearModel model, fit_best(kept));
  const size_t min_kept = std::max<size_t>(2, train.size() / 2);
  for (int round = 0; options.outlier_sigmas > 0 && round < options.max_robust_rounds; ++round) {
    std::vector<double> residual(train.size());
    for (size_t k = 0; k < train.size(); ++k) {
      const int i = train[k];
      residual[k] = (y[i] - model.Predict(z[i])) / y[i];
    }
    const double center = Median(residual);
    std::vector<double> deviation(residual.size());
    for (size_t k = 0; k < residual.size(); ++k) deviation[k] = std::abs(residual[k] - center);
    const double sigma = 1.4826 * Median(deviation);
    if (!(sigma > 0)) break;
    std::vector<int> next;
    for (size_t k = 0; k < train.size(); ++k) {
      if (deviation[k] <= options.outlier_sigmas * sigma) next.push_back(train[k]);
    }
    // Never let "outliers" become the majority: then the model, not the data, is wrong.
    if (next == kept || next.size() < min_kept) break;
    kept = std::move(next);
    HAT_ASSIGN_OR_RETURN(model, fit_best(kept));
  }
  fit.outliers_dropped = static_cast<int>(train.size() - kept.size());
  fit.members.push_back(model);

  Prng prng(options.seed);
  std::vector<int> resample(kept.size());
  for (int b = 0; b < options.bootstrap_members; ++b) {
    for (int& i : resample) i = kept[prng.Uniform(kept.size())];
    HAT_ASSIGN_OR_RETURN(LinearModel member, FitRidge(z, y, resample, fit.lambda));
    fit.members.push_back(std::move(member));
  }
  return fit;
}

}  // namespace hat
