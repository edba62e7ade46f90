// MC2RAM host software: GMM compilation, register driver, MH jobs, native MH baseline.
#include "cimsim/mc2ram/driver.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/core/rng.hpp"
#include "cimsim/mc2ram/regs.hpp"
#include "cimsim/soc/host_initiator.hpp"

namespace cimsim::mc2ram {

using namespace reg;

// ------------------------------------------------------------------------------------------------ compile
std::array<int32_t, kMaxD> Compiled::to_state(const std::vector<double>& x) const {
  std::array<int32_t, kMaxD> s{};
  for (size_t j = 0; j < x.size() && j < kMaxD; ++j) {
    const double v = std::round((x[j] - origin[j]) / lsb[j]);
    s[j] = static_cast<int32_t>(std::clamp(v, -32768.0, 32767.0));
  }
  return s;
}

nlohmann::json RealizedError::to_json() const {
  return {{"kl_bound", kl_bound},       {"tv_bound", tv_bound},       {"saturation_mass", saturation_mass},
          {"weights", weights},         {"mean_err_sd", mean_err_sd}, {"sd_rel_err", sd_rel_err},
          {"component_kl", component_kl}, {"worst", worst}};
}

std::vector<double> default_steps(const diag::Gmm& gmm) {
  const int d = gmm.d();
  std::vector<double> st(static_cast<size_t>(d));
  for (int j = 0; j < d; ++j) {
    double v = 0;
    for (int i = 0; i < gmm.k(); ++i) v += gmm.weights[i] * gmm.covs[i](j, j);
    st[j] = 2.38 / std::sqrt(static_cast<double>(d)) * std::sqrt(v);
  }
  return st;
}

namespace {

std::string fmt_g(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

// KL(N(m0, S0) || N(m1, S1)).
double gauss_kl(const Eigen::VectorXd& m0, const Eigen::MatrixXd& s0, const Eigen::VectorXd& m1,
                const Eigen::MatrixXd& s1) {
  const Eigen::LLT<Eigen::MatrixXd> l1(s1), l0(s0);
  if (l1.info() != Eigen::Success || l0.info() != Eigen::Success) return INFINITY;
  const Eigen::Index d = m0.size();
  const Eigen::MatrixXd t = l1.solve(s0);
  const Eigen::VectorXd dm = m1 - m0;
  double ld1 = 0, ld0 = 0;
  for (Eigen::Index i = 0; i < d; ++i) {
    ld1 += 2 * std::log(l1.matrixL()(i, i));
    ld0 += 2 * std::log(l0.matrixL()(i, i));
  }
  return std::max(0.0, 0.5 * (t.trace() + dm.dot(l1.solve(dm)) - static_cast<double>(d) + ld1 - ld0));
}

// The GMM the stored integers represent (see RealizedError) and its distance to the requested one.
RealizedError realized_error(const diag::Gmm& gmm, const Compiled& c, const Knobs& knobs) {
  const int k = gmm.k(), d = gmm.d();
  const Program& p = c.program;
  RealizedError e;
  const double delta = std::ldexp(1.0, kAdcFsLog2 + 1 - knobs.adc_bits);  // ADC LSB, Mahalanobis units
  const double adc_var = 1.0 + delta * delta / 12.0;
  const double dac_bin = std::ldexp(1.0, kStateBits - std::min(knobs.dac_bits, kStateBits));  // state LSBs
  std::vector<double> logw(static_cast<size_t>(k));
  std::vector<Eigen::VectorXd> mu(k);
  std::vector<Eigen::MatrixXd> cov(k);
  double tv_sat = 0;
  for (int i = 0; i < k; ++i) {
    const Component& cp = p.comp[i];
    const int ex = p.y_scale_log2 + cp.y_shift;
    Eigen::MatrixXd m(d, d);  // y = M (x - origin) - b 2^-ex, in Mahalanobis units
    Eigen::MatrixXd aq(d, d);
    Eigen::VectorXd b(d);
    for (int r = 0; r < d; ++r) {
      b(r) = static_cast<double>(cp.bias[r]);
      for (int q = 0; q < d; ++q) {
        aq(r, q) = cp.a[r][q];
        m(r, q) = std::ldexp(static_cast<double>(cp.a[r][q]), -ex) / c.lsb[q];
      }
    }
    double logdet_m = 0;
    bool singular = false;
    for (int r = 0; r < d; ++r) {
      if (cp.a[r][r] == 0) singular = true;
      else logdet_m += std::log(std::abs(m(r, r)));
    }
    if (singular) {
      e.kl_bound = INFINITY;
      e.tv_bound = 1;
      e.worst = "component " + std::to_string(i) + ": a diagonal weight quantized to 0 (the stored factor is singular)";
      e.component_kl.assign(static_cast<size_t>(k), INFINITY);
      return e;
    }
    const Eigen::VectorXd s = aq.triangularView<Eigen::Upper>().solve(b);
    mu[i] = Eigen::VectorXd(d);
    for (int j = 0; j < d; ++j) mu[i](j) = c.origin[j] + c.lsb[j] * s(j);
    const Eigen::MatrixXd mi = m.triangularView<Eigen::Upper>().solve(Eigen::MatrixXd::Identity(d, d));
    cov[i] = mi * mi.transpose() * adc_var;
    for (int j = 0; j < d; ++j) cov[i](j, j) += std::pow(dac_bin * c.lsb[j], 2) / 12.0;
    logw[i] = cp.c / 256.0 - logdet_m;
    // Saturation: beyond |y_r| >= 8 the density stops falling. Mass of that plateau <= e^{-(8 - delta)^2 / 2}
    // x (extent of y_r over the 16-bit state box) / sqrt(2 pi), per output, weighted by the component weight.
    for (int r = 0; r < d; ++r) {
      double ext = 0;
      for (int q = 0; q < d; ++q) ext += std::abs(m(r, q)) * 65536.0 * c.lsb[q];
      const double t = std::ldexp(1.0, kAdcFsLog2) - delta;
      tv_sat += gmm.weights[i] * std::exp(-0.5 * t * t) * ext / std::sqrt(2 * M_PI);
    }
  }
  const double mx = *std::max_element(logw.begin(), logw.end());
  double z = 0;
  for (double v : logw) z += std::exp(v - mx);
  double klw = 0;
  for (int i = 0; i < k; ++i) {
    const double w = std::exp(logw[i] - mx) / z;
    e.weights.push_back(w);
    klw += gmm.weights[i] * std::log(gmm.weights[i] / std::max(w, 1e-300));
  }
  klw = std::max(0.0, klw);
  double klc = 0, worst_c = 0;
  int worst_i = 0;
  for (int i = 0; i < k; ++i) {
    const double kc = gauss_kl(gmm.means[i], gmm.covs[i], mu[i], cov[i]);
    e.component_kl.push_back(kc);
    klc += gmm.weights[i] * kc;
    if (gmm.weights[i] * kc >= worst_c) worst_c = gmm.weights[i] * kc, worst_i = i;
    double me = 0, se = 0;
    for (int j = 0; j < d; ++j) {
      const double sd = std::sqrt(gmm.covs[i](j, j));
      me = std::max(me, std::abs(mu[i](j) - gmm.means[i](j)) / sd);
      se = std::max(se, std::abs(std::sqrt(cov[i](j, j)) / sd - 1.0));
    }
    e.mean_err_sd.push_back(me);
    e.sd_rel_err.push_back(se);
  }
  e.kl_bound = klw + klc;
  e.saturation_mass = std::min(1.0, tv_sat);
  e.tv_bound = std::min(1.0, std::sqrt(0.5 * e.kl_bound) + e.saturation_mass);
  if (klw >= worst_c) {
    std::string ws;
    for (int i = 0; i < k; ++i) ws += (i ? "/" : "") + fmt_g(e.weights[i]);
    e.worst = "mixture weights stored as " + ws + " (KL " + fmt_g(klw) + ")";
  } else {
    e.worst = "component " + std::to_string(worst_i) + ": sd off by up to " +
              fmt_g(100 * e.sd_rel_err[worst_i]) + " %, mean off by up to " + fmt_g(e.mean_err_sd[worst_i]) +
              " sd (weighted KL " + fmt_g(worst_c) + ")";
  }
  if (e.saturation_mass > 0.1 * e.tv_bound && e.saturation_mass > 1e-6)
    e.worst += "; ADC saturation plateau mass " + fmt_g(e.saturation_mass);
  return e;
}

}  // namespace

namespace {
/// |origin| <= lsb * 2^kMaxOriginLsbLog2: 52 mantissa bits leave >= 2^16 distinct values per LSB step.
constexpr int kMaxOriginLsbLog2 = 36;
}  // namespace

Compiled compile_gmm(const diag::Gmm& gmm, const CompileOptions& opt, const Knobs& knobs) {
  gmm.validate(kMaxK, kMaxD);
  knobs.validate();
  if (opt.weight_bits < 2 || opt.weight_bits > 16)
    throw ConfigError("mc2ram: weight_bits must be 2..16, got " + std::to_string(opt.weight_bits));
  if (!(opt.box_sigmas >= 1 && opt.box_sigmas <= 64)) throw ConfigError("mc2ram: box_sigmas must be 1..64");
  if (!(opt.step >= 0) || !std::isfinite(opt.step)) throw ConfigError("mc2ram: proposal step must be finite, >= 0");
  if (!(opt.tolerance > 0 && opt.tolerance <= 1)) throw ConfigError("mc2ram: compile tolerance must be in (0, 1]");
  const int k = gmm.k(), d = gmm.d();
  Compiled c;
  c.program.k = k;
  c.program.d = d;
  c.program.weight_bits = opt.weight_bits;
  // Proposal sd per dimension (user units).
  if (!opt.steps.empty()) {
    if (static_cast<int>(opt.steps.size()) != d)
      throw ConfigError("mc2ram: " + std::to_string(opt.steps.size()) + " proposal steps given, the GMM has D = " +
                        std::to_string(d));
    for (size_t j = 0; j < opt.steps.size(); ++j)
      if (!(opt.steps[j] > 0) || !std::isfinite(opt.steps[j]))
        throw ConfigError("mc2ram: proposal step[" + std::to_string(j) + "] must be finite and > 0");
    c.steps = opt.steps;
  } else if (opt.step > 0) {
    c.steps.assign(static_cast<size_t>(d), opt.step);
  } else {
    c.steps = default_steps(gmm);
  }
  // State format: origin = mixture mean; x_j = origin_j + lsb_j * s_j with lsb_j = step_j / P, P (the proposal
  // sd in LSBs, one register) as large as the 16-bit range allows for every component's +-box.
  const Eigen::VectorXd m = gmm.mean();
  c.origin.assign(m.data(), m.data() + d);
  double pl = INFINITY;
  for (int j = 0; j < d; ++j) {
    double r = 0;
    for (int i = 0; i < k; ++i)
      r = std::max(r, std::abs(gmm.means[i](j) - m(j)) + opt.box_sigmas * std::sqrt(gmm.covs[i](j, j)));
    pl = std::min(pl, c.steps[j] * 32767.0 / r);
  }
  constexpr double kMaxPropLsb = 4294967295.0 * 2.0 / (4096.0 * 1.7320508075688772);  // PROP_SCALE fits 32 bits
  pl = std::min(pl, std::floor(kMaxPropLsb));
  if (!(pl >= 1))
    throw ConfigError("mc2ram: the proposal step is below one state LSB (the GMM spans more than 32767 steps); "
                      "give a larger --step");
  c.prop_lsb = pl;
  c.lsb.resize(static_cast<size_t>(d));
  for (int j = 0; j < d; ++j) c.lsb[j] = c.steps[j] / pl;
  // A draw is origin + lsb * s (s a 16-bit state) in double precision: an origin more than 2^36 LSBs from 0
  // leaves fewer than 2^16 distinct doubles per LSB step and the draws collapse (a mean of 1e300 gave 8,000
  // identical draws and TV nan, exit 0). Refused with the bound.
  for (int j = 0; j < d; ++j) {
    const double bound = std::ldexp(c.lsb[j], kMaxOriginLsbLog2);
    if (!(std::abs(c.origin[j]) <= bound))
      throw ConfigError("mc2ram: dimension " + std::to_string(j) + ": the mixture mean " + fmt_g(c.origin[j]) +
                        " is more than 2^" + std::to_string(kMaxOriginLsbLog2) + " state LSBs (" + fmt_g(c.lsb[j]) +
                        " each, bound " + fmt_g(bound) +
                        ") from 0: the fixed-point state cannot represent draws there in double precision; shift the "
                        "GMM's means towards 0 or give a larger --step");
  }
  // Weights A = L^T diag(lsb), Lambda = L L^T (Cholesky of the precision); each component gets its own
  // power-of-two scale 2^e_k so its largest |A| uses the weight_bits cells (Y_SCALE = min e_k, y_shift = rest).
  std::vector<Eigen::MatrixXd> a(k);
  std::vector<int> ex(k);
  const double wmax = std::ldexp(1.0, opt.weight_bits - 1) - 1;
  for (int i = 0; i < k; ++i) {
    const Eigen::MatrixXd prec = gmm.covs[i].inverse();
    const Eigen::LLT<Eigen::MatrixXd> llt(0.5 * (prec + prec.transpose()));
    if (llt.info() != Eigen::Success)
      throw ConfigError("mc2ram: component " + std::to_string(i) + ": precision is not positive definite");
    a[i] = Eigen::MatrixXd(llt.matrixL()).transpose();
    for (int q = 0; q < d; ++q) a[i].col(q) *= c.lsb[q];
    ex[i] = static_cast<int>(std::floor(std::log2(wmax / a[i].cwiseAbs().maxCoeff())));
  }
  const int emin = *std::min_element(ex.begin(), ex.end());
  const int emax = *std::max_element(ex.begin(), ex.end());
  if (emin < -64 || emin > 64 || emax - emin > 32)
    throw ConfigError("mc2ram: weight scales out of range (component exponents 2^" + std::to_string(emin) + " .. 2^" +
                      std::to_string(emax) + "; the array supports a common -64..64 plus 0..32 per component)");
  c.program.y_scale_log2 = emin;
  const double log2pi = std::log(2.0 * M_PI);
  for (int i = 0; i < k; ++i) {
    Component& cp = c.program.comp[i];
    cp.y_shift = ex[i] - emin;
    for (int r = 0; r < d; ++r)
      for (int q = 0; q < d; ++q) cp.a[r][q] = static_cast<int32_t>(std::lround(std::ldexp(a[i](r, q), ex[i])));
    for (int r = 0; r < d; ++r) {
      double b = 0;
      for (int q = 0; q < d; ++q) b += cp.a[r][q] * ((gmm.means[i](q) - m(q)) / c.lsb[q]);
      if (!(std::abs(b) < 9.0e18)) throw ConfigError("mc2ram: component " + std::to_string(i) + ": bias out of range");
      cp.bias[r] = static_cast<int64_t>(std::llround(b));
    }
    // Constant from the stored integers: log pi + log|det M|, M = 2^-e A_q diag(1/lsb) (user units).
    double logdet = 0;
    bool zero = false;
    for (int r = 0; r < d; ++r) {
      if (cp.a[r][r] == 0) zero = true;
      else logdet += std::log(std::abs(static_cast<double>(cp.a[r][r]))) - ex[i] * M_LN2 - std::log(c.lsb[r]);
    }
    const double cval = zero ? -1e6 : std::log(gmm.weights[i]) + logdet - 0.5 * d * log2pi;
    const double cq = std::round(256.0 * cval);
    if (!(std::abs(cq) < 2.0e9))
      throw ConfigError("mc2ram: component " + std::to_string(i) + ": log-density constant out of range");
    cp.c = static_cast<int32_t>(cq);
  }
  // log pi + log|det| is only defined up to a common offset: shift all constants so the largest is 0 (keeps the
  // 1/256-nat integers small whatever the user units).
  int32_t cmax = INT32_MIN;
  for (int i = 0; i < k; ++i) cmax = std::max(cmax, c.program.comp[i].c);
  for (int i = 0; i < k; ++i) c.program.comp[i].c -= cmax;
  const double p = std::round(pl * 4096.0 * std::sqrt(3.0) / 2.0);
  if (!(p >= 1 && p <= 4294967295.0)) throw ConfigError("mc2ram: proposal step out of range for this GMM scale");
  c.program.prop_scale = static_cast<uint32_t>(p);
  c.error = realized_error(gmm, c, knobs);
  if (!(c.error.tv_bound <= opt.tolerance)) {
    const std::string msg = "mc2ram: the array cannot store this GMM within tolerance: total-variation error bound " +
                            fmt_g(c.error.tv_bound) + " > " + fmt_g(opt.tolerance) + " (" + c.error.worst +
                            "); try more --weight-bits (now " + std::to_string(opt.weight_bits) +
                            "), --dac-bits 16 (now " + std::to_string(knobs.dac_bits) +
                            "), a per-dimension --step, or --allow-approx to sample anyway";
    if (!opt.allow_approx) throw ConfigError(msg);
    c.warnings.push_back(msg);
  }
  return c;
}

std::vector<std::array<int32_t, kMaxD>> initial_states(const diag::Gmm& gmm, const Compiled& c, int chains) {
  std::vector<std::array<int32_t, kMaxD>> r;
  for (int ch = 0; ch < chains; ++ch) {
    const Eigen::VectorXd& mu = gmm.means[static_cast<size_t>(ch % gmm.k())];
    r.push_back(c.to_state(std::vector<double>(mu.data(), mu.data() + mu.size())));
  }
  return r;
}

// ------------------------------------------------------------------------------------------------ registers
std::vector<std::pair<uint32_t, uint32_t>> KnobRegs::encode(const Knobs& k) {
  k.validate();
  auto q = [](double v) { return static_cast<uint32_t>(static_cast<int32_t>(std::lround(v * 65536.0))); };
  return {{DAC_CFG, static_cast<uint32_t>(k.dac_bits)},
          {DAC_OFFSET, q(k.dac_offset_lsb)},
          {DAC_INL, q(k.dac_inl_lsb)},
          {ADC_CFG, static_cast<uint32_t>(k.adc_bits)},
          {ADC_OFFSET, q(k.adc_offset_lsb)},
          {ADC_NOISE, q(k.adc_noise_lsb)},
          {RNG_CFG, static_cast<uint32_t>(k.rng_bits) | (static_cast<uint32_t>(k.rng_fresh_bits) << 8)},
          {RNG_PERIOD, k.rng_period},
          {CELL_MISMATCH, q(k.cell_mismatch)},
          {BL_NOISE, q(k.bl_noise)},
          {VDD_MV, static_cast<uint32_t>(std::lround(k.vdd * 1000.0))}};
}

uint32_t Driver::read(uint32_t off) { return h_.read32(base_ + off); }
void Driver::write(uint32_t off, uint32_t v) { h_.write32(base_ + off, v); }

void Driver::program(const Compiled& c) {
  const Program& p = c.program;
  write(GMM_CFG, static_cast<uint32_t>(p.k) | (static_cast<uint32_t>(p.d) << 8));
  write(WEIGHT_BITS, static_cast<uint32_t>(p.weight_bits));
  write(Y_SCALE, static_cast<uint32_t>(p.y_scale_log2));
  write(PROP_SCALE, p.prop_scale);
  for (int k = 0; k < p.k; ++k) {
    const uint32_t cb = GMM_WINDOW + static_cast<uint32_t>(k) * kCompStride;
    const Component& cp = p.comp[k];
    for (int i = 0; i < p.d; ++i)
      for (int j = 0; j < p.d; ++j)
        write(cb + 4 * (kWordA + static_cast<uint32_t>(i * 8 + j)), static_cast<uint32_t>(cp.a[i][j]));
    for (int i = 0; i < p.d; ++i) {
      const uint64_t b = static_cast<uint64_t>(cp.bias[i]);
      write(cb + 4 * (kWordBias + 2 * static_cast<uint32_t>(i)), static_cast<uint32_t>(b));
      write(cb + 4 * (kWordBias + 2 * static_cast<uint32_t>(i) + 1), static_cast<uint32_t>(b >> 32));
    }
    write(cb + 4 * kWordC, static_cast<uint32_t>(cp.c));
    write(cb + 4 * kWordYShift, static_cast<uint32_t>(cp.y_shift));
  }
}

void Driver::set_knobs(const Knobs& k) {
  for (auto [off, v] : KnobRegs::encode(k)) write(off, v);
}

void Driver::configure_run(int chains, uint32_t samples, uint64_t seed,
                           const std::vector<std::array<int32_t, kMaxD>>& init, uint64_t dma_addr) {
  write(CHAINS, static_cast<uint32_t>(chains));
  write(SAMPLES, samples);
  write(SEED_LO, static_cast<uint32_t>(seed));
  write(SEED_HI, static_cast<uint32_t>(seed >> 32));
  for (size_t l = 0; l < init.size(); ++l)
    for (int j = 0; j < kMaxD; ++j)
      write(INIT_WINDOW + static_cast<uint32_t>((l * kMaxD + static_cast<size_t>(j)) * 4),
            static_cast<uint32_t>(init[l][static_cast<size_t>(j)]));
  write(DMA_ADDR_LO, static_cast<uint32_t>(dma_addr));
  write(DMA_ADDR_HI, static_cast<uint32_t>(dma_addr >> 32));
  write(CTRL, dma_addr ? CTRL_DMA_EN : 0u);
}

void Driver::start() {
  write(IRQ_STATUS, 0x7);
  write(IRQ_ENABLE, IRQ_DONE | IRQ_ERROR);
  write(CTRL, (read(CTRL) & CTRL_DMA_EN) | CTRL_START);
}

void Driver::wait_done() {
  for (;;) {
    const uint32_t st = read(STATUS);
    const uint32_t err = (st >> 8) & 0xFF;
    if (err) throw std::runtime_error("mc2ram: macro reported error code " + std::to_string(err));
    if (!(st & STATUS_BUSY) && (st & STATUS_DONE)) break;
    if (!h_.wait_irq(sc_core::sc_time(10, sc_core::SC_MS))) {
      if (!(read(STATUS) & STATUS_BUSY) && !(read(STATUS) & STATUS_DONE))
        throw std::runtime_error("mc2ram: macro neither busy nor done");
    }
    write(IRQ_STATUS, IRQ_DONE);
  }
  write(IRQ_STATUS, 0x7);
}

std::vector<int32_t> Driver::drain_fifo(size_t words) {
  std::vector<int32_t> out;
  out.reserve(words);
  write(IRQ_STATUS, 0x7);
  write(FIFO_THRESH, 32);
  write(IRQ_ENABLE, IRQ_FIFO | IRQ_DONE | IRQ_ERROR);
  while (out.size() < words) {
    uint32_t level = read(FIFO_LEVEL);
    if (level == 0) {
      const uint32_t st = read(STATUS);
      if ((st >> 8) & 0xFF) throw std::runtime_error("mc2ram: macro reported error code " + std::to_string((st >> 8) & 0xFF));
      h_.wait_irq(sc_core::sc_time(1, sc_core::SC_US));
      write(IRQ_STATUS, IRQ_DONE);
      continue;
    }
    while (level-- > 0 && out.size() < words) out.push_back(static_cast<int32_t>(read(FIFO_DATA)));
  }
  return out;
}

uint64_t Driver::cycles() { return read(CYCLES_LO) | (uint64_t{read(CYCLES_HI)} << 32); }
uint64_t Driver::accepts() { return read(ACCEPTS_LO) | (uint64_t{read(ACCEPTS_HI)} << 32); }
uint32_t Driver::early_rejects() { return read(EARLY_REJECTS); }

std::map<std::string, int64_t> Driver::energy_aj() {
  std::map<std::string, int64_t> r;
  for (uint32_t s = 0; s <= 6; ++s) {
    write(ENERGY_SEL, s);
    const uint64_t v = read(ENERGY_LO) | (uint64_t{read(ENERGY_HI)} << 32);
    r[s == 0 ? "total" : kParts[s - 1]] = static_cast<int64_t>(v);
  }
  return r;
}

// ------------------------------------------------------------------------------------------------ jobs
nlohmann::json SampleJob::to_json() const {
  nlohmann::json k = {{"dac_bits", knobs.dac_bits},         {"dac_offset_lsb", knobs.dac_offset_lsb},
                      {"dac_inl_lsb", knobs.dac_inl_lsb},   {"adc_bits", knobs.adc_bits},
                      {"adc_offset_lsb", knobs.adc_offset_lsb}, {"adc_noise_lsb", knobs.adc_noise_lsb},
                      {"rng_bits", knobs.rng_bits},         {"rng_fresh_bits", knobs.rng_fresh_bits},
                      {"rng_period", knobs.rng_period},     {"cell_mismatch", knobs.cell_mismatch},
                      {"bl_noise", knobs.bl_noise},         {"vdd", knobs.vdd}};
  return {{"gmm", gmm.to_json()},
          {"weight_bits", compile.weight_bits},
          {"box_sigmas", compile.box_sigmas},
          {"step", compile.step},
          {"steps", compile.steps},
          {"tolerance", compile.tolerance},
          {"allow_approx", compile.allow_approx},
          {"knobs", k},
          {"chains", chains},
          {"samples", samples},
          {"seed", seed},
          {"use_dma", use_dma}};
}

SampleResult run_mh(HostInitiator& host, uint64_t base, const SampleJob& job, uint64_t dma_addr,
                    const uint8_t* mem_backdoor) {
  SampleResult r;
  r.compiled = compile_gmm(job.gmm, job.compile, job.knobs);  // validates before anything is written
  job.knobs.validate();
  if (job.chains < 1 || job.chains > kMaxLanes)
    throw ConfigError("mc2ram: chains must be 1..8, got " + std::to_string(job.chains));
  if (job.samples < 1) throw ConfigError("mc2ram: samples must be >= 1");
  const int d = r.compiled.program.d, ch = job.chains;
  const uint32_t n = job.samples;
  Driver drv(host, base);
  drv.program(r.compiled);
  drv.set_knobs(job.knobs);
  drv.configure_run(ch, n, job.seed, initial_states(job.gmm, r.compiled, ch), job.use_dma ? dma_addr : 0);
  drv.start();
  std::vector<int32_t> words(static_cast<size_t>(ch) * n * d);
  if (job.use_dma) {
    drv.wait_done();
    if (mem_backdoor) {
      host.sync();
      std::memcpy(words.data(), mem_backdoor, words.size() * 4);
    } else {
      host.read(dma_addr, words.data(), words.size() * 4);
    }
  } else {
    // FIFO words are tagged ([26:24] chain, [18:16] dim, [15:0] state); each chain's words arrive in order.
    const auto fifo = drv.drain_fifo(words.size());
    drv.wait_done();
    std::vector<size_t> next(static_cast<size_t>(ch), 0);
    for (const int32_t w : fifo) {
      const auto u = static_cast<uint32_t>(w);
      const size_t c = (u >> 24) & 0x7, j = (u >> 16) & 0x7;
      if (c >= static_cast<size_t>(ch) || j >= static_cast<size_t>(d) || next[c] >= static_cast<size_t>(n) * d)
        throw std::runtime_error("mc2ram: malformed FIFO word");
      words[c * n * d + next[c]++] = static_cast<int16_t>(u & 0xFFFFu);
    }
  }
  r.draws = diag::Draws(ch, static_cast<int>(n), d);
  for (int c = 0; c < ch; ++c)
    for (uint32_t s = 0; s < n; ++s)
      for (int j = 0; j < d; ++j)
        r.draws.at(c, static_cast<int>(s), j) = r.compiled.to_user(j, words[(static_cast<size_t>(c) * n + s) * d + j]);
  r.cycles = drv.cycles();
  r.early_rejects = drv.early_rejects();
  r.acceptance = static_cast<double>(drv.accepts()) / (static_cast<double>(ch) * n);
  r.energy_aj = drv.energy_aj();
  host.sync();
  r.sim_seconds = sc_core::sc_time_stamp().to_seconds();
  return r;
}

// ------------------------------------------------------------------------------------------------ native MH
diag::Draws native_mh(const diag::Gmm& gmm, int chains, int samples, const std::vector<double>& steps, uint64_t seed,
                      double* acceptance) {
  gmm.validate();
  const int k = gmm.k(), d = gmm.d();
  if (static_cast<int>(steps.size()) != d) throw ConfigError("native_mh: need one proposal step per dimension");
  // Precompute Cholesky factors of the precisions and the constants (plain loops: the fair baseline).
  std::vector<Eigen::MatrixXd> a(k);
  std::vector<double> cst(k);
  for (int i = 0; i < k; ++i) {
    const Eigen::MatrixXd prec = gmm.covs[i].inverse();
    a[i] = Eigen::MatrixXd(Eigen::LLT<Eigen::MatrixXd>(0.5 * (prec + prec.transpose())).matrixL()).transpose();
    double ld = 0;
    for (int r = 0; r < d; ++r) ld += std::log(a[i](r, r));
    cst[i] = std::log(gmm.weights[i]) + ld - 0.5 * d * std::log(2 * M_PI);
  }
  std::vector<double> lp(static_cast<size_t>(k));
  auto logp = [&](const double* x) {
    double mx = -INFINITY;
    for (int i = 0; i < k; ++i) {
      double q = 0;
      for (int r = 0; r < d; ++r) {
        double y = 0;
        for (int c = r; c < d; ++c) y += a[i](r, c) * (x[c] - gmm.means[i](c));
        q += y * y;
      }
      lp[i] = cst[i] - 0.5 * q;
      mx = std::max(mx, lp[i]);
    }
    double s = 0;
    for (int i = 0; i < k; ++i) s += std::exp(lp[i] - mx);
    return mx + std::log(s);
  };
  diag::Draws out(chains, samples, d);
  uint64_t acc = 0;
  std::vector<double> x(d), y(d);
  for (int c = 0; c < chains; ++c) {
    SplitMix64 rng(mix64(seed) ^ mix64(static_cast<uint64_t>(c) + 77));
    const Eigen::VectorXd& mu = gmm.means[static_cast<size_t>(c % k)];
    for (int j = 0; j < d; ++j) x[j] = mu(j);
    double lx = logp(x.data());
    for (int s = 0; s < samples; ++s) {
      for (int j = 0; j < d; ++j) y[j] = x[j] + steps[j] * rng.gauss();
      const double ly = logp(y.data());
      if (std::log(1.0 - rng.uniform()) < ly - lx) {
        x.swap(y);
        lx = ly;
        ++acc;
      }
      for (int j = 0; j < d; ++j) out.at(c, s, j) = x[j];
    }
  }
  if (acceptance) *acceptance = static_cast<double>(acc) / (static_cast<double>(chains) * samples);
  return out;
}

}  // namespace cimsim::mc2ram
