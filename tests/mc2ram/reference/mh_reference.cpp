// Independent MC2RAM reference (see mh_reference.hpp). Written from docs/mc2ram.md, integer arithmetic.
#include "reference/mh_reference.hpp"

#include <algorithm>
#include <cmath>

#include "cimsim/core/rng.hpp"

namespace mc2ram_ref {
namespace {

int64_t floor_div_pow2(int64_t v, int s) {  // floor(v / 2^s), s >= 0
  return v >= 0 ? (v >> s) : -((-v + (int64_t{1} << s) - 1) >> s);
}

struct Tables {
  int32_t lse[64];
  int32_t logm[64];
  Tables() {
    for (int i = 0; i < 64; ++i) {
      const double d = (32.0 * i + 16.0) / 256.0;  // bin centre in nats
      lse[i] = static_cast<int32_t>(std::lround(std::log1p(std::exp(-d)) * 256.0));
      logm[i] = static_cast<int32_t>(std::lround(std::log1p((i + 0.5) / 64.0) * 256.0));
    }
  }
};
const Tables T;

struct Lane {
  const RefConfig& c;
  cimsim::CounterRng gen;
  explicit Lane(const RefConfig& cfg, int l) : c(cfg), gen(cfg.seed, 1 + static_cast<uint64_t>(l)) {}

  uint32_t word(uint64_t t) const {
    const int r = c.rng_bits, f = c.rng_fresh_bits ? c.rng_fresh_bits : c.rng_bits;
    if (c.rng_period) t %= c.rng_period;
    const uint64_t p = t * static_cast<uint64_t>(f);
    uint32_t w = 0;
    for (int b = 0; b < r; ++b) {
      const uint64_t n = p + static_cast<uint64_t>(b);
      w |= static_cast<uint32_t>((gen.bits(n / 64) >> (n % 64)) & 1u) << b;
    }
    return w;
  }
  int64_t dac(int32_t x) const {  // returns 2 * driven level (half-LSB levels stay integral)
    if (c.dac_bits >= 16) return 2 * int64_t{x};
    const int64_t step = int64_t{1} << (16 - c.dac_bits);
    const int64_t fl = ((int64_t{x} + 32768) / step) * step - 32768;
    return 2 * fl + step;
  }
  // Full evaluation; returns lse and writes ADC codes.
  int32_t eval(const int32_t* x, int32_t* codes) const {
    const int b = c.adc_bits;
    int32_t l[8] = {};
    for (int k = 0; k < c.k; ++k) {
      const int sh = c.y_scale_log2 + c.comp[k].y_shift + 4 - b;  // code = round(y_acc / 2^sh), v doubled -> sh+1
      int64_t q = 0;
      for (int i = 0; i < c.d; ++i) {
        int64_t acc2 = 0;  // 2 * y_acc
        for (int j = 0; j < c.d; ++j) acc2 += int64_t{c.comp[k].a[i][j]} * dac(x[j]);
        acc2 -= 2 * c.comp[k].bias[i];
        // code = floor(acc2 / 2^(sh+1) + 1/2) = floor((acc2 + 2^sh) / 2^(sh+1))
        int64_t code;
        if (sh + 1 >= 1) code = floor_div_pow2(acc2 + (int64_t{1} << sh), sh + 1);
        else code = acc2 * (int64_t{1} << (-(sh + 1)));  // integer: floor(X + 1/2) = X
        const int64_t hi = (int64_t{1} << (b - 1)) - 1, lo = -(int64_t{1} << (b - 1));
        code = std::min(hi, std::max(lo, code));
        codes[k * c.d + i] = static_cast<int32_t>(code);
        const int64_t y = code * (int64_t{1} << (12 - b));  // multiply: << of a negative value is UB
        q += y * y;
      }
      l[k] = c.comp[k].c - static_cast<int32_t>(q >> 9);
    }
    int32_t acc = l[0];
    for (int k = 1; k < c.k; ++k) {
      const int32_t d = acc > l[k] ? acc - l[k] : l[k] - acc;
      acc = std::max(acc, l[k]) + (d >= 2048 ? 0 : T.lse[d / 32]);
    }
    return acc;
  }
};

int32_t log_u(uint32_t w, int r) {
  const uint64_t v = 2 * uint64_t{w} + 1;
  int n = 0;
  while ((v >> (n + 1)) != 0) ++n;
  uint32_t m;
  if (n >= 6) m = static_cast<uint32_t>((v >> (n - 6)) & 63u);
  else m = static_cast<uint32_t>((v << (6 - n)) & 63u);
  return (n - r - 1) * 177 + T.logm[m];
}

int fine(int b) { return b <= 4 ? 0 : (b - 4 + 3) / 4; }
int lsec(int k) { return k <= 2 ? 1 : k <= 4 ? 2 : 3; }

}  // namespace

RefResult run_reference(const RefConfig& c) {
  RefResult r;
  r.states.assign(static_cast<size_t>(c.lanes) * c.samples * c.d, 0);
  std::vector<Lane> lanes;
  std::vector<std::array<int32_t, 8>> x(c.init.begin(), c.init.begin() + c.lanes);
  std::vector<int32_t> cur(c.lanes);
  int32_t codes[64];
  for (int l = 0; l < c.lanes; ++l) {
    lanes.emplace_back(c, l);
    for (int j = 0; j < 8; ++j) x[l][j] = j < c.d ? std::clamp(x[l][j], -32768, 32767) : 0;
    cur[l] = lanes[l].eval(x[l].data(), codes);
  }
  const uint64_t init = static_cast<uint64_t>(2 + fine(c.adc_bits) + lsec(c.k));
  std::vector<uint64_t> lane_cycles(static_cast<size_t>(c.lanes), 0);
  const int64_t four_max = 4 * ((int64_t{1} << c.rng_bits) - 1);
  for (uint32_t s = 0; s < c.samples; ++s) {
    for (int l = 0; l < c.lanes; ++l) {
      const Lane& ln = lanes[l];
      const uint64_t base = static_cast<uint64_t>(s) * (4 * c.d + 1);
      std::array<int32_t, 8> y{};
      for (int j = 0; j < c.d; ++j) {
        int64_t sum = 0;
        for (int u = 0; u < 4; ++u) sum += ln.word(base + 4 * j + u);
        const int64_t g = 2 * sum - four_max;
        const unsigned __int128 prod = static_cast<unsigned __int128>(g < 0 ? -g : g) * c.prop_scale;
        const int64_t mag = static_cast<int64_t>(prod >> (c.rng_bits + 12));
        y[j] = static_cast<int32_t>(std::clamp<int64_t>(x[l][j] + (g < 0 ? -mag : mag), -32768, 32767));
      }
      const int32_t lu = log_u(ln.word(base + 4 * c.d), c.rng_bits);
      const int32_t prop = ln.eval(y.data(), codes);
      // early reject from coarse codes (timing)
      bool early = false;
      if (c.adc_bits > 4) {
        const int sh = c.adc_bits - 4;
        int64_t best = INT64_MIN;
        for (int k = 0; k < c.k; ++k) {
          int64_t q = 0;
          for (int i = 0; i < c.d; ++i) {
            const int64_t lo = floor_div_pow2(codes[k * c.d + i], sh) * (int64_t{1} << sh), hi = lo + (int64_t{1} << sh) - 1;
            const int64_t m = (lo <= 0 && hi >= 0) ? 0 : std::min(lo < 0 ? -lo : lo, hi < 0 ? -hi : hi);
            const int64_t yy = m << (12 - c.adc_bits);
            q += yy * yy;
          }
          best = std::max(best, int64_t{c.comp[k].c} - (q >> 9));
        }
        early = best + int64_t{c.k - 1} * T.lse[0] <= int64_t{cur[l]} + lu;
      }
      if (early) ++r.early_rejects;
      const bool acc = int64_t{prop} > int64_t{cur[l]} + lu;
      if (acc) {
        x[l] = y;
        cur[l] = prop;
        ++r.accepts;
      }
      // each lane has its own sequencer: 2 + fine (unless early reject) + LSE + write-back (if accepted)
      lane_cycles[l] += static_cast<uint64_t>(2 + (early ? 0 : fine(c.adc_bits)) + lsec(c.k) + (acc ? 1 : 0));
      for (int j = 0; j < c.d; ++j) r.states[(static_cast<size_t>(l) * c.samples + s) * c.d + j] = x[l][j];
    }
  }
  r.cycles = init + *std::max_element(lane_cycles.begin(), lane_cycles.end());
  return r;
}

}  // namespace mc2ram_ref
