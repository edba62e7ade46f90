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
  /// The paper's case: 2-D, two components (values documented in docs/diagnostics.md).
  static Gmm paper_default();
};

/// A validated GMM with its Cholesky factors precomputed: use it where log p(x) is evaluated many times
/// (MH loops, diagnostics). Gmm::log_density / responsibilities build one per call. The evaluator copies
/// what it needs, so the Gmm may be changed or destroyed afterwards.
class GmmEvaluator {
 public:
  /// Validates `gmm` (throws ConfigError like Gmm::validate) and factorizes each covariance.
  explicit GmmEvaluator(const Gmm& gmm);
  int k() const { return static_cast<int>(log_wc_.size()); }
  int d() const { return d_; }
  /// log(pi_k) + log N(x; mu_k, Sigma_k) for one component.
  double log_component(int k, const Eigen::VectorXd& x) const;
  double log_density(const Eigen::VectorXd& x) const;  ///< log-sum-exp over components
  Eigen::VectorXd responsibilities(const Eigen::VectorXd& x) const;
  int most_likely_component(const Eigen::VectorXd& x) const;  ///< argmax_k p(k | x) (lowest k on ties)

 private:
  int d_ = 0;
  std::vector<double> log_wc_;          ///< log pi_k - D/2 log(2 pi) - sum log diag(L_k)
  std::vector<Eigen::VectorXd> mu_;
  std::vector<Eigen::MatrixXd> l_;      ///< lower Cholesky factors, Sigma_k = L_k L_k^T
};

}  // namespace cimsim::diag
