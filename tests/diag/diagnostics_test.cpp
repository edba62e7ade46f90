// Diagnostics: R-hat, ESS, autocorrelation, MCSE, grid fit, component mass, CSV/JSON output, plots.
// Every reference value here comes from theory (iid / AR(1) / exact GMM draws generated in this file).
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/core/rng.hpp"
#include "cimsim/diag/diagnostics.hpp"

namespace {

namespace fs = std::filesystem;
using cimsim::SplitMix64;
using namespace cimsim::diag;

Draws iid_normal(int chains, int n, uint64_t seed) {
  Draws d(chains, n, 1);
  SplitMix64 rng(seed);
  for (int c = 0; c < chains; ++c)
    for (int i = 0; i < n; ++i) d.at(c, i, 0) = rng.gauss();
  return d;
}

// Stationary AR(1) with unit marginal variance: x_t = phi x_{t-1} + sqrt(1 - phi^2) e_t.
Draws ar1(int chains, int n, double phi, uint64_t seed) {
  Draws d(chains, n, 1);
  SplitMix64 rng(seed);
  const double s = std::sqrt(1 - phi * phi);
  for (int c = 0; c < chains; ++c) {
    double x = rng.gauss();
    for (int i = 0; i < n; ++i) {
      x = phi * x + s * rng.gauss();
      d.at(c, i, 0) = x;
    }
  }
  return d;
}

// Exact draws from a 2-D GMM given as plain numbers: pick a component, then mu + L z with a hand 2x2 Cholesky.
struct Comp2 {
  double w, mx, my, sxx, sxy, syy;
};
Draws exact_gmm2(const std::vector<Comp2>& comps, int chains, int n, uint64_t seed) {
  Draws d(chains, n, 2);
  SplitMix64 rng(seed);
  for (int c = 0; c < chains; ++c)
    for (int i = 0; i < n; ++i) {
      const double u = rng.uniform();
      size_t k = 0;
      double acc = comps[0].w;
      while (u >= acc && k + 1 < comps.size()) acc += comps[++k].w;
      const Comp2& p = comps[k];
      const double l11 = std::sqrt(p.sxx), l21 = p.sxy / l11, l22 = std::sqrt(p.syy - l21 * l21);
      const double z1 = rng.gauss(), z2 = rng.gauss();
      d.at(c, i, 0) = p.mx + l11 * z1;
      d.at(c, i, 1) = p.my + l21 * z1 + l22 * z2;
    }
  return d;
}
const std::vector<Comp2> kPaper = {{0.5, -1.5, -1.0, 0.5, 0.2, 0.4}, {0.5, 1.5, 1.0, 0.4, -0.15, 0.6}};

TEST(Diagnostics, RhatIidNearOne) {
  const Draws d = iid_normal(4, 2000, 11);
  const double r = split_rhat(d, 0);
  EXPECT_LT(r, 1.01);
  EXPECT_GT(r, 0.99);
}

TEST(Diagnostics, RhatDetectsShiftedChain) {
  Draws d = iid_normal(4, 2000, 12);
  for (int i = 0; i < 2000; ++i) d.at(3, i, 0) += 2.0;
  EXPECT_GT(split_rhat(d, 0), 1.1);
}

TEST(Diagnostics, RhatDetectsScaleDifferenceViaFolding) {
  // Same location, one chain 3x wider: the bulk R-hat barely moves, the folded one does.
  Draws d = iid_normal(4, 2000, 13);
  for (int i = 0; i < 2000; ++i) d.at(0, i, 0) *= 3.0;
  EXPECT_GT(split_rhat(d, 0), 1.05);
}

TEST(Diagnostics, RhatDetectsTrendWithinChain) {
  // A single chain drifting: splitting exposes it.
  Draws d = iid_normal(1, 4000, 14);
  for (int i = 0; i < 4000; ++i) d.at(0, i, 0) += 3.0 * i / 4000.0;
  EXPECT_GT(split_rhat(d, 0), 1.1);
}

TEST(Diagnostics, EssIidIsAboutN) {
  const Draws d = iid_normal(4, 2000, 21);
  const double n = 8000;
  EXPECT_NEAR(ess_bulk(d, 0), n, 0.15 * n);
  EXPECT_NEAR(ess_tail(d, 0), n, 0.20 * n);
  // MCSE of the mean of iid N(0,1): 1/sqrt(n).
  EXPECT_NEAR(mcse_mean(d, 0), 1.0 / std::sqrt(n), 0.1 / std::sqrt(n));
}

TEST(Diagnostics, EssAr1MatchesTheory) {
  // Integrated autocorrelation time of AR(1): (1 + phi) / (1 - phi) = 19 for phi = 0.9, so ESS = n / 19.
  // Tolerance: 8 x 10000 draws give ESS ~ 4200; the estimator's own relative sd at that size is ~5%
  // (over 40 seeds the ratio ESS / theory spanned 0.86 .. 1.09), so +-25% leaves a wide margin for the
  // seed while still catching a wrong tau (1 + phi, or 1 / (1 - phi), would be off by about 2x).
  const double phi = 0.9;
  const Draws d = ar1(8, 10000, phi, 31);
  const double expect = 80000.0 * (1 - phi) / (1 + phi);
  EXPECT_NEAR(ess_bulk(d, 0), expect, 0.25 * expect);
  // MCSE follows the same ESS: sd ~ 1.
  EXPECT_NEAR(mcse_mean(d, 0), 1.0 / std::sqrt(expect), 0.25 / std::sqrt(expect));
  EXPECT_LT(ess_tail(d, 0), 0.2 * 80000.0);
}

TEST(Diagnostics, AutocorrelationOfAr1) {
  const double phi = 0.9;
  const Draws d = ar1(1, 20000, phi, 41);
  const auto rho = autocorrelation(d.series(0, 0), 5);
  ASSERT_EQ(rho.size(), 6u);
  EXPECT_DOUBLE_EQ(rho[0], 1.0);
  EXPECT_NEAR(rho[1], phi, 0.02);
  EXPECT_NEAR(rho[2], phi * phi, 0.03);
}

TEST(Diagnostics, AutocorrelationMatchesDirectSum) {
  const std::vector<double> x = {1, 3, 2, 5, 4, 4, 0, -1, 2, 3, 7};
  const auto rho = autocorrelation(x, 20);
  ASSERT_EQ(rho.size(), x.size());  // clamped to n - 1
  double m = 0;
  for (double v : x) m += v;
  m /= x.size();
  double g0 = 0;
  for (double v : x) g0 += (v - m) * (v - m);
  for (size_t t = 0; t < x.size(); ++t) {
    double g = 0;
    for (size_t i = 0; i + t < x.size(); ++i) g += (x[i] - m) * (x[i + t] - m);
    EXPECT_NEAR(rho[t], g / g0, 1e-12) << "lag " << t;
  }
}

TEST(Diagnostics, UndefinedCasesAreNaN) {
  Draws d(2, 100, 1);  // all zeros
  EXPECT_TRUE(std::isnan(split_rhat(d, 0)));
  EXPECT_TRUE(std::isnan(ess_bulk(d, 0)));
  EXPECT_EQ(mcse_mean(d, 0), 0.0);
  EXPECT_THROW(split_rhat(d, 1), cimsim::ConfigError);
  Draws bad(2, 10, 1);
  bad.data.pop_back();
  EXPECT_THROW(ess_bulk(bad, 0), cimsim::ConfigError);
}

TEST(Diagnostics, GridFitExactDrawsVsWrongGmm) {
  const Gmm g = Gmm::paper_default();
  const Draws d = exact_gmm2(kPaper, 4, 50000, 51);  // 200k draws
  const GridFit good = grid_fit(d, g);
  EXPECT_LT(good.tv, 0.05);
  EXPECT_LT(good.kl, 0.05);
  EXPECT_GE(good.kl, 0.0);
  // Draws from a mirrored GMM (modes at (1.5, -1) and (-1.5, 1)): they miss the true modes.
  const std::vector<Comp2> wrong = {{0.5, 1.5, -1.0, 0.5, 0.2, 0.4}, {0.5, -1.5, 1.0, 0.4, -0.15, 0.6}};
  const GridFit bad = grid_fit(exact_gmm2(wrong, 4, 50000, 52), g);
  EXPECT_GT(bad.tv, 0.5);
  EXPECT_GT(bad.kl, 1.0);
}

TEST(Diagnostics, GridFitMarginalsForOtherDims) {
  // 1-D: two-component mixture; exact draws by inverse choice + Box-Muller from SplitMix64.
  Gmm g;
  g.weights = {0.3, 0.7};
  g.means = {Eigen::VectorXd::Constant(1, -2.0), Eigen::VectorXd::Constant(1, 1.0)};
  g.covs = {Eigen::MatrixXd::Constant(1, 1, 0.25), Eigen::MatrixXd::Constant(1, 1, 1.0)};
  Draws d(2, 50000, 1);
  SplitMix64 rng(61);
  for (double& x : d.data) x = rng.uniform() < 0.3 ? -2.0 + 0.5 * rng.gauss() : 1.0 + rng.gauss();
  EXPECT_LT(grid_fit(d, g).tv, 0.03);
  Draws shifted = d;
  for (double& x : shifted.data) x += 1.5;
  EXPECT_GT(grid_fit(shifted, g).tv, 0.4);
}

TEST(Diagnostics, ComponentMassMatchesWeights) {
  const Gmm g = Gmm::paper_default();
  const Draws d = exact_gmm2(kPaper, 4, 25000, 71);
  const auto m = component_mass(d, g);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_NEAR(m[0], 0.5, 0.01);
  EXPECT_NEAR(m[1], 0.5, 0.01);
  // Unequal weights, far-apart components.
  const std::vector<Comp2> uneq = {{0.2, -4, 0, 0.3, 0, 0.3}, {0.8, 4, 0, 0.3, 0, 0.3}};
  Gmm h;
  h.weights = {0.2, 0.8};
  h.means = {Eigen::Vector2d(-4, 0), Eigen::Vector2d(4, 0)};
  h.covs = {0.3 * Eigen::MatrixXd::Identity(2, 2), 0.3 * Eigen::MatrixXd::Identity(2, 2)};
  const auto mh = component_mass(exact_gmm2(uneq, 2, 20000, 72), h);
  EXPECT_NEAR(mh[0], 0.2, 0.01);
  EXPECT_NEAR(mh[1], 0.8, 0.01);
}

TEST(Diagnostics, SummaryJson) {
  const Gmm g = Gmm::paper_default();
  const Draws d = exact_gmm2(kPaper, 4, 2000, 81);
  const Summary s = summarize(d, g, 0.42);
  const nlohmann::json j = s.to_json();
  for (const char* key : {"chains", "draws", "dims", "acceptance", "mean", "sd", "rhat", "ess_bulk", "ess_tail",
                          "mcse_mean", "max_rhat", "min_ess_bulk", "min_ess_tail", "grid_fit",
                          "component_mass", "component_mass_expected"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j["chains"], 4);
  EXPECT_EQ(j["dims"], 2);
  EXPECT_DOUBLE_EQ(j["acceptance"].get<double>(), 0.42);
  EXPECT_EQ(j["rhat"].size(), 2u);
  EXPECT_LT(j["max_rhat"].get<double>(), 1.01);
  EXPECT_TRUE(j["grid_fit"].contains("tv"));
  EXPECT_TRUE(j["grid_fit"].contains("kl"));
  EXPECT_NEAR(s.mean[0], 0.0, 0.1);
  Draws one(1, 3, 3);
  EXPECT_THROW(summarize(one, g, 0.5), cimsim::ConfigError);  // dimension mismatch
}

fs::path scratch(const std::string& name) {
  const fs::path p = fs::temp_directory_path() / ("cimsim-diag-test-" + std::to_string(::getpid())) / name;
  fs::create_directories(p.parent_path());
  return p;
}

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(Diagnostics, DrawsCsvLayout) {
  Draws d(2, 3, 2);
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 3; ++i) {
      d.at(c, i, 0) = c * 10 + i + 0.5;
      d.at(c, i, 1) = -(c * 10 + i) * 0.25;
    }
  const fs::path p = scratch("draws.csv");
  write_draws_csv(p.string(), d);
  const std::string expect =
      "chain,draw,x0,x1\n"
      "0,0,0.5,0\n0,1,1.5,-0.25\n0,2,2.5,-0.5\n"
      "1,0,10.5,-2.5\n1,1,11.5,-2.75\n1,2,12.5,-3\n";
  EXPECT_EQ(slurp(p), expect);
  // Values round-trip exactly (shortest representation that parses back to the same double).
  Draws r(1, 1, 1);
  r.at(0, 0, 0) = 1.0 / 3.0;
  write_draws_csv(p.string(), r);
  const std::string t = slurp(p);
  const std::string last = t.substr(t.rfind(',') + 1);
  EXPECT_EQ(std::strtod(last.c_str(), nullptr), 1.0 / 3.0);
  fs::remove_all(p.parent_path());
}

bool have_gnuplot() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

bool is_png(const fs::path& p) {
  const std::string s = slurp(p);
  return s.size() > 1000 && s.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

TEST(Diagnostics, PlotsProducePngs) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot is not installed (scripts/setup.sh installs gnuplot-nox)";
  const Gmm g = Gmm::paper_default();
  const Draws d = exact_gmm2(kPaper, 3, 1500, 91);
  const fs::path a = scratch("samples.png"), b = scratch("trace.png");
  plot_samples(a.string(), d, g, "paper GMM: it's exact draws");
  plot_trace_acf(b.string(), d, "trace & ACF");
  EXPECT_TRUE(is_png(a));
  EXPECT_TRUE(is_png(b));
  // 1-D path.
  Gmm g1;
  g1.weights = {1.0};
  g1.means = {Eigen::VectorXd::Zero(1)};
  g1.covs = {Eigen::MatrixXd::Identity(1, 1)};
  const fs::path c = scratch("one.png");
  plot_samples(c.string(), iid_normal(2, 500, 92), g1, "1-D");
  EXPECT_TRUE(is_png(c));
  // No temporaries left next to the outputs.
  int n = 0;
  for (const auto& e : fs::directory_iterator(a.parent_path())) n += e.path().extension() == ".png";
  EXPECT_EQ(n, 3);
  fs::remove_all(a.parent_path());
}

}  // namespace

namespace {

TEST(Diagnostics, PlotWithoutGnuplotThrowsIoError) {
  const char* old = std::getenv("PATH");
  const std::string saved = old ? old : "";
  const fs::path empty = scratch("empty-bin");
  fs::create_directories(empty);
  ::setenv("PATH", empty.c_str(), 1);
  const Draws d = iid_normal(1, 50, 93);
  Gmm g1;
  g1.weights = {1.0};
  g1.means = {Eigen::VectorXd::Zero(1)};
  g1.covs = {Eigen::MatrixXd::Identity(1, 1)};
  const fs::path out = scratch("never.png");
  EXPECT_THROW(plot_samples(out.string(), d, g1, "x"), cimsim::IoError);
  EXPECT_THROW(plot_trace_acf(out.string(), d, "x"), cimsim::IoError);
  ::setenv("PATH", saved.c_str(), 1);
  EXPECT_FALSE(fs::exists(out));
  fs::remove_all(empty.parent_path());
}

TEST(Diagnostics, CsvToUnwritablePathThrowsIoError) {
  EXPECT_THROW(write_draws_csv("/proc/cimsim-no-such-dir/draws.csv", Draws(1, 2, 1)), cimsim::IoError);
}

TEST(Diagnostics, GridFitThreeDimsUsesMarginals) {
  // 3-D, one component with a full covariance: each marginal is N(mu_i, S_ii).
  Gmm g;
  g.weights = {1.0};
  g.means = {Eigen::Vector3d(1.0, -2.0, 0.5)};
  Eigen::MatrixXd s(3, 3);
  s << 1.0, 0.3, 0.0, 0.3, 2.0, -0.4, 0.0, -0.4, 0.5;
  g.covs = {s};
  // Exact draws via a hand-computed lower Cholesky factor of s.
  const double l11 = 1.0, l21 = 0.3, l22 = std::sqrt(2.0 - 0.09), l31 = 0.0, l32 = -0.4 / l22,
               l33 = std::sqrt(0.5 - l32 * l32);
  Draws d(2, 40000, 3);
  SplitMix64 rng(94);
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 40000; ++i) {
      const double z1 = rng.gauss(), z2 = rng.gauss(), z3 = rng.gauss();
      d.at(c, i, 0) = 1.0 + l11 * z1;
      d.at(c, i, 1) = -2.0 + l21 * z1 + l22 * z2;
      d.at(c, i, 2) = 0.5 + l31 * z1 + l32 * z2 + l33 * z3;
    }
  EXPECT_LT(grid_fit(d, g).tv, 0.03);
  // One marginal 3x too wide: TV ~0.48 in that dimension, ~0.16 averaged over the three.
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 40000; ++i) d.at(c, i, 2) = 0.5 + 3.0 * (d.at(c, i, 2) - 0.5);
  EXPECT_GT(grid_fit(d, g).tv, 0.1);
}

TEST(Diagnostics, EvaluatorRejectsInvalidGmm) {
  Gmm g = Gmm::paper_default();
  g.weights = {0.7, 0.7};
  EXPECT_THROW(GmmEvaluator{g}, cimsim::ConfigError);
  EXPECT_THROW(grid_fit(Draws(1, 10, 2), g), cimsim::ConfigError);
  EXPECT_THROW(component_mass(Draws(1, 10, 2), g), cimsim::ConfigError);
}

}  // namespace
