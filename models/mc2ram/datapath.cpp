// MC2RAM fixed-point datapath (spec: docs/mc2ram.md, "Fixed-point specification").
#include "cimsim/mc2ram/datapath.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "cimsim/core/error.hpp"
#include "cimsim/core/rng.hpp"

namespace cimsim::mc2ram {

namespace {
constexpr double kVnom = 0.9;
constexpr double kVth = 0.35;  // effective threshold for the mismatch-vs-overdrive scaling

// Correction LUT of the pairwise log-sum-exp: f(d) = log(1 + e^-d), 64 entries of 1/8 nat.
struct LseLut {
  std::array<int32_t, 64> v{};
  LseLut() {
    for (int i = 0; i < 64; ++i)
      v[i] = static_cast<int32_t>(std::lround(256.0 * std::log1p(std::exp(-(i * 32 + 16) / 256.0))));
  }
};
// Mantissa LUT of log u: log(1 + (m + 0.5)/64), 64 entries.
struct LogLut {
  std::array<int32_t, 64> v{};
  LogLut() {
    for (int m = 0; m < 64; ++m) v[m] = static_cast<int32_t>(std::lround(256.0 * std::log1p((m + 0.5) / 64.0)));
  }
};
const LseLut& lse_table() {
  static const LseLut t;
  return t;
}
const LogLut& log_table() {
  static const LogLut t;
  return t;
}
constexpr int32_t kLn2Fx = 177;  // round(256 ln 2)

int32_t sat16(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, -32768, 32767));
}
}  // namespace

bool Knobs::operator==(const Knobs& o) const {
  return dac_bits == o.dac_bits && dac_offset_lsb == o.dac_offset_lsb && dac_inl_lsb == o.dac_inl_lsb &&
         adc_bits == o.adc_bits && adc_offset_lsb == o.adc_offset_lsb && adc_noise_lsb == o.adc_noise_lsb &&
         rng_bits == o.rng_bits && rng_fresh_bits == o.rng_fresh_bits && rng_period == o.rng_period &&
         cell_mismatch == o.cell_mismatch && bl_noise == o.bl_noise && vdd == o.vdd;
}

void Knobs::validate() const {
  auto bad = [](const std::string& what) { throw ConfigError("mc2ram knob " + what); };
  if (dac_bits < 1 || dac_bits > 16) bad("dac_bits must be 1..16, got " + std::to_string(dac_bits));
  if (adc_bits < 1 || adc_bits > kMaxAdcBits) bad("adc_bits must be 1..12, got " + std::to_string(adc_bits));
  if (rng_bits < 4 || rng_bits > 24) bad("rng_bits must be 4..24, got " + std::to_string(rng_bits));
  if (rng_fresh_bits < 0 || rng_fresh_bits > rng_bits)
    bad("rng_fresh_bits must be 0..rng_bits, got " + std::to_string(rng_fresh_bits));
  for (auto [n, v] : {std::pair{"dac_offset_lsb", dac_offset_lsb}, {"dac_inl_lsb", dac_inl_lsb},
                      {"adc_offset_lsb", adc_offset_lsb}})
    if (!std::isfinite(v) || std::abs(v) > 1e4) bad(std::string(n) + " must be finite and |v| <= 1e4");
  for (auto [n, v] : {std::pair{"adc_noise_lsb", adc_noise_lsb}, {"cell_mismatch", cell_mismatch},
                      {"bl_noise", bl_noise}})
    if (!std::isfinite(v) || v < 0 || v > 1e4) bad(std::string(n) + " must be finite, >= 0 and <= 1e4");
  if (!(vdd >= 0.5 && vdd <= 1.1)) bad("vdd must be 0.5..1.1 V, got " + std::to_string(vdd));
}

// ---------------------------------------------------------------- energy
std::vector<std::string> EnergyModel::entries() {
  std::vector<std::string> r;
  for (const char* n : {"rng_bit", "dac_bit", "cell_bit", "column", "adc_cmp_bit", "adc_cap_unit", "square", "lse",
                        "accept", "writeback_word", "output_word", "leak_cycle_lane"})
    r.push_back(std::string("mc2ram.") + n);
  return r;
}

EnergyModel EnergyModel::from_table(const EnergyTable& t, double vdd) {
  t.require(entries());
  const double dyn = (vdd / kVnom) * (vdd / kVnom), leak = vdd / kVnom;
  auto g = [&](const char* n, double s) { return pj_to_aj(t.pj(std::string("mc2ram.") + n) * s); };
  EnergyModel e;
  e.rng_bit = g("rng_bit", dyn);
  e.dac_bit = g("dac_bit", dyn);
  e.cell_bit = g("cell_bit", dyn);
  e.column = g("column", dyn);
  e.adc_cmp_bit = g("adc_cmp_bit", dyn);
  e.adc_cap_unit = g("adc_cap_unit", dyn);
  e.square = g("square", dyn);
  e.lse = g("lse", dyn);
  e.accept = g("accept", dyn);
  e.writeback_word = g("writeback_word", dyn);
  e.output_word = g("output_word", dyn);
  e.leak_cycle_lane = g("leak_cycle_lane", leak);
  return e;
}

int64_t EnergyModel::adc_aj(int bits) const { return adc_cmp_bit * bits + adc_cap_unit * (int64_t{1} << bits); }

// ---------------------------------------------------------------- timing
int fine_cycles(int adc_bits) {
  return adc_bits <= kCoarseBits ? 0 : (adc_bits - kCoarseBits + kFineBitsPerCycle - 1) / kFineBitsPerCycle;
}
int lse_cycles(int k) {
  int c = 1;
  while ((1 << c) < k) ++c;
  return c;  // 1 for K <= 2, +1 per doubling
}
int iteration_cycles(int adc_bits, int k, bool early_reject, bool accept) {
  return 2 + (early_reject ? 0 : fine_cycles(adc_bits)) + lse_cycles(k) + (accept ? 1 : 0);
}
int init_cycles(int adc_bits, int k) { return iteration_cycles(adc_bits, k, false, false); }

// ---------------------------------------------------------------- spec pieces
int32_t Datapath::lse_lut(int32_t d) { return d < 0 || d >= 64 * 32 ? 0 : lse_table().v[d >> 5]; }

int32_t Datapath::lse_fold(const int32_t* l, int k) {
  int64_t acc = l[0];
  for (int i = 1; i < k; ++i) {
    const int64_t hi = std::max<int64_t>(acc, l[i]);
    const int64_t d = acc > l[i] ? acc - l[i] : l[i] - acc;  // 64 bits: no overflow, never negative
    acc = hi + lse_lut(static_cast<int32_t>(std::min<int64_t>(d, 64 * 32)));
  }
  return static_cast<int32_t>(std::clamp<int64_t>(acc, INT32_MIN, INT32_MAX));
}

bool weight_fits(int32_t a, int weight_bits) {
  if (weight_bits < 1 || weight_bits > 31) return false;
  const int64_t m = (int64_t{1} << (weight_bits - 1)) - 1;
  return int64_t{a} >= -m && int64_t{a} <= m;
}

int32_t Datapath::log_u_fx(uint32_t w, int bits) {
  const uint64_t v = 2 * uint64_t{w} + 1;  // u = v / 2^(bits+1)
  int n = 63 - __builtin_clzll(v);          // leading one position
  const uint32_t m = n >= 6 ? static_cast<uint32_t>(v >> (n - 6)) & 63u : static_cast<uint32_t>(v << (6 - n)) & 63u;
  return (n - bits - 1) * kLn2Fx + log_table().v[m];
}

uint32_t Datapath::rng_word(int l, uint64_t t) const {
  const int r = kn_.rng_bits;
  const int f = kn_.rng_fresh_bits == 0 ? r : kn_.rng_fresh_bits;
  const CounterRng gen(seed_, 1 + static_cast<uint64_t>(l));
  if (kn_.rng_period > 0) t %= kn_.rng_period;
  const uint64_t p = t * static_cast<uint64_t>(f);  // first stream bit of the word
  const uint64_t blk = p >> 6;
  const int off = static_cast<int>(p & 63);
  uint64_t v = gen.bits(blk) >> off;
  if (off + r > 64) v |= gen.bits(blk + 1) << (64 - off);
  return static_cast<uint32_t>(v & ((uint64_t{1} << r) - 1));
}

double Datapath::dac(int32_t x) const {
  const int b = kn_.dac_bits;
  if (b >= kStateBits) {
    if (kn_.dac_offset_lsb == 0 && kn_.dac_inl_lsb == 0) return x;
    const double t = x / 32768.0;
    return x + kn_.dac_offset_lsb + kn_.dac_inl_lsb * (1.0 - t * t);
  }
  const int32_t step = 1 << (kStateBits - b);
  const int32_t floor_x = static_cast<int32_t>(static_cast<uint32_t>(x + 32768) & ~static_cast<uint32_t>(step - 1)) - 32768;
  double v = floor_x + step / 2;  // mid-rise level
  if (kn_.dac_offset_lsb != 0 || kn_.dac_inl_lsb != 0) {
    const double t = v / 32768.0;
    v += step * (kn_.dac_offset_lsb + kn_.dac_inl_lsb * (1.0 - t * t));
  }
  return v;
}

// ---------------------------------------------------------------- configure / start
void Datapath::configure(const Program& p, const Knobs& k, int lanes, uint64_t seed, const EnergyModel& e) {
  k.validate();
  if (p.k < 1 || p.k > kMaxK) throw ConfigError("mc2ram: K must be 1..8, got " + std::to_string(p.k));
  if (p.d < 1 || p.d > kMaxD) throw ConfigError("mc2ram: D must be 1..8, got " + std::to_string(p.d));
  if (lanes < 1 || lanes > kMaxLanes) throw ConfigError("mc2ram: chains must be 1..8, got " + std::to_string(lanes));
  if (p.y_scale_log2 < -64 || p.y_scale_log2 > 64)
    throw ConfigError("mc2ram: y_scale_log2 must be -64..64, got " + std::to_string(p.y_scale_log2));
  if (p.weight_bits < 2 || p.weight_bits > 16)
    throw ConfigError("mc2ram: weight_bits must be 2..16, got " + std::to_string(p.weight_bits));
  for (int c = 0; c < p.k; ++c) {
    for (int i = 0; i < p.d; ++i)
      for (int j = 0; j < p.d; ++j)
        if (!weight_fits(p.comp[c].a[i][j], p.weight_bits))
          throw ConfigError("mc2ram: weight A[" + std::to_string(c) + "][" + std::to_string(i) + "][" +
                            std::to_string(j) + "] = " + std::to_string(p.comp[c].a[i][j]) + " does not fit " +
                            std::to_string(p.weight_bits) + " bit-cells");
    if (p.comp[c].c < -kMaxAbsC || p.comp[c].c > kMaxAbsC)
      throw ConfigError("mc2ram: c[" + std::to_string(c) + "] = " + std::to_string(p.comp[c].c) +
                        " is outside +-2^24 (1/256 nat)");
  }
  p_ = p;
  kn_ = k;
  e_ = e;
  lanes_ = lanes;
  seed_ = seed;
  ledger_.clear();
  accepts_ = early_ = 0;
  const double ov = (kVnom - kVth) / std::max(0.05, kn_.vdd - kVth);
  mis_eff_ = kn_.cell_mismatch * ov;
  bl_eff_ = kn_.bl_noise * kVnom / kn_.vdd;
  wmis_.assign(static_cast<size_t>(lanes) * kMaxK * kMaxD * kMaxD, 0.0);
  for (int l = 0; l < lanes; ++l) {
    const CounterRng mis(seed, 100 + static_cast<uint64_t>(l));
    for (int c = 0; c < p.k; ++c)
      for (int i = 0; i < p.d; ++i)
        for (int j = 0; j < p.d; ++j) {
          const size_t idx = ((static_cast<size_t>(l) * kMaxK + c) * kMaxD + i) * kMaxD + j;
          const double a = p.comp[c].a[i][j];
          wmis_[idx] = mis_eff_ > 0 ? a * (1.0 + mis_eff_ * mis.gauss(idx)) : a;
        }
  }
}

void Datapath::start(const std::vector<std::array<int32_t, kMaxD>>& init) {
  for (int l = 0; l < lanes_; ++l) {
    for (int j = 0; j < kMaxD; ++j) x_[l][j] = j < p_.d ? sat16(init.at(l)[j]) : 0;
    iter_[l] = 0;
    int32_t codes[kMaxK * kMaxD];
    lse_[l] = evaluate(l, x_[l].data(), codes, 0);
    // Init evaluation energy: DAC + array + full ADC + logic (no RNG, no accept).
    const int64_t cols = int64_t{p_.k} * p_.d;
    ledger_.add("dac", p_.d, e_.dac_bit * kn_.dac_bits);
    ledger_.add("array", 1, cols * p_.d * p_.weight_bits * e_.cell_bit + cols * e_.column);
    ledger_.add("adc", cols, e_.adc_aj(kn_.adc_bits));
    ledger_.add("logic", 1, cols * e_.square + (p_.k - 1) * e_.lse);
  }
}

// ---------------------------------------------------------------- evaluation (DAC, MAC, ADC, squares, LSE)
int32_t Datapath::evaluate(int l, const int32_t* x, int32_t* codes, uint64_t eval_no) const {
  const int d = p_.d, b = kn_.adc_bits;
  double v[kMaxD];
  for (int j = 0; j < d; ++j) v[j] = dac(x[j]);
  // ADC: code = clamp(floor(y_acc * 2^-sh + noise + offset + 1/2)), sh = y_scale_log2 + 4 - b.
  const double gain0 = std::ldexp(1.0, -(p_.y_scale_log2 + (kAdcFsLog2 + 1) - b));
  const double lsb_y = std::ldexp(1.0, kAdcFsLog2 + 1 - b);  // ADC LSB in Mahalanobis units
  const int32_t cmax = (1 << (b - 1)) - 1, cmin = -(1 << (b - 1));
  const bool noisy = bl_eff_ > 0 || kn_.adc_noise_lsb > 0;
  const CounterRng nz(seed_, 1000 + static_cast<uint64_t>(l));
  int32_t lk[kMaxK];
  for (int c = 0; c < p_.k; ++c) {
    const Component& cp = p_.comp[c];
    const double gain = std::ldexp(gain0, -cp.y_shift);  // per-component exponent (column-group ADC gain)
    const double* w = &wmis_[((static_cast<size_t>(l) * kMaxK + c) * kMaxD) * kMaxD];
    int64_t q = 0;
    for (int i = 0; i < d; ++i) {
      double acc = 0;
      for (int j = 0; j < d; ++j) acc += w[i * kMaxD + j] * v[j];
      double y = (acc - static_cast<double>(cp.bias[i])) * gain + kn_.adc_offset_lsb + 0.5;
      if (noisy) {
        const uint64_t gi = (eval_no * (kMaxK * kMaxD) + static_cast<uint64_t>(c * d + i)) * 2;
        if (bl_eff_ > 0) y += bl_eff_ / lsb_y * nz.gauss(gi);
        if (kn_.adc_noise_lsb > 0) y += kn_.adc_noise_lsb * nz.gauss(gi + 1);
      }
      const double fl = std::floor(y);
      const int32_t code = fl >= cmax ? cmax : fl <= cmin ? cmin : static_cast<int32_t>(fl);
      codes[c * d + i] = code;
      const int64_t yfx = int64_t{code} * (int64_t{1} << (kMaxAdcBits - b));  // 1/256 Mahalanobis units
      q += yfx * yfx;
    }
    lk[c] = cp.c - static_cast<int32_t>(q >> (2 * kYFrac + 1 - kFl));
  }
  return lse_fold(lk, p_.k);
}

// ---------------------------------------------------------------- one iteration
void Datapath::stage_propose(int l, LaneIter& it) {
  const int d = p_.d, r = kn_.rng_bits;
  const uint64_t base = iter_[l] * static_cast<uint64_t>(4 * d + 1);
  const int64_t offs = 4 * ((int64_t{1} << r) - 1);
  const uint64_t scale = p_.prop_scale;
  for (int j = 0; j < d; ++j) {
    int64_t s = 0;
    for (int u = 0; u < 4; ++u) s += rng_word(l, base + 4 * j + u);
    const int64_t g = 2 * s - offs;
    const uint64_t mag = (static_cast<uint64_t>(g < 0 ? -g : g) * scale) >> (r + kPropFrac);
    const int64_t delta = g < 0 ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag);
    it.prop[j] = sat16(int64_t{x_[l][j]} + delta);
  }
  for (int j = d; j < kMaxD; ++j) it.prop[j] = 0;
  it.log_u = log_u_fx(rng_word(l, base + 4 * d), r);
  it.lse_cur = lse_[l];
}

void Datapath::stage_mac_coarse(int l, LaneIter& it) {
  it.lse_prop = evaluate(l, it.prop.data(), it.code.data(), iter_[l] + 1);
  // Early reject (timing only): from the coarse codes alone, an upper bound of lse' below the threshold.
  const int b = kn_.adc_bits;
  it.early_reject = false;
  if (b > kCoarseBits) {
    const int sh = b - kCoarseBits;
    int32_t ub[kMaxK];
    int32_t mx = INT32_MIN;
    for (int c = 0; c < p_.k; ++c) {
      int64_t q = 0;
      for (int i = 0; i < p_.d; ++i) {
        const int32_t lo = (it.code[c * p_.d + i] >> sh) * (1 << sh), hi = lo + (1 << sh) - 1;
        const int64_t m = (lo <= 0 && hi >= 0) ? 0 : std::min(std::abs(int64_t{lo}), std::abs(int64_t{hi}));
        const int64_t yfx = m * (int64_t{1} << (kMaxAdcBits - b));
        q += yfx * yfx;
      }
      ub[c] = p_.comp[c].c - static_cast<int32_t>(q >> (2 * kYFrac + 1 - kFl));
      mx = std::max(mx, ub[c]);
    }
    const int64_t bound = int64_t{mx} + int64_t{p_.k - 1} * lse_lut(0);
    it.early_reject = bound <= int64_t{it.lse_cur} + it.log_u;
  }
}

void Datapath::stage_lse_accept(int l, LaneIter& it) {
  it.accept = int64_t{it.lse_prop} > int64_t{it.lse_cur} + it.log_u;
  if (it.accept) {
    x_[l] = it.prop;
    lse_[l] = it.lse_prop;
    ++accepts_;
  }
  if (it.early_reject) ++early_;
  ++iter_[l];
}

int Datapath::step_lane(int l, LaneIter& it) {
  stage_propose(l, it);
  stage_mac_coarse(l, it);
  stage_lse_accept(l, it);
  account_iteration(it);
  return iteration_cycles(kn_.adc_bits, p_.k, it.early_reject, it.accept);
}

void Datapath::account_iteration(const LaneIter& it) {
  const int d = p_.d, k = p_.k;
  const int64_t cols = int64_t{k} * d;
  ledger_.add("rng", 4 * d + 1, e_.rng_bit * kn_.rng_bits);
  ledger_.add("dac", d, e_.dac_bit * kn_.dac_bits);
  ledger_.add("array", 1, cols * d * p_.weight_bits * e_.cell_bit + cols * e_.column);
  const int coarse = std::min(kn_.adc_bits, kCoarseBits);
  int64_t adc = cols * e_.adc_aj(coarse);
  if (!it.early_reject && kn_.adc_bits > kCoarseBits) adc += cols * (e_.adc_aj(kn_.adc_bits) - e_.adc_aj(coarse));
  ledger_.add_energy("adc", cols, adc);
  int64_t logic = e_.accept + d * e_.output_word;
  if (!it.early_reject) logic += cols * e_.square + (k - 1) * e_.lse;
  if (it.accept) logic += d * e_.writeback_word;
  ledger_.add_energy("logic", 1, logic);
}

void Datapath::account_leakage(int64_t cycles) {
  ledger_.add("leakage", cycles, e_.leak_cycle_lane * lanes_);
}

FunctionalRun run_functional(const Program& p, const Knobs& k, int lanes, uint32_t samples, uint64_t seed,
                             const std::vector<std::array<int32_t, kMaxD>>& init, const EnergyModel& e) {
  Datapath dp;
  dp.configure(p, k, lanes, seed, e);
  dp.start(init);
  FunctionalRun r;
  r.cycles = static_cast<uint64_t>(init_cycles(k.adc_bits, p.k));
  r.states.resize(static_cast<size_t>(lanes) * samples * p.d);
  LaneIter it{};
  uint64_t longest = 0;
  for (int l = 0; l < lanes; ++l) {
    uint64_t lane_cycles = 0;
    for (uint32_t s = 0; s < samples; ++s) {
      lane_cycles += static_cast<uint64_t>(dp.step_lane(l, it));
      for (int j = 0; j < p.d; ++j) r.states[(static_cast<size_t>(l) * samples + s) * p.d + j] = dp.state(l)[j];
    }
    longest = std::max(longest, lane_cycles);
  }
  r.cycles += longest;
  dp.account_leakage(static_cast<int64_t>(r.cycles));
  r.accepts = dp.accepts();
  r.early_rejects = dp.early_rejects();
  r.ledger = dp.ledger();
  return r;
}

}  // namespace cimsim::mc2ram
