// Gaussian mixture model: validation, exact log-density, JSON round trip, the paper's default case.
#include "cimsim/diag/gmm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <nlohmann/json.hpp>

#include "cimsim/core/error.hpp"

namespace cimsim::diag {
namespace {

constexpr double kLog2Pi = 1.8378770664093454836;  // log(2 pi)
constexpr double kWeightSumTol = 1e-6;
constexpr double kSymRelTol = 1e-9;

std::string num(double v) {
  std::ostringstream os;
  os.precision(10);
  os << v;
  return os.str();
}

[[noreturn]] void fail(const std::string& msg) { throw ConfigError("GMM: " + msg); }

}  // namespace

void Gmm::validate(int max_k, int max_d) const {
  const size_t kk = weights.size();
  if (kk == 0) fail("no components (K = 0): \"weights\" is empty");
  if (means.size() != kk)
    fail("K mismatch: " + std::to_string(kk) + " weights but " + std::to_string(means.size()) + " means");
  if (covs.size() != kk)
    fail("K mismatch: " + std::to_string(kk) + " weights but " + std::to_string(covs.size()) + " covariances");
  if (max_k > 0 && static_cast<int>(kk) > max_k)
    fail("K = " + std::to_string(kk) + " components exceeds the maximum of " + std::to_string(max_k));

  double sum = 0;
  for (size_t k = 0; k < kk; ++k) {
    const double w = weights[k];
    if (!std::isfinite(w)) fail("component " + std::to_string(k) + ": weight is not finite (" + num(w) + ")");
    if (w <= 0) fail("component " + std::to_string(k) + ": weight " + num(w) + " is not positive");
    sum += w;
  }
  if (std::abs(sum - 1.0) > kWeightSumTol)
    fail("weights sum to " + num(sum) + ", not 1 (tolerance 1e-6)");

  const Eigen::Index d = means[0].size();
  if (d == 0) fail("component 0: mean has dimension 0");
  if (max_d > 0 && d > max_d)
    fail("dimension D = " + std::to_string(d) + " exceeds the maximum of " + std::to_string(max_d));

  for (size_t k = 0; k < kk; ++k) {
    const std::string c = "component " + std::to_string(k) + ": ";
    const Eigen::VectorXd& mu = means[k];
    const Eigen::MatrixXd& s = covs[k];
    if (mu.size() != d)
      fail(c + "mean has dimension " + std::to_string(mu.size()) + ", expected D = " + std::to_string(d) +
           " (from component 0)");
    for (Eigen::Index i = 0; i < d; ++i)
      if (!std::isfinite(mu(i))) fail(c + "mean[" + std::to_string(i) + "] is not finite (" + num(mu(i)) + ")");
    if (s.rows() != d || s.cols() != d)
      fail(c + "covariance is " + std::to_string(s.rows()) + "x" + std::to_string(s.cols()) + ", expected " +
           std::to_string(d) + "x" + std::to_string(d));
    double scale = 0;
    for (Eigen::Index i = 0; i < d; ++i)
      for (Eigen::Index j = 0; j < d; ++j) {
        if (!std::isfinite(s(i, j)))
          fail(c + "covariance[" + std::to_string(i) + "][" + std::to_string(j) + "] is not finite (" +
               num(s(i, j)) + ")");
        scale = std::max(scale, std::abs(s(i, j)));
      }
    for (Eigen::Index i = 0; i < d; ++i)
      for (Eigen::Index j = i + 1; j < d; ++j)
        if (std::abs(s(i, j) - s(j, i)) > kSymRelTol * scale)
          fail(c + "covariance is not symmetric: [" + std::to_string(i) + "][" + std::to_string(j) + "] = " +
               num(s(i, j)) + " but [" + std::to_string(j) + "][" + std::to_string(i) + "] = " + num(s(j, i)));
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(s, Eigen::EigenvaluesOnly);
    const double lmin = es.info() == Eigen::Success ? es.eigenvalues().minCoeff() : 0.0;
    Eigen::LLT<Eigen::MatrixXd> llt(s);
    if (llt.info() != Eigen::Success || !(lmin > 0))
      fail(c + "covariance is not positive definite (smallest eigenvalue " + num(lmin) + ")");
  }
}

// ---------------------------------------------------------------------------------------------------------
GmmEvaluator::GmmEvaluator(const Gmm& gmm) {
  gmm.validate();
  d_ = gmm.d();
  for (int k = 0; k < gmm.k(); ++k) {
    Eigen::LLT<Eigen::MatrixXd> llt(gmm.covs[k]);
    Eigen::MatrixXd l = llt.matrixL();
    double logdet_half = 0;
    for (int i = 0; i < d_; ++i) logdet_half += std::log(l(i, i));
    log_wc_.push_back(std::log(gmm.weights[k]) - 0.5 * d_ * kLog2Pi - logdet_half);
    mu_.push_back(gmm.means[k]);
    l_.push_back(std::move(l));
  }
}

double GmmEvaluator::log_component(int k, const Eigen::VectorXd& x) const {
  if (x.size() != d_)
    throw ConfigError("GMM: point has dimension " + std::to_string(x.size()) + ", expected " + std::to_string(d_));
  const Eigen::VectorXd z = l_[k].triangularView<Eigen::Lower>().solve(x - mu_[k]);
  return log_wc_[k] - 0.5 * z.squaredNorm();
}

double GmmEvaluator::log_density(const Eigen::VectorXd& x) const {
  // One-pass log-sum-exp: keep the running maximum m and sum_k exp(l_k - m), rescaled when m grows.
  double m = -std::numeric_limits<double>::infinity(), s = 0;
  for (int k = 0; k < this->k(); ++k) {
    const double l = log_component(k, x);
    if (l == -std::numeric_limits<double>::infinity()) continue;  // contributes exp(-inf) = 0
    if (l <= m) {
      s += std::exp(l - m);
    } else {
      s = s * std::exp(m - l) + 1.0;  // exp(-inf) = 0 on the first finite term
      m = l;
    }
  }
  if (!std::isfinite(m)) return m;
  return m + std::log(s);
}

Eigen::VectorXd GmmEvaluator::responsibilities(const Eigen::VectorXd& x) const {
  Eigen::VectorXd r(k());
  for (int k = 0; k < this->k(); ++k) r(k) = log_component(k, x);
  const double m = r.maxCoeff();
  if (!std::isfinite(m)) {  // infinitely far away: all mass on the max (or uniform if all -inf)
    r = Eigen::VectorXd::Constant(k(), 1.0 / k());
    return r;
  }
  r = (r.array() - m).exp();
  return r / r.sum();
}

int GmmEvaluator::most_likely_component(const Eigen::VectorXd& x) const {
  int best = 0;
  double bv = -std::numeric_limits<double>::infinity();
  for (int k = 0; k < this->k(); ++k) {
    const double v = log_component(k, x);
    if (v > bv) {
      bv = v;
      best = k;
    }
  }
  return best;
}

// ---------------------------------------------------------------------------------------------------------
double Gmm::log_density(const Eigen::VectorXd& x) const { return GmmEvaluator(*this).log_density(x); }
double Gmm::density(const Eigen::VectorXd& x) const { return std::exp(log_density(x)); }
Eigen::VectorXd Gmm::responsibilities(const Eigen::VectorXd& x) const {
  return GmmEvaluator(*this).responsibilities(x);
}

Eigen::VectorXd Gmm::mean() const {
  validate();
  Eigen::VectorXd m = Eigen::VectorXd::Zero(d());
  for (int k = 0; k < this->k(); ++k) m += weights[k] * means[k];
  return m;
}

Eigen::MatrixXd Gmm::covariance() const {
  const Eigen::VectorXd m = mean();
  Eigen::MatrixXd c = Eigen::MatrixXd::Zero(d(), d());
  for (int k = 0; k < this->k(); ++k) {
    const Eigen::VectorXd dm = means[k] - m;  // law of total covariance, centred for accuracy
    c += weights[k] * (covs[k] + dm * dm.transpose());
  }
  return 0.5 * (c + c.transpose());
}

// ---------------------------------------------------------------------------------------------------------
namespace {

double json_number(const nlohmann::json& v, const std::string& where) {
  if (!v.is_number()) throw ConfigError(where + ": expected a number, got " + std::string(v.type_name()));
  return v.get<double>();
}

const nlohmann::json& json_array(const nlohmann::json& v, const std::string& where) {
  if (!v.is_array()) throw ConfigError(where + ": expected an array, got " + std::string(v.type_name()));
  return v;
}

}  // namespace

Gmm Gmm::from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object())
    throw ConfigError(origin + ": a GMM must be a JSON object with \"weights\", \"means\", \"covariances\"");
  for (const char* key : {"weights", "means", "covariances"})
    if (!j.contains(key)) throw ConfigError(origin + ": missing field \"" + std::string(key) + "\"");
  Gmm g;
  const auto& w = json_array(j["weights"], origin + ".weights");
  for (size_t k = 0; k < w.size(); ++k)
    g.weights.push_back(json_number(w[k], origin + ".weights[" + std::to_string(k) + "]"));
  const auto& m = json_array(j["means"], origin + ".means");
  for (size_t k = 0; k < m.size(); ++k) {
    const std::string wk = origin + ".means[" + std::to_string(k) + "]";
    const auto& row = json_array(m[k], wk);
    Eigen::VectorXd v(static_cast<Eigen::Index>(row.size()));
    for (size_t i = 0; i < row.size(); ++i) v(i) = json_number(row[i], wk + "[" + std::to_string(i) + "]");
    g.means.push_back(std::move(v));
  }
  const auto& c = json_array(j["covariances"], origin + ".covariances");
  for (size_t k = 0; k < c.size(); ++k) {
    const std::string wk = origin + ".covariances[" + std::to_string(k) + "]";
    const auto& mat = json_array(c[k], wk);
    const size_t n = mat.size();
    // Every row's length is checked before the n x n matrix is allocated: n "[]" rows are only 3n bytes of
    // file but would have been an 8 n^2-byte allocation.
    for (size_t r = 0; r < n; ++r) {
      const std::string wr = wk + "[" + std::to_string(r) + "]";
      const auto& row = json_array(mat[r], wr);
      if (row.size() != n)
        throw ConfigError(wr + ": row has " + std::to_string(row.size()) + " entries, expected " +
                          std::to_string(n) + " (a square matrix)");
    }
    Eigen::MatrixXd s(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    for (size_t r = 0; r < n; ++r) {
      const std::string wr = wk + "[" + std::to_string(r) + "]";
      const auto& row = mat[r];
      for (size_t q = 0; q < n; ++q) s(r, q) = json_number(row[q], wr + "[" + std::to_string(q) + "]");
    }
    g.covs.push_back(std::move(s));
  }
  try {
    g.validate();
  } catch (const ConfigError& e) {
    throw ConfigError(origin + ": " + e.what());
  }
  return g;
}

nlohmann::json Gmm::to_json() const {
  nlohmann::json j;
  j["weights"] = weights;
  nlohmann::json m = nlohmann::json::array();
  for (const auto& v : means) {
    nlohmann::json row = nlohmann::json::array();
    for (Eigen::Index i = 0; i < v.size(); ++i) row.push_back(v(i));
    m.push_back(std::move(row));
  }
  j["means"] = std::move(m);
  nlohmann::json c = nlohmann::json::array();
  for (const auto& s : covs) {
    nlohmann::json mat = nlohmann::json::array();
    for (Eigen::Index r = 0; r < s.rows(); ++r) {
      nlohmann::json row = nlohmann::json::array();
      for (Eigen::Index q = 0; q < s.cols(); ++q) row.push_back(s(r, q));
      mat.push_back(std::move(row));
    }
    c.push_back(std::move(mat));
  }
  j["covariances"] = std::move(c);
  return j;
}

Gmm Gmm::paper_default() {
  Gmm g;
  g.weights = {0.5, 0.5};
  g.means = {Eigen::Vector2d(-1.5, -1.0), Eigen::Vector2d(1.5, 1.0)};
  Eigen::MatrixXd s0(2, 2), s1(2, 2);
  s0 << 0.5, 0.2, 0.2, 0.4;
  s1 << 0.4, -0.15, -0.15, 0.6;
  g.covs = {s0, s1};
  return g;
}

}  // namespace cimsim::diag
