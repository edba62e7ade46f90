// MC2RAM datapath (no SystemC elaboration): bit-exactness with the independent reference, cycle and energy
// goldens, sampling quality against the analytic GMM, the effect of every knob, GMM validation.
#include <gtest/gtest.h>

#include <cmath>

#include "cimsim/core/error.hpp"
#include "cimsim/diag/diagnostics.hpp"
#include "common.hpp"

using namespace cimsim;
using namespace cimsim::mc2ram;
using mc2ram_test::ref_config;
using mc2ram_test::table;

namespace {

struct Job {
  diag::Gmm gmm = diag::Gmm::paper_default();
  CompileOptions opt;
  Knobs knobs;
  int lanes = 4;
  uint32_t samples = 20000;
  uint64_t seed = 7;
};

struct Out {
  Compiled c;
  FunctionalRun run;
  diag::Draws draws;
};

Out run(const Job& j) {
  Out o;
  o.c = compile_gmm(j.gmm, j.opt);
  o.run = run_functional(o.c.program, j.knobs, j.lanes, j.samples, j.seed, initial_states(j.gmm, o.c, j.lanes),
                         EnergyModel::from_table(table(), j.knobs.vdd));
  const int d = o.c.program.d;
  o.draws = diag::Draws(j.lanes, static_cast<int>(j.samples), d);
  for (int l = 0; l < j.lanes; ++l)
    for (uint32_t s = 0; s < j.samples; ++s)
      for (int k = 0; k < d; ++k)
        o.draws.at(l, static_cast<int>(s), k) = o.c.to_user(k, o.run.states[(static_cast<size_t>(l) * j.samples + s) * d + k]);
  return o;
}

double tv(const Job& j) { return diag::grid_fit(run(j).draws, j.gmm).tv; }

void expect_bit_exact(const Job& j) {
  const Out o = run(j);
  const auto ref = mc2ram_ref::run_reference(
      ref_config(o.c, j.knobs, j.lanes, j.samples, j.seed, initial_states(j.gmm, o.c, j.lanes)));
  ASSERT_EQ(ref.states.size(), o.run.states.size());
  size_t first = ref.states.size();
  for (size_t i = 0; i < ref.states.size(); ++i)
    if (ref.states[i] != o.run.states[i]) {
      first = i;
      break;
    }
  EXPECT_EQ(first, ref.states.size()) << "first differing state word";
  EXPECT_EQ(ref.accepts, o.run.accepts);
  EXPECT_EQ(ref.early_rejects, o.run.early_rejects);
  EXPECT_EQ(ref.cycles, o.run.cycles);
}

}  // namespace

// ---------------------------------------------------------------- bit-exactness
TEST(Mc2ramDatapath, IdealPaperGmmIsBitExactWithReference) {
  Job j;
  j.samples = 3000;
  expect_bit_exact(j);
}

TEST(Mc2ramDatapath, IdealK8D8IsBitExactWithReference) {
  Job j;
  j.gmm = mc2ram_test::random_gmm(8, 8, 42);
  j.knobs.dac_bits = 12;
  j.knobs.adc_bits = 10;
  j.knobs.rng_bits = 20;
  j.opt.weight_bits = 10;
  j.lanes = 3;
  j.samples = 800;
  expect_bit_exact(j);
}

TEST(Mc2ramDatapath, RngShortPeriodAndOverlapAreBitExactWithReference) {
  Job j;
  j.gmm = mc2ram_test::random_gmm(3, 3, 5);
  j.knobs.rng_bits = 12;
  j.knobs.rng_fresh_bits = 5;
  j.knobs.rng_period = 1000;
  j.knobs.dac_bits = 16;
  j.knobs.adc_bits = 4;  // no fine cycle, no early reject
  j.samples = 1500;
  expect_bit_exact(j);
}

// ---------------------------------------------------------------- goldens
TEST(Mc2ramDatapath, CycleFormulaGoldens) {
  // 1 propose/DAC + 1 MAC/coarse + fine (ceil((B-4)/4), skipped on early reject) + LSE (ceil log2 K, >= 1)
  // + 1 write-back when accepted.
  EXPECT_EQ(iteration_cycles(8, 2, false, false), 4);
  EXPECT_EQ(iteration_cycles(8, 2, true, false), 3);
  EXPECT_EQ(iteration_cycles(8, 2, false, true), 5);
  EXPECT_EQ(iteration_cycles(12, 8, false, true), 2 + 2 + 3 + 1);
  EXPECT_EQ(iteration_cycles(4, 1, false, false), 3);
  EXPECT_EQ(iteration_cycles(9, 3, false, false), 2 + 2 + 2);
  EXPECT_EQ(init_cycles(8, 2), 4);
}

TEST(Mc2ramDatapath, LutAndLogUniformGoldens) {
  EXPECT_EQ(Datapath::lse_lut(0), 170);     // round(256 log(1 + e^-1/16))
  EXPECT_EQ(Datapath::lse_lut(2047), 0);    // round(256 log(1 + e^-(63.5/8))) = 0.09 -> 0
  EXPECT_EQ(Datapath::lse_lut(5000), 0);
  EXPECT_EQ(Datapath::log_u_fx(0, 16), -17 * 177 + 2);  // u = 2^-17: leading one at 0, mantissa 0
  EXPECT_LE(Datapath::log_u_fx(65535, 16), 0);
  // lse of two equal values is the value + log 2 (approx 177/256 nat) within the LUT's half-bin error
  const int32_t l[2] = {1000, 1000};
  EXPECT_NEAR(Datapath::lse_fold(l, 2), 1000 + 177, 8);
}

TEST(Mc2ramDatapath, EnergyPerIterationGolden) {
  // Hand-computed from data/tech/45nm.json energy_pj.mc2ram at 0.9 V for the paper GMM (K = D = 2),
  // weight_bits 8, dac 10 bits, adc 8 bits, rng 16 bits, one lane, one iteration (plus the init evaluation):
  //   rng:   (4D+1) words * 16 bits * 348 aJ                     = 9 * 16 * 348          = 50112
  //   dac:   2 evaluations * D * 10 bits * 2090 aJ               = 2 * 2 * 10 * 2090     = 83600
  //   array: 2 * (K*D*D*8 bits * 139 + K*D columns * 2780)       = 2 * (8896 + 11120)    = 40032
  //   adc full conversion per column: 8 * 2780 + 2^8 * 139 = 57824; coarse (4 bits): 4*2780 + 16*139 = 13344
  //   logic init: K*D squares * 4170 + (K-1) * 11100 = 27780; iteration: accept 5560 + D outputs * 2780
  //          + (full: 27780) + (accepted: D * 2780)
  //   leakage: cycles * 13900
  Job j;
  j.lanes = 1;
  j.samples = 1;
  const Out o = run(j);
  const auto& L = o.run.ledger;
  const bool early = o.run.early_rejects == 1, acc = o.run.accepts == 1;
  EXPECT_EQ(L.component_aj("rng"), 50112);
  EXPECT_EQ(L.component_aj("dac"), 83600);
  EXPECT_EQ(L.component_aj("array"), 40032);
  EXPECT_EQ(L.component_aj("adc"), 4 * 57824 + (early ? 4 * 13344 : 4 * 57824));
  EXPECT_EQ(L.component_aj("logic"), 27780 + 5560 + 5560 + (early ? 0 : 27780) + (acc ? 5560 : 0));
  EXPECT_EQ(o.run.cycles, 4u + (early ? 3u : 4u) + (acc ? 1u : 0u));
  EXPECT_EQ(L.component_aj("leakage"), static_cast<int64_t>(o.run.cycles) * 13900);
}

TEST(Mc2ramDatapath, PaperDefaultHitsHeadlineCyclesAndPower) {
  // Calibration check (docs/mc2ram.md): ~4 cycles/sample and ~91 uW at 1 GHz for one chain, long run.
  Job j;
  j.lanes = 1;
  j.samples = 50000;
  j.seed = 1;
  const Out o = run(j);
  const double cps = static_cast<double>(o.run.cycles) / j.samples;
  const double uw = o.run.ledger.total_pj() / static_cast<double>(o.run.cycles) * 1e3;  // pJ/ns -> uW x1e3
  EXPECT_NEAR(cps, 4.0, 0.15);
  EXPECT_NEAR(uw, 91.0, 3.0);
}

// ---------------------------------------------------------------- quality of the ideal macro
TEST(Mc2ramDatapath, IdealSamplesMatchAnalyticGmm) {
  // 4 chains x 50000 draws (bulk ESS ~ 5000 per dim for this GMM and step). Tolerances:
  //  * mean: mixture sd ~1.2-1.6, MCSE ~ sd / sqrt(ESS) ~ 0.02; plus the fixed-point bias (DAC 10 bits,
  //    ADC 8 bits, LUTs) measured below 0.02 -> |mean error| < 0.1 (> 4 MCSE);
  //  * component mass: binomial-with-autocorrelation sd ~ 0.5 / sqrt(ESS_switch) ~ 0.01 -> 0.04;
  //  * TV on a 40x40 grid over +-4 sd: the histogram noise floor of 200k correlated draws is ~0.03 (the
  //    native double MH gives 0.03 too) -> < 0.06; KL < 0.03.
  Job j;
  j.samples = 50000;
  const Out o = run(j);
  const auto s = diag::summarize(o.draws, j.gmm, static_cast<double>(o.run.accepts) / (4.0 * j.samples));
  const Eigen::VectorXd m = j.gmm.mean();
  for (int k = 0; k < 2; ++k) EXPECT_NEAR(s.mean[k], m(k), 0.1) << "dim " << k;
  const Eigen::MatrixXd cov = j.gmm.covariance();
  for (int k = 0; k < 2; ++k) EXPECT_NEAR(s.sd[k], std::sqrt(cov(k, k)), 0.1) << "dim " << k;
  for (int k = 0; k < 2; ++k) EXPECT_NEAR(s.mass[k], 0.5, 0.04);
  EXPECT_LT(s.fit.tv, 0.06);
  EXPECT_LT(s.fit.kl, 0.03);
  for (double r : s.rhat) EXPECT_LT(r, 1.01);
  EXPECT_GT(s.acceptance, 0.2);
  EXPECT_LT(s.acceptance, 0.6);
}

// ---------------------------------------------------------------- knobs
TEST(Mc2ramKnobs, AdcTwoBitsIsWorseThanEightBits) {
  // 2 bits over +-8 Mahalanobis units: LSB 4 units, the density is almost flat over +-2 units -> the
  // samples spread far too wide. Margin: TV(2 bits) > TV(8 bits) + 0.15 (measured ~0.4 vs ~0.04).
  Job j;
  const double t8 = tv(j);
  j.knobs.adc_bits = 2;
  const double t2 = tv(j);
  EXPECT_GT(t2, t8 + 0.15) << "t2 " << t2 << " t8 " << t8;
}

TEST(Mc2ramKnobs, CoarseDacIsWorseThanFineDac) {
  // A 3-bit DAC evaluates the density on a grid of 1/8 of the state range (~3 user units here):
  // margin TV(3 bits) > TV(10 bits) + 0.1.
  Job j;
  const double t10 = tv(j);
  j.knobs.dac_bits = 3;
  const double t3 = tv(j);
  EXPECT_GT(t3, t10 + 0.1) << t3 << " vs " << t10;
}

TEST(Mc2ramKnobs, DacOffsetShiftsSamplesTheOtherWay) {
  // A DAC offset of +o LSB evaluates p at x + o*step*lsb: the sampled distribution moves by -o*step*lsb.
  Job j;
  j.samples = 30000;
  const Out base = run(j);
  j.knobs.dac_offset_lsb = 8;
  const Out off = run(j);
  for (int k = 0; k < 2; ++k) {
    const double shift = 8.0 * (1 << (16 - j.knobs.dac_bits)) * base.c.lsb[k];
    double m0 = 0, m1 = 0;
    for (size_t i = k; i < base.draws.data.size(); i += 2) m0 += base.draws.data[i];
    for (size_t i = k; i < off.draws.data.size(); i += 2) m1 += off.draws.data[i];
    const double n = static_cast<double>(base.draws.data.size() / 2);
    EXPECT_NEAR((m1 - m0) / n, -shift, 0.35 * shift + 0.05) << "dim " << k;
  }
}

TEST(Mc2ramKnobs, AdcNoiseAndOffsetDegradeTheFit) {
  // Noise of 16 LSB (1 Mahalanobis unit at 8 bits) on each column: the noisy acceptance test samples a
  // wider distribution. Offset 16 LSB shifts every y by 1 unit. Margins 0.05 (measured well above).
  Job j;
  const double t0 = tv(j);
  Job n = j;
  n.knobs.adc_noise_lsb = 16;
  EXPECT_GT(tv(n), t0 + 0.05);
  Job o = j;
  o.knobs.adc_offset_lsb = 16;
  EXPECT_GT(tv(o), t0 + 0.05);
}

TEST(Mc2ramKnobs, ShortRngPeriodBreaksTheChain) {
  // A period of 45 words = 5 iterations: the proposals repeat every 5 steps; the chain becomes a
  // deterministic cycle and cannot explore (TV > 0.5).
  Job j;
  j.knobs.rng_period = 45;
  EXPECT_GT(tv(j), 0.5);
}

TEST(Mc2ramKnobs, CorrelatedRngWordsDegradeTheFit) {
  // 1 fresh bit per 16-bit word: consecutive uniforms are shifts of each other (an LFSR read every clock),
  // the CLT sum is far from Gaussian and the accept uniform is correlated with the step.
  Job j;
  const double t0 = tv(j);
  j.knobs.rng_fresh_bits = 1;
  EXPECT_GT(tv(j), t0 + 0.05);
}

TEST(Mc2ramKnobs, CellMismatchAndBitlineNoiseDegradeTheFit) {
  Job j;
  const double t0 = tv(j);
  Job m = j;
  m.knobs.cell_mismatch = 0.3;  // 30% sigma per cell: a different (wrong) density is stored
  EXPECT_GT(tv(m), t0 + 0.03);
  Job b = j;
  b.knobs.bl_noise = 1.0;  // 1 Mahalanobis unit of noise per column
  EXPECT_GT(tv(b), t0 + 0.05);
}

TEST(Mc2ramKnobs, SupplyScalesEnergyAndNoise) {
  // Dynamic energy ~ V^2, leakage ~ V; the same samples in the ideal (noise-free) case.
  Job j;
  j.lanes = 1;
  j.samples = 2000;
  const Out a = run(j);
  j.knobs.vdd = 0.7;
  const Out b = run(j);
  EXPECT_EQ(a.run.states, b.run.states);
  const double r = (0.7 / 0.9) * (0.7 / 0.9);
  EXPECT_NEAR(static_cast<double>(b.run.ledger.component_aj("rng")) / a.run.ledger.component_aj("rng"), r, 2e-3);  // per-event aJ rounding (348 aJ: +-0.5 aJ)
  EXPECT_NEAR(static_cast<double>(b.run.ledger.component_aj("adc")) / a.run.ledger.component_aj("adc"), r, 2e-3);
  EXPECT_NEAR(static_cast<double>(b.run.ledger.component_aj("leakage")) / a.run.ledger.component_aj("leakage"),
              0.7 / 0.9, 1e-3);
  // With bit-line noise, a lower supply is noisier (sigma ~ 1/V): worse fit.
  Job n;
  n.knobs.bl_noise = 0.3;
  const double t09 = tv(n);
  n.knobs.vdd = 0.6;
  EXPECT_GT(tv(n), t09 + 0.01);
}

// ---------------------------------------------------------------- validation
TEST(Mc2ramValidation, BadGmmsAreRejectedBeforeAnythingIsWritten) {
  auto g = diag::Gmm::paper_default();
  auto bad = [](diag::Gmm x) { EXPECT_THROW(compile_gmm(x), ConfigError); };
  auto notpd = g;
  notpd.covs[0] << 1, 2, 2, 1;
  bad(notpd);
  auto wsum = g;
  wsum.weights = {0.5, 0.6};
  bad(wsum);
  auto nan = g;
  nan.means[1](0) = std::nan("");
  bad(nan);
  bad(mc2ram_test::random_gmm(9, 2, 1));  // K beyond the array
  bad(mc2ram_test::random_gmm(2, 9, 1));  // D beyond the array
  CompileOptions o;
  o.weight_bits = 1;
  EXPECT_THROW(compile_gmm(g, o), ConfigError);
  EXPECT_NO_THROW(compile_gmm(mc2ram_test::random_gmm(8, 8, 3)));
}

TEST(Mc2ramValidation, BadKnobsAreRejected) {
  Knobs k;
  k.adc_bits = 13;
  EXPECT_THROW(k.validate(), ConfigError);
  k = Knobs{};
  k.vdd = 0.3;
  EXPECT_THROW(k.validate(), ConfigError);
  k = Knobs{};
  k.bl_noise = -1;
  EXPECT_THROW(k.validate(), ConfigError);
  k = Knobs{};
  k.rng_fresh_bits = 20;
  EXPECT_THROW(k.validate(), ConfigError);
}

// ---- issue 10: the datapath entry points are defined for every register value
TEST(Mc2ramValidation, LseFoldIsDefinedForExtremeInputs) {
  // The pair from the robustness pass: acc - l = -1 - INT32_MAX overflowed into a negative LUT index.
  const int32_t pair[2] = {-1, INT32_MAX};
  EXPECT_EQ(Datapath::lse_fold(pair, 2), INT32_MAX);  // max + LUT[>= 8 nat] = max, saturated
  const int32_t lows[3] = {INT32_MIN, INT32_MIN, INT32_MIN};
  // fold 1: d = 0 -> +LUT[0]; fold 2: d = LUT[0] -> +LUT(LUT[0])
  EXPECT_EQ(Datapath::lse_fold(lows, 3), INT32_MIN + Datapath::lse_lut(0) + Datapath::lse_lut(Datapath::lse_lut(0)));
  const int32_t highs[2] = {INT32_MAX, INT32_MAX};
  EXPECT_EQ(Datapath::lse_fold(highs, 2), INT32_MAX);
  EXPECT_EQ(Datapath::lse_lut(-5), 0);
}

TEST(Mc2ramValidation, ConfigureRejectsOutOfRangeProgramsByName) {
  const Compiled c = compile_gmm(diag::Gmm::paper_default());
  const EnergyModel e = EnergyModel::from_table(table(), 0.9);
  auto error_of = [&](const Program& p) -> std::string {
    Datapath dp;
    try {
      dp.configure(p, Knobs{}, 1, 1, e);
    } catch (const ConfigError& ex) {
      return ex.what();
    }
    return "";
  };
  EXPECT_EQ(error_of(c.program), "");
  Program p = c.program;
  p.comp[1].c = INT32_MAX;
  EXPECT_NE(error_of(p).find("c[1]"), std::string::npos) << error_of(p);
  p = c.program;
  p.comp[0].c = -kMaxAbsC - 1;
  EXPECT_NE(error_of(p).find("c[0]"), std::string::npos);
  p = c.program;
  p.comp[0].a[1][0] = INT32_MIN;
  EXPECT_NE(error_of(p).find("A[0][1][0]"), std::string::npos) << error_of(p);
  p = c.program;
  p.y_scale_log2 = INT32_MIN;
  EXPECT_NE(error_of(p).find("y_scale_log2"), std::string::npos);
  EXPECT_TRUE(weight_fits(127, 8));
  EXPECT_FALSE(weight_fits(128, 8));
  EXPECT_FALSE(weight_fits(INT32_MIN, 16));
  EXPECT_FALSE(weight_fits(-128, 8));
}
