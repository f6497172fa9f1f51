// The cost-linear latency model: ridge regression on standardised cost features, with robust
// rejection of outlier measurements and a bootstrap ensemble for per-prediction uncertainty.
//
// Why linear: each cost feature is work the device does (MACs of a part of the network, kernels
// launched), so latency ≈ Σ seconds-per-unit × units + fixed overhead is a device's natural
// description; the coefficients are its throughput per kind of work. With ~20 coefficients it
// needs far fewer measurements than an MLP, and it extrapolates to configs unlike the training
// rows in the direction physics does.
//
// Robustness: measurements drift and some are simply wrong (HAT's Raspberry Pi file starts with
// 200 of them). After a fit, training rows whose relative residual lies more than
// `outlier_sigmas` robust standard deviations (1.4826 × MAD) from the median are left out and
// the model refitted, until the kept set stops changing.
#ifndef HATFLEET_PREDICTOR_LINEAR_FIT_H_
#define HATFLEET_PREDICTOR_LINEAR_FIT_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"

namespace hat {

using FeatureRows = std::vector<std::vector<double>>;

// x' = (x - offset) / scale per feature, from training rows. A feature constant over the
// training rows (HAT's WMT data always has 6 encoder layers) gets scale 1, so it standardises
// to 0 and carries no weight.
struct Standardizer {
  std::vector<double> offset;
  std::vector<double> scale;

  static Standardizer FromRows(const FeatureRows& rows, const std::vector<int>& which);
  std::vector<double> Apply(const std::vector<double>& x) const;
};

struct LinearModel {
  std::vector<double> weights;  // on standardised features
  double intercept = 0;
  double Predict(const std::vector<double>& standardized) const;
};

// Ridge regression on standardised rows `which` of `z` (intercept not penalised): minimises
// Σ (y - intercept - w·z)² + lambda |w|². FAILED_PRECONDITION when the system cannot be solved.
absl::StatusOr<LinearModel> FitRidge(const FeatureRows& z, const std::vector<double>& y,
                                     const std::vector<int>& which, double lambda);

struct CostLinearOptions {
  // Ridge penalties tried; the one with the lowest validation RMSE is kept.
  std::vector<double> lambdas = {1e-6, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100};
  double outlier_sigmas = 5.0;  // 0 disables outlier rejection
  int max_robust_rounds = 5;
  int bootstrap_members = 8;  // refits on resampled rows; their spread is the uncertainty
  uint64_t seed = 1;
};

struct CostLinearFit {
  Standardizer standardizer;
  std::vector<LinearModel> members;  // [0] is the prediction; the rest bootstrap refits
  double lambda = 0;
  int outliers_dropped = 0;
};

// `x` raw feature rows, `y` latencies (ms). `valid` may be empty (the smallest lambda is used).
// INVALID_ARGUMENT when there are fewer training rows than two.
absl::StatusOr<CostLinearFit> FitCostLinear(const FeatureRows& x, const std::vector<double>& y,
                                            const std::vector<int>& train,
                                            const std::vector<int>& valid,
                                            const CostLinearOptions& options);

}  // namespace hat

#endif  // HATFLEET_PREDICTOR_LINEAR_FIT_H_
