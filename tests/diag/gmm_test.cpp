// Gmm: validation messages, exact log-density against hand-written formulas, moments, JSON round trip.
#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/diag/gmm.hpp"

namespace {

using cimsim::ConfigError;
using cimsim::diag::Gmm;
using cimsim::diag::GmmEvaluator;

// Runs validate() and returns the ConfigError message ("" if none was thrown).
std::string validate_msg(const Gmm& g, int max_k = 0, int max_d = 0) {
  try {
    g.validate(max_k, max_d);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

std::string from_json_msg(const nlohmann::json& j) {
  try {
    Gmm::from_json(j, "my.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_HAS(msg, sub) EXPECT_NE(std::string(msg).find(sub), std::string::npos) << "message: " << (msg)

TEST(Gmm, PaperDefaultIsValid) {
  const Gmm g = Gmm::paper_default();
  EXPECT_EQ(g.k(), 2);
  EXPECT_EQ(g.d(), 2);
  EXPECT_NO_THROW(g.validate());
  EXPECT_NO_THROW(g.validate(2, 2));
}

TEST(Gmm, ValidationNamesEachProblem) {
  const Gmm good = Gmm::paper_default();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();

  Gmm g;
  EXPECT_HAS(validate_msg(g), "K = 0");

  g = good;
  g.weights.push_back(0.0);
  EXPECT_HAS(validate_msg(g), "3 weights but 2 means");
  g = good;
  g.covs.pop_back();
  EXPECT_HAS(validate_msg(g), "2 weights but 1 covariances");

  g = good;
  g.weights = {1.2, -0.2};
  EXPECT_HAS(validate_msg(g), "component 1: weight -0.2 is not positive");
  g = good;
  g.weights = {0.0, 1.0};
  EXPECT_HAS(validate_msg(g), "component 0: weight 0 is not positive");
  g = good;
  g.weights = {nan, 0.5};
  EXPECT_HAS(validate_msg(g), "component 0: weight is not finite");
  g = good;
  g.weights = {0.5, inf};
  EXPECT_HAS(validate_msg(g), "component 1: weight is not finite");
  g = good;
  g.weights = {0.5, 0.6};
  EXPECT_HAS(validate_msg(g), "weights sum to 1.1");
  g = good;
  g.weights = {0.5, 0.5 + 5e-7};  // within 1e-6
  EXPECT_EQ(validate_msg(g), "");

  g = good;
  g.means[1] = Eigen::Vector3d(0, 0, 0);
  EXPECT_HAS(validate_msg(g), "component 1: mean has dimension 3, expected D = 2");
  g = good;
  g.covs[0] = Eigen::Matrix3d::Identity();
  EXPECT_HAS(validate_msg(g), "component 0: covariance is 3x3, expected 2x2");
  g = good;
  g.means[0](1) = nan;
  EXPECT_HAS(validate_msg(g), "component 0: mean[1] is not finite");
  g = good;
  g.covs[1](0, 0) = inf;
  EXPECT_HAS(validate_msg(g), "component 1: covariance[0][0] is not finite");
  g = good;
  g.covs[1](0, 1) = 0.1;  // [1][0] stays -0.15
  EXPECT_HAS(validate_msg(g), "component 1: covariance is not symmetric");
  g = good;
  g.covs[1](0, 1) += 1e-12;  // within the 1e-9 relative tolerance
  EXPECT_EQ(validate_msg(g), "");
  g = good;
  g.covs[0] << 1.0, 2.0, 2.0, 1.0;  // eigenvalues 3, -1
  EXPECT_HAS(validate_msg(g), "component 0: covariance is not positive definite");
  g = good;
  g.covs[1] << 1.0, 1.0, 1.0, 1.0;  // singular
  EXPECT_HAS(validate_msg(g), "component 1: covariance is not positive definite");

  EXPECT_HAS(validate_msg(good, 1, 0), "K = 2 components exceeds the maximum of 1");
  EXPECT_HAS(validate_msg(good, 0, 1), "dimension D = 2 exceeds the maximum of 1");
}

TEST(Gmm, LogDensity1DMatchesHandFormula) {
  Gmm g;
  g.weights = {0.3, 0.7};
  g.means = {Eigen::VectorXd::Constant(1, -1.0), Eigen::VectorXd::Constant(1, 2.0)};
  g.covs = {Eigen::MatrixXd::Constant(1, 1, 0.25), Eigen::MatrixXd::Constant(1, 1, 4.0)};
  const double pi = 3.14159265358979323846;
  for (double x : {-3.0, -1.0, 0.0, 0.7, 2.0, 5.0}) {
    const double p = 0.3 / std::sqrt(2 * pi * 0.25) * std::exp(-(x + 1) * (x + 1) / (2 * 0.25)) +
                     0.7 / std::sqrt(2 * pi * 4.0) * std::exp(-(x - 2) * (x - 2) / (2 * 4.0));
    EXPECT_NEAR(g.log_density(Eigen::VectorXd::Constant(1, x)), std::log(p), 1e-12) << "x=" << x;
    EXPECT_NEAR(g.density(Eigen::VectorXd::Constant(1, x)), p, 1e-12 * p + 1e-300);
  }
}

// Bivariate normal density written out with the correlation coefficient (independent of Cholesky).
double bvn(double x, double y, double mx, double my, double sxx, double sxy, double syy) {
  const double sx = std::sqrt(sxx), sy = std::sqrt(syy), r = sxy / (sx * sy);
  const double u = (x - mx) / sx, v = (y - my) / sy;
  const double q = (u * u - 2 * r * u * v + v * v) / (1 - r * r);
  return std::exp(-q / 2) / (2 * 3.14159265358979323846 * sx * sy * std::sqrt(1 - r * r));
}

TEST(Gmm, LogDensity2DMatchesHandFormula) {
  const Gmm g = Gmm::paper_default();
  const double pts[][2] = {{0, 0}, {-1.5, -1.0}, {1.5, 1.0}, {2.0, -1.0}, {-3.0, 2.5}};
  for (const auto& p : pts) {
    const double a = bvn(p[0], p[1], -1.5, -1.0, 0.5, 0.2, 0.4);
    const double b = bvn(p[0], p[1], 1.5, 1.0, 0.4, -0.15, 0.6);
    const double ref = std::log(0.5 * a + 0.5 * b);
    EXPECT_NEAR(g.log_density(Eigen::Vector2d(p[0], p[1])), ref, 1e-11) << p[0] << "," << p[1];
    const Eigen::VectorXd r = g.responsibilities(Eigen::Vector2d(p[0], p[1]));
    EXPECT_NEAR(r(0), a / (a + b), 1e-11);
    EXPECT_NEAR(r(1), b / (a + b), 1e-11);
  }
  // Far in the tail: log-sum-exp stays finite where the density underflows.
  const double far = g.log_density(Eigen::Vector2d(60.0, -60.0));
  EXPECT_TRUE(std::isfinite(far));
  EXPECT_LT(far, -1000.0);
  const GmmEvaluator ev(g);
  EXPECT_EQ(ev.most_likely_component(Eigen::Vector2d(-1.5, -1.0)), 0);
  EXPECT_EQ(ev.most_likely_component(Eigen::Vector2d(1.5, 1.0)), 1);
}

TEST(Gmm, MixtureMoments) {
  const Gmm g = Gmm::paper_default();
  const Eigen::VectorXd m = g.mean();
  EXPECT_NEAR(m(0), 0.0, 1e-15);
  EXPECT_NEAR(m(1), 0.0, 1e-15);
  // E[xx^T] = sum w (Sigma + mu mu^T), written out by hand.
  const Eigen::MatrixXd c = g.covariance();
  EXPECT_NEAR(c(0, 0), 0.5 * (0.5 + 2.25) + 0.5 * (0.4 + 2.25), 1e-14);
  EXPECT_NEAR(c(0, 1), 0.5 * (0.2 + 1.5) + 0.5 * (-0.15 + 1.5), 1e-14);
  EXPECT_NEAR(c(1, 0), c(0, 1), 0);
  EXPECT_NEAR(c(1, 1), 0.5 * (0.4 + 1.0) + 0.5 * (0.6 + 1.0), 1e-14);
}

TEST(Gmm, JsonRoundTripAndErrors) {
  const Gmm g = Gmm::paper_default();
  const Gmm h = Gmm::from_json(g.to_json());
  ASSERT_EQ(h.k(), 2);
  for (int k = 0; k < 2; ++k) {
    EXPECT_EQ(h.weights[k], g.weights[k]);
    EXPECT_EQ(h.means[k], g.means[k]);
    EXPECT_EQ(h.covs[k], g.covs[k]);
  }
  const auto j = nlohmann::json::parse(R"({"weights":[1.0],"means":[[0.5]],"covariances":[[[2.0]]]})");
  const Gmm one = Gmm::from_json(j);
  EXPECT_EQ(one.d(), 1);
  EXPECT_EQ(one.covs[0](0, 0), 2.0);

  EXPECT_HAS(from_json_msg(nlohmann::json::array()), "my.json: a GMM must be a JSON object");
  EXPECT_HAS(from_json_msg(nlohmann::json::parse(R"({"weights":[1],"means":[[0]]})")),
             "my.json: missing field \"covariances\"");
  EXPECT_HAS(from_json_msg(nlohmann::json::parse(R"({"weights":[1,"x"],"means":[[0]],"covariances":[[[1]]]})")),
             "my.json.weights[1]: expected a number");
  EXPECT_HAS(from_json_msg(nlohmann::json::parse(R"({"weights":[1],"means":[0],"covariances":[[[1]]]})")),
             "my.json.means[0]: expected an array");
  EXPECT_HAS(from_json_msg(nlohmann::json::parse(R"({"weights":[1],"means":[[0,0]],"covariances":[[[1,0],[0]]]})")),
             "my.json.covariances[0][1]: row has 1 entries, expected 2");
  EXPECT_HAS(from_json_msg(nlohmann::json::parse(R"({"weights":[0.5],"means":[[0]],"covariances":[[[1]]]})")),
             "my.json: GMM: weights sum to 0.5");
}

}  // namespace

namespace {

TEST(Gmm, LogDensityEdgeCases) {
  const cimsim::diag::Gmm g = cimsim::diag::Gmm::paper_default();
  EXPECT_TRUE(std::isnan(g.log_density(Eigen::Vector2d(std::nan(""), 0.0))));
  EXPECT_EQ(g.log_density(Eigen::Vector2d(1e200, 0.0)), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(g.density(Eigen::Vector2d(1e200, 0.0)), 0.0);
  EXPECT_THROW(g.log_density(Eigen::Vector3d(0, 0, 0)), cimsim::ConfigError);  // wrong dimension
}

}  // namespace

TEST(Gmm, HugeCovarianceRowCountIsRefusedBeforeAllocating) {
  // 100000 empty rows are ~300 KB of JSON but were an 80 GB n x n allocation before the row lengths were checked.
  nlohmann::json j = {{"weights", {1.0}}, {"means", {{0.0}}}};
  nlohmann::json rows = nlohmann::json::array();
  for (int i = 0; i < 100000; ++i) rows.push_back(nlohmann::json::array());
  j["covariances"] = nlohmann::json::array({rows});
  try {
    cimsim::diag::Gmm::from_json(j, "big.json");
    FAIL();
  } catch (const cimsim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("big.json.covariances[0][0]"), std::string::npos) << e.what();
  }
}
