// MC2RAM GMM compiler with bounded error (sw/mc2ram/driver.cpp, docs/mc2ram.md "GMM compiler"): hard GMMs are
// either sampled within a stated tolerance of the exact target, with iid exact draws of the same count as the
// noise floor, or refused with the documented message. Runs the datapath directly (bit-exact with both SystemC
// levels, test_mc2ram_system), so no elaboration.
//
// Tolerance (stated once, used by every "sampled" case): with the component-sliced TV of diag::mixture_fit on
// 20 bins, the macro's draws must satisfy
//   sliced TV max <= (same statistic on iid exact draws of the same count) + 0.04,
//   |mass_k - w_k| <= 0.03 for every component, mean error <= 0.1 sd, sd error <= 8 %, split R-hat < 1.05.
// 0.04 is about twice the TV noise of 8 chains x 20000 autocorrelated draws (ESS ~ 3000..20000); the floor
// itself (iid) is ~0.01.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "cimsim/core/error.hpp"
#include "cimsim/diag/diagnostics.hpp"
#include "common.hpp"

using namespace cimsim;
using namespace cimsim::mc2ram;

namespace {

constexpr double kTvMargin = 0.04, kMassTol = 0.03, kMeanTol = 0.1, kSdTol = 0.08, kRhatTol = 1.05;
constexpr int kBins = 20;

struct Outcome {
  bool refused = false;
  std::string message;
  Compiled c;
  double tv = 0, tv_floor = 0, mass = 0, mean = 0, sd = 0, rhat = 0, acceptance = 0;
};

double max_abs(const std::vector<double>& v) {
  double m = 0;
  for (double x : v) m = std::max(m, std::isfinite(x) ? std::abs(x) : 1e9);
  return m;
}

Outcome sample(const diag::Gmm& g, CompileOptions opt = {}, Knobs k = {}, int chains = 8, uint32_t n = 20000,
               uint64_t seed = 5) {
  Outcome o;
  try {
    o.c = compile_gmm(g, opt, k);
  } catch (const ConfigError& e) {
    o.refused = true;
    o.message = e.what();
    return o;
  }
  const FunctionalRun r = run_functional(o.c.program, k, chains, n, seed, initial_states(g, o.c, chains),
                                         EnergyModel::from_table(mc2ram_test::table(), k.vdd));
  diag::Draws d(chains, static_cast<int>(n), g.d());
  for (size_t i = 0; i < r.states.size(); ++i) d.data[i] = o.c.to_user(static_cast<int>(i % g.d()), r.states[i]);
  const diag::MixtureFit f = diag::mixture_fit(d, g, kBins);
  const diag::MixtureFit fl = diag::mixture_fit(diag::iid_draws(g, chains, static_cast<int>(n), seed), g, kBins);
  o.tv = f.sliced_tv_max;
  o.tv_floor = fl.sliced_tv_max;
  o.mass = max_abs(f.mass_err);
  o.mean = max_abs(f.mean_err_sd);
  o.sd = max_abs(f.sd_rel_err);
  for (int j = 0; j < g.d(); ++j) o.rhat = std::max(o.rhat, diag::split_rhat(d, j));
  o.acceptance = static_cast<double>(r.accepts) / (static_cast<double>(chains) * n);
  return o;
}

std::string describe(const Outcome& o) {
  char b[400];
  if (o.refused) return "refused: " + o.message;
  std::snprintf(b, sizeof b,
                "sampled: sliced TV %.4f (iid floor %.4f), mass err %.4f, mean err %.3f sd, sd err %.3f, R-hat %.4f, "
                "acceptance %.3f, compile TV bound %.4g",
                o.tv, o.tv_floor, o.mass, o.mean, o.sd, o.rhat, o.acceptance, o.c.error.tv_bound);
  return b;
}

bool within_tolerance(const Outcome& o) {
  return !o.refused && o.tv <= o.tv_floor + kTvMargin && o.mass <= kMassTol && o.mean <= kMeanTol &&
         o.sd <= kSdTol && o.rhat < kRhatTol;
}

// "Sampled within tolerance, or refused with the documented message."
void expect_sampled_or_refused(const Outcome& o, const std::string& name) {
  std::printf("[%s] %s\n", name.c_str(), describe(o).c_str());
  if (o.refused) {
    EXPECT_NE(o.message.find("cannot store this GMM within tolerance"), std::string::npos) << o.message;
    EXPECT_NE(o.message.find("--allow-approx"), std::string::npos) << o.message;
  } else {
    EXPECT_TRUE(within_tolerance(o)) << name << ": " << describe(o);
  }
}

void expect_sampled(const Outcome& o, const std::string& name) {
  std::printf("[%s] %s\n", name.c_str(), describe(o).c_str());
  EXPECT_FALSE(o.refused) << o.message;
  EXPECT_TRUE(within_tolerance(o)) << name << ": " << describe(o);
}

diag::Gmm gmm2(std::vector<double> w, std::vector<Eigen::VectorXd> m, std::vector<Eigen::MatrixXd> c) {
  diag::Gmm g;
  g.weights = std::move(w);
  g.means = std::move(m);
  g.covs = std::move(c);
  g.validate();
  return g;
}

Eigen::VectorXd v2(double a, double b) { return Eigen::Vector2d(a, b); }
Eigen::MatrixXd diag2(double sa, double sb, double rho = 0) {
  Eigen::MatrixXd c(2, 2);
  c << sa * sa, rho * sa * sb, rho * sa * sb, sb * sb;
  return c;
}

// Overlapping K-component GMM in D dims (mixing by random-walk MH is feasible): means within ~1.5 sd.
diag::Gmm overlapping(int k, int d, uint64_t seed) {
  SplitMix64 r(seed);
  diag::Gmm g;
  double sum = 0;
  for (int i = 0; i < k; ++i) {
    g.weights.push_back(0.5 + r.uniform());
    sum += g.weights.back();
    Eigen::VectorXd m(d);
    for (int j = 0; j < d; ++j) m(j) = 1.5 * (r.uniform() - 0.5);
    g.means.push_back(m);
    Eigen::MatrixXd b(d, d);
    for (int a = 0; a < d; ++a)
      for (int c = 0; c < d; ++c) b(a, c) = 0.25 * r.gauss();
    Eigen::MatrixXd s = b * b.transpose() + 0.5 * Eigen::MatrixXd::Identity(d, d);
    g.covs.push_back(0.5 * (s + s.transpose()));
  }
  for (auto& w : g.weights) w /= sum;
  g.validate();
  return g;
}

}  // namespace

// ---------------------------------------------------------------- the compiler's own numbers
TEST(Mc2ramCompiler, PaperGmmCompilesWellWithinTolerance) {
  const Compiled c = compile_gmm(diag::Gmm::paper_default());
  EXPECT_LT(c.error.tv_bound, 0.01);
  EXPECT_TRUE(c.warnings.empty());
  ASSERT_EQ(c.steps.size(), 2u);
  // Default per-dimension steps: 2.38/sqrt(2) * sqrt(sum_k w_k Sigma_k,jj).
  EXPECT_NEAR(c.steps[0], 2.38 / std::sqrt(2.0) * std::sqrt(0.45), 1e-12);
  EXPECT_NEAR(c.steps[1], 2.38 / std::sqrt(2.0) * std::sqrt(0.5), 1e-12);
  // lsb_j = step_j / prop_lsb: one proposal register, a different step per dimension.
  EXPECT_NEAR(c.lsb[0] * c.prop_lsb, c.steps[0], 1e-12);
  EXPECT_NEAR(c.lsb[1] * c.prop_lsb, c.steps[1], 1e-12);
  EXPECT_NEAR(c.program.prop_scale, std::round(c.prop_lsb * 4096 * std::sqrt(3.0) / 2), 0.5);
}

TEST(Mc2ramCompiler, PerComponentExponentsKeepBothScalesPrecise) {
  // sd 0.05 and sd 5: one shared exponent would leave the wide component's weights at +-1 (8 bits).
  const diag::Gmm g = gmm2({0.5, 0.5}, {v2(-1, 0), v2(1, 0)}, {diag2(0.05, 0.05), diag2(5, 5)});
  Knobs k;
  k.dac_bits = 16;
  CompileOptions o;
  o.allow_approx = true;
  const Compiled c = compile_gmm(g, o, k);
  int amax[2] = {0, 0};
  for (int i = 0; i < 2; ++i)
    for (int r = 0; r < 2; ++r)
      for (int q = 0; q < 2; ++q) amax[i] = std::max(amax[i], std::abs(c.program.comp[i].a[r][q]));
  EXPECT_GE(amax[0], 64);
  EXPECT_GE(amax[1], 64);
  EXPECT_NE(c.program.comp[0].y_shift, c.program.comp[1].y_shift);
  EXPECT_NEAR(c.error.weights[0], 0.5, 0.01);  // constants from the stored integers: masses kept
}

TEST(Mc2ramCompiler, RealizedErrorSeesCoarseWeightsAndTheCheckHasTeeth) {
  // 3-bit weights: the bound must exceed the tolerance -> refused; forced with allow_approx, the sampled
  // distribution is measurably off (so the refusal was warranted, and the sampling check can fail).
  const diag::Gmm g = diag::Gmm::paper_default();
  CompileOptions o;
  o.weight_bits = 3;
  try {
    compile_gmm(g, o);
    ADD_FAILURE() << "3-bit weights were accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot store this GMM within tolerance"), std::string::npos) << e.what();
  }
  o.allow_approx = true;
  const Outcome out = sample(g, o);
  ASSERT_FALSE(out.refused);
  ASSERT_EQ(out.c.warnings.size(), 1u);
  EXPECT_GT(out.c.error.tv_bound, kDefaultCompileTolerance);
  EXPECT_FALSE(within_tolerance(out)) << describe(out);
}

// ---------------------------------------------------------------- hard families (issue 11, item 5)
TEST(Mc2ramCompiler, AnisotropicWithinOneComponent) {
  // Audit case: sd 1 and 0.02 within one component (was: the narrow dimension's sd 10 % too large).
  const diag::Gmm g = gmm2({0.5, 0.5}, {v2(-1, 0), v2(1, 0.02)}, {diag2(1, 0.02), diag2(0.7, 0.03)});
  expect_sampled(sample(g), "anisotropic sd 1 / 0.02");
}

TEST(Mc2ramCompiler, Correlated099) {
  const diag::Gmm g = gmm2({1.0}, {v2(0.5, -0.5)}, {diag2(1, 2, 0.99)});
  expect_sampled(sample(g, {}, {}, 8, 40000), "correlated rho 0.99");
}

TEST(Mc2ramCompiler, UnequalWeights09And01) {
  const diag::Gmm g = gmm2({0.9, 0.1}, {v2(-0.8, 0), v2(1.2, 0.5)}, {diag2(0.6, 0.5, 0.3), diag2(0.4, 0.6, -0.2)});
  expect_sampled(sample(g), "unequal weights 0.9/0.1");
}

TEST(Mc2ramCompiler, D6K3) { expect_sampled(sample(overlapping(3, 6, 61), {}, {}, 8, 20000), "D=6 K=3"); }
TEST(Mc2ramCompiler, D8K8) { expect_sampled(sample(overlapping(8, 8, 88), {}, {}, 8, 20000), "D=8 K=8"); }
TEST(Mc2ramCompiler, D7K5WithAnisotropicScales) {
  diag::Gmm g = overlapping(5, 7, 75);
  // Scale dimension j by 10^(j-3): sds from ~1e-3 to ~1e3 across dimensions.
  Eigen::VectorXd s(7);
  for (int j = 0; j < 7; ++j) s(j) = std::pow(10.0, j - 3);
  for (int i = 0; i < g.k(); ++i) {
    g.means[i] = s.asDiagonal() * g.means[i];
    g.covs[i] = s.asDiagonal() * g.covs[i] * s.asDiagonal();
  }
  expect_sampled(sample(g), "D=7 K=5, dimension scales 1e-3..1e3");
}

// ---------------------------------------------------------------- the audit's five bias cases
TEST(Mc2ramCompiler, AuditCase1WideRangeSd005And5) {
  const diag::Gmm g = gmm2({0.5, 0.5}, {v2(-2, -2), v2(2, 2)}, {diag2(0.05, 0.05), diag2(5, 5)});
  const Outcome o = sample(g);
  expect_sampled_or_refused(o, "audit 1: sd 0.05 and 5 (default converters)");
  EXPECT_TRUE(o.refused) << "the 10-bit DAC cannot resolve sd 0.05 next to sd 5";
}

TEST(Mc2ramCompiler, AuditCase2NarrowDimensionInOneComponent) {
  // The modes overlap in the narrow dimension (0.5 sd apart), so random-walk MH can mix between them.
  const diag::Gmm g = gmm2({0.5, 0.5}, {v2(-1.5, 0), v2(1.5, 0.01)}, {diag2(1, 0.02), diag2(1, 0.02)});
  expect_sampled_or_refused(sample(g), "audit 2: sd 1 and 0.02 in one component");
}

TEST(Mc2ramCompiler, AuditCase1With16BitDacStoresItButCannotMixAndSaysSo) {
  // With the DAC resolving every state bit the stored GMM is within tolerance (per-component exponents);
  // but a chain in the sd-0.05 mode with the shared per-dimension step (~3.5) cannot move: the diagnostics
  // must say so (R-hat / ESS warnings) rather than report a good fit.
  const diag::Gmm g = gmm2({0.5, 0.5}, {v2(-2, -2), v2(2, 2)}, {diag2(0.05, 0.05), diag2(5, 5)});
  Knobs k;
  k.dac_bits = 16;
  const Outcome o = sample(g, {}, k, 4, 5000);
  std::printf("[audit 1, --dac-bits 16] %s\n", describe(o).c_str());
  ASSERT_FALSE(o.refused) << o.message;
  EXPECT_LE(o.c.error.tv_bound, kDefaultCompileTolerance);
  if (!within_tolerance(o)) {
    const FunctionalRun r = run_functional(o.c.program, k, 4, 5000, 5, initial_states(g, o.c, 4),
                                           EnergyModel::from_table(mc2ram_test::table(), k.vdd));
    diag::Draws d(4, 5000, 2);
    for (size_t i = 0; i < r.states.size(); ++i) d.data[i] = o.c.to_user(static_cast<int>(i % 2), r.states[i]);
    EXPECT_FALSE(diag::summarize(d, g, 0).warnings.empty());
  }
}

TEST(Mc2ramCompiler, DiagnosticsFlagANonMixingD8K3Run) {
  // Three 8-D modes 12 sd apart: random-walk MH cannot cross. The old 1-D-marginal grid TV looks fine-ish;
  // R-hat warns, and the chains' per-component masses are those of the starting points, not the weights.
  diag::Gmm g;
  g.weights = {0.5, 0.3, 0.2};
  for (int i = 0; i < 3; ++i) {
    Eigen::VectorXd m = Eigen::VectorXd::Zero(8);
    m(i) = 12.0;
    g.means.push_back(m);
    g.covs.push_back(Eigen::MatrixXd::Identity(8, 8));
  }
  const Compiled c = compile_gmm(g);
  const FunctionalRun r = run_functional(c.program, {}, 6, 4000, 9, initial_states(g, c, 6),
                                         EnergyModel::from_table(mc2ram_test::table(), 0.9));
  diag::Draws d(6, 4000, 8);
  for (size_t i = 0; i < r.states.size(); ++i) d.data[i] = c.to_user(static_cast<int>(i % 8), r.states[i]);
  const diag::Summary s = diag::summarize(d, g, 0);
  std::printf("[D=8 K=3 non-mixing] grid TV %.4f, sliced TV max %.4f (floor %.4f), mass err %.3f %.3f %.3f, "
              "%zu warnings\n", s.fit.tv, s.mix.sliced_tv_max, s.mix_floor.sliced_tv_max, s.mix.mass_err[0],
              s.mix.mass_err[1], s.mix.mass_err[2], s.warnings.size());
  bool rhat_warning = false;
  for (const auto& w : s.warnings) rhat_warning = rhat_warning || w.find("R-hat") != std::string::npos;
  EXPECT_TRUE(rhat_warning);
  // Chains start 2/2/2 over the modes (weights 0.5/0.3/0.2): mass errors -0.17, +0.03, +0.13.
  EXPECT_GT(std::abs(s.mix.mass_err[0]), 0.1);
  EXPECT_GT(s.mix.sliced_tv_max, s.mix_floor.sliced_tv_max + 0.05);
}

TEST(Mc2ramCompiler, AuditCase3NearSingularCovariance) {
  const diag::Gmm g = gmm2({1.0}, {v2(0, 0)}, {diag2(1, 1, 0.99999)});
  expect_sampled_or_refused(sample(g), "audit 3: near-singular covariance (rho 0.99999)");
}

TEST(Mc2ramCompiler, AuditCase4SdRatio1e4) {
  const diag::Gmm g = gmm2({0.5, 0.5}, {v2(-1, -1), v2(1, 1)}, {diag2(1e-4, 1e-4), diag2(1, 1)});
  const Outcome o = sample(g);
  expect_sampled_or_refused(o, "audit 4: sd ratio 1e4");
}

TEST(Mc2ramCompiler, AuditCase5ModesAtPlusMinus1e4) {
  const diag::Gmm g = gmm2({0.5, 0.5}, {v2(-1e4, 0), v2(1e4, 0)}, {diag2(1, 1), diag2(1, 1)});
  expect_sampled_or_refused(sample(g), "audit 5: modes at +-1e4, sd 1");
}

// Issue 24: a mean of 1e300 compiled, gave 8,000 identical draws and "TV nan" with exit 0. The fixed-point state
// cannot represent draws there; the compiler refuses with the bound.
TEST(Mc2ramCompiler, MeanBeyondTheStateResolutionIsRefusedWithTheBound) {
  for (const double mean : {1e300, 1e12}) {
    const diag::Gmm g = gmm2({1.0}, {v2(mean, 0)}, {diag2(1, 1)});
    try {
      (void)compile_gmm(g, {}, {});
      ADD_FAILURE() << "mean " << mean << " compiled";
    } catch (const ConfigError& e) {
      const std::string m = e.what();
      EXPECT_NE(m.find("dimension 0: the mixture mean"), std::string::npos) << m;
      EXPECT_NE(m.find("more than 2^36 state LSBs"), std::string::npos) << m;
    }
  }
  // Within the bound (a mean of 1e4 with sd 1 is about 2^21 LSBs from 0): compiles.
  EXPECT_NO_THROW((void)compile_gmm(gmm2({1.0}, {v2(1e4, 0)}, {diag2(1, 1)}), {}, {}));
}
