#pragma once
// A Gaussian mixture model as the user gives it (weights, means, covariances), validated, with its exact
// log-density. Shared by the MC2RAM driver (what the macro is programmed with), the software MH references
// and the diagnostics (KL/TV against the analytic density, mass per component).
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json_fwd.hpp>

namespace cimsim::diag {

struct Gmm {
  std::vector<double> weights;             ///< K mixture weights, > 0, summing to 1 (tolerance 1e-6)
  std::vector<Eigen::VectorXd> means;      ///< K vectors of dimension D
  std::vector<Eigen::MatrixXd> covs;       ///< K symmetric positive-definite D x D matrices

  int k() const { return static_cast<int>(weights.size()); }
  int d() const { return means.empty() ? 0 : static_cast<int>(means[0].size()); }

  /// Throws ConfigError with a clear sentence (which component, what is wrong) if the GMM is invalid:
  /// K = 0, size mismatches, weights not summing to 1 or non-positive, NaN/infinity, covariance not
  /// symmetric or not positive definite. `max_k` / `max_d` (if > 0) bound K and D.
  void validate(int max_k = 0, int max_d = 0) const;

  double log_density(const Eigen::VectorXd& x) const;  ///< log p(x), exact (log-sum-exp)
  double density(const Eigen::VectorXd& x) const;
  /// Posterior component probabilities p(k | x).
  Eigen::VectorXd responsibilities(const Eigen::VectorXd& x) const;
  Eigen::VectorXd mean() const;        ///< mixture mean
  Eigen::MatrixXd covariance() const;  ///< mixture covariance

  /// JSON: {"weights":[...], "means":[[...],...], "covariances":[[[...]...],...]}. from_json validates.
  static Gmm from_json(const nlohmann::json& j, const std::string& origin = "gmm");
  nlohmann::json to_json() const;
  /// The paper's case: 2-D, two components (documented in docs/mc2ram.md).
  static Gmm paper_default();
};

}  // namespace cimsim::diag
