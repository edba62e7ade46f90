// MC2RAM host software: GMM compilation, register driver, MH jobs, native MH baseline.
#include "cimsim/mc2ram/driver.hpp"

#include <algorithm>
#include <cmath>
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
    const double v = std::round((x[j] - origin[j]) / lsb);
    s[j] = static_cast<int32_t>(std::clamp(v, -32768.0, 32767.0));
  }
  return s;
}

Compiled compile_gmm(const diag::Gmm& gmm, const CompileOptions& opt) {
  gmm.validate(kMaxK, kMaxD);
  if (opt.weight_bits < 2 || opt.weight_bits > 16)
    throw ConfigError("mc2ram: weight_bits must be 2..16, got " + std::to_string(opt.weight_bits));
  if (!(opt.box_sigmas >= 1 && opt.box_sigmas <= 64)) throw ConfigError("mc2ram: box_sigmas must be 1..64");
  if (!(opt.step >= 0) || !std::isfinite(opt.step)) throw ConfigError("mc2ram: proposal step must be finite, >= 0");
  const int k = gmm.k(), d = gmm.d();
  Compiled c;
  c.program.k = k;
  c.program.d = d;
  c.program.weight_bits = opt.weight_bits;
  // State format: origin = mixture mean, LSB = power of two so every component's +-box fits in 16 bits.
  const Eigen::VectorXd m = gmm.mean();
  c.origin.assign(m.data(), m.data() + d);
  double rmax = 0, sd_sum = 0;
  for (int i = 0; i < k; ++i)
    for (int j = 0; j < d; ++j) {
      const double sd = std::sqrt(gmm.covs[i](j, j));
      rmax = std::max(rmax, std::abs(gmm.means[i](j) - m(j)) + opt.box_sigmas * sd);
      sd_sum += sd;
    }
  const int e = static_cast<int>(std::floor(std::log2(32767.0 / rmax)));
  if (e < -40 || e > 40) throw ConfigError("mc2ram: GMM scale out of range (state LSB 2^" + std::to_string(-e) + ")");
  c.lsb = std::ldexp(1.0, -e);
  // Weights A = L^T with Lambda = L L^T (Cholesky of the precision), scaled to weight_bits signed cells.
  std::vector<Eigen::MatrixXd> a(k);
  double amax = 0;
  for (int i = 0; i < k; ++i) {
    const Eigen::MatrixXd prec = gmm.covs[i].inverse();
    const Eigen::LLT<Eigen::MatrixXd> llt(0.5 * (prec + prec.transpose()));
    if (llt.info() != Eigen::Success)
      throw ConfigError("mc2ram: component " + std::to_string(i) + ": precision is not positive definite");
    a[i] = Eigen::MatrixXd(llt.matrixL()).transpose() * c.lsb;
    amax = std::max(amax, a[i].cwiseAbs().maxCoeff());
  }
  const double wmax = std::ldexp(1.0, opt.weight_bits - 1) - 1;
  const int fa = static_cast<int>(std::floor(std::log2(wmax / amax)));
  if (std::abs(fa) > 64) throw ConfigError("mc2ram: weight scale out of range (2^" + std::to_string(fa) + ")");
  c.program.y_scale_log2 = fa;
  const double log2pi = std::log(2.0 * M_PI);
  for (int i = 0; i < k; ++i) {
    Component& cp = c.program.comp[i];
    for (int r = 0; r < d; ++r)
      for (int q = 0; q < d; ++q) cp.a[r][q] = static_cast<int32_t>(std::lround(std::ldexp(a[i](r, q), fa)));
    for (int r = 0; r < d; ++r) {
      double b = 0;
      for (int q = 0; q < d; ++q) b += cp.a[r][q] * ((gmm.means[i](q) - m(q)) / c.lsb);
      cp.bias[r] = static_cast<int64_t>(std::llround(b));
    }
    double logdet_l = 0;  // log|L| = sum log diag(A) (in user units: divide by lsb)
    for (int r = 0; r < d; ++r) logdet_l += std::log(a[i](r, r) / c.lsb);
    const double cval = std::log(gmm.weights[i]) + logdet_l - 0.5 * d * log2pi;
    cp.c = static_cast<int32_t>(std::lround(256.0 * cval));
  }
  c.step = opt.step > 0 ? opt.step : 2.38 / std::sqrt(static_cast<double>(d)) * sd_sum / (k * d);
  const double p = std::round(c.step / c.lsb * 4096.0 * std::sqrt(3.0) / 2.0);
  if (!(p >= 1 && p <= 4294967295.0)) throw ConfigError("mc2ram: proposal step out of range for this GMM scale");
  c.program.prop_scale = static_cast<uint32_t>(p);
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
          {"knobs", k},
          {"chains", chains},
          {"samples", samples},
          {"seed", seed},
          {"use_dma", use_dma}};
}

SampleResult run_mh(HostInitiator& host, uint64_t base, const SampleJob& job, uint64_t dma_addr,
                    const uint8_t* mem_backdoor) {
  SampleResult r;
  r.compiled = compile_gmm(job.gmm, job.compile);  // validates before anything is written
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
diag::Draws native_mh(const diag::Gmm& gmm, int chains, int samples, double step, uint64_t seed, double* acceptance) {
  gmm.validate();
  const int k = gmm.k(), d = gmm.d();
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
      for (int j = 0; j < d; ++j) y[j] = x[j] + step * rng.gauss();
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
