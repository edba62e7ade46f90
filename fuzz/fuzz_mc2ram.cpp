// Fuzz target: MC2RAM register and GMM/INIT-window contents through the datapath entry points (no SystemC).
// The input is what a host could write: 19 little-endian register words (missing words take a valid default),
// then (window index, value) word pairs for the GMM window (A, bias halves, c of every component) and the
// INIT window. The program and knobs are decoded as the macro decodes them (Macro::check_start,
// knobs_from_regs), then Datapath::configure / start / step_lane run a few iterations per lane. Configure may
// refuse (ConfigError = the macro's ERR_CONFIG); whatever it accepts must run without UB or a crash.
#include <algorithm>
#include <cstring>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/mc2ram/datapath.hpp"
#include "cimsim/mc2ram/regs.hpp"
#include "fuzz_util.hpp"

using namespace cimsim::mc2ram;

namespace {
enum Hdr { GMM_CFG, WEIGHT_BITS, Y_SCALE, PROP_SCALE, CHAINS, SAMPLES, SEED_LO, SEED_HI, DAC_CFG, DAC_OFFSET, DAC_INL,
           ADC_CFG, ADC_OFFSET, ADC_NOISE, RNG_CFG, RNG_PERIOD, CELL_MISMATCH, BL_NOISE, VDD_MV, kHdrWords };
constexpr uint32_t kDefault[kHdrWords] = {0x0202, 8, 0, 1000, 2, 16, 1, 0, 10, 0, 0, 8, 0, 0, 16, 0, 0, 0, 900};
constexpr uint32_t kWindowWords = kMaxK * reg::kCompWords + kMaxLanes * kMaxD;

double q16(uint32_t v) { return static_cast<int32_t>(v) / 65536.0; }

std::vector<uint8_t> words(const std::vector<uint32_t>& w) {
  std::vector<uint8_t> b(w.size() * 4);
  std::memcpy(b.data(), w.data(), b.size());
  return b;
}

const EnergyModel& energy() {
  static const EnergyModel e = EnergyModel::from_table(cimsim::EnergyTable::load_default(), 0.9);
  return e;
}
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)energy();
  if (!cimsim::fuzz::seed_dir()) return 0;
  std::vector<uint32_t> base(kDefault, kDefault + kHdrWords);
  // K = 2, D = 2: A = 16 I, c = 0 (a valid program), then the robustness pass's crash (c_0 = -1, c_1 = INT32_MAX)
  // and its INT32_MIN weight.
  std::vector<uint32_t> ok = base;
  for (uint32_t c = 0; c < 2; ++c)
    for (uint32_t i = 0; i < 2; ++i) ok.insert(ok.end(), {c * reg::kCompWords + i * 8 + i, 16});
  cimsim::fuzz::write_seed("valid-k2d2", words(ok));
  std::vector<uint32_t> crash = ok;
  crash.insert(crash.end(), {reg::kWordC, 0xFFFFFFFFu, reg::kCompWords + reg::kWordC, 0x7FFFFFFFu});
  cimsim::fuzz::write_seed("lse-overflow", words(crash));
  std::vector<uint32_t> wmin = ok;
  wmin.insert(wmin.end(), {1, 0x80000000u});
  cimsim::fuzz::write_seed("int32-min-weight", words(wmin));
  std::vector<uint32_t> noisy = ok;
  noisy[ADC_CFG] = 12;
  noisy[ADC_NOISE] = 2u << 16;
  noisy[BL_NOISE] = 1u << 15;
  noisy[CELL_MISMATCH] = 1u << 12;
  noisy[RNG_CFG] = 12 | (3u << 8);
  noisy[RNG_PERIOD] = 7;
  noisy[GMM_CFG] = 0x0808;
  cimsim::fuzz::write_seed("noisy-k8d8", words(noisy));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t n = size / 4;
  auto word = [&](size_t i) {
    uint32_t v;
    std::memcpy(&v, data + 4 * i, 4);
    return v;
  };
  uint32_t r[kHdrWords];
  for (size_t i = 0; i < kHdrWords; ++i) r[i] = i < n ? word(i) : kDefault[i];
  std::array<Component, kMaxK> window{};
  std::vector<std::array<int32_t, kMaxD>> init(kMaxLanes);
  for (auto& s : init) s.fill(0);
  for (size_t i = kHdrWords; i + 1 < n; i += 2) {
    const uint32_t w = word(i) % kWindowWords, v = word(i + 1);
    if (w < kMaxK * reg::kCompWords) {
      Component& cp = window[w / reg::kCompWords];
      const uint32_t k = w % reg::kCompWords;
      if (k < reg::kWordBias) {
        cp.a[k / 8][k % 8] = static_cast<int32_t>(v);
      } else if (k < reg::kWordC) {
        const uint32_t half = (k - reg::kWordBias) % 2;
        auto u = static_cast<uint64_t>(cp.bias[(k - reg::kWordBias) / 2]);
        u = half ? ((u & 0xFFFFFFFFull) | (uint64_t{v} << 32)) : ((u & ~0xFFFFFFFFull) | v);
        cp.bias[(k - reg::kWordBias) / 2] = static_cast<int64_t>(u);
      } else {
        cp.c = static_cast<int32_t>(v);
      }
    } else {
      const uint32_t idx = w - kMaxK * reg::kCompWords;
      init[idx / kMaxD][idx % kMaxD] = static_cast<int32_t>(v);
    }
  }
  Program p;
  p.k = static_cast<int>(r[GMM_CFG] & 0xFF);
  p.d = static_cast<int>((r[GMM_CFG] >> 8) & 0xFF);
  p.weight_bits = static_cast<int>(std::min<uint32_t>(r[WEIGHT_BITS], 64));
  p.y_scale_log2 = static_cast<int32_t>(r[Y_SCALE]);
  p.prop_scale = r[PROP_SCALE];
  if (p.prop_scale == 0) return 0;  // the macro answers ERR_PROP_SCALE before configuring
  p.comp = window;
  Knobs k;
  k.dac_bits = static_cast<int>(std::min<uint32_t>(r[DAC_CFG], 64));
  k.dac_offset_lsb = q16(r[DAC_OFFSET]);
  k.dac_inl_lsb = q16(r[DAC_INL]);
  k.adc_bits = static_cast<int>(std::min<uint32_t>(r[ADC_CFG], 64));
  k.adc_offset_lsb = q16(r[ADC_OFFSET]);
  k.adc_noise_lsb = q16(r[ADC_NOISE]);
  k.rng_bits = static_cast<int>(r[RNG_CFG] & 0x3F);
  k.rng_fresh_bits = static_cast<int>((r[RNG_CFG] >> 8) & 0x3F);
  k.rng_period = r[RNG_PERIOD];
  k.cell_mismatch = q16(r[CELL_MISMATCH]);
  k.bl_noise = q16(r[BL_NOISE]);
  k.vdd = r[VDD_MV] / 1000.0;
  const int lanes = static_cast<int>(std::min<uint32_t>(r[CHAINS], 64));
  const uint32_t samples = 1 + r[SAMPLES] % 32;
  cimsim::fuzz::expect_clean([&] {
    Datapath dp;
    dp.configure(p, k, lanes, (uint64_t{r[SEED_HI]} << 32) | r[SEED_LO], energy());
    init.resize(static_cast<size_t>(lanes));
    dp.start(init);
    LaneIter it{};
    int64_t cycles = init_cycles(k.adc_bits, p.k);
    for (int l = 0; l < lanes; ++l)
      for (uint32_t s = 0; s < samples; ++s) cycles += dp.step_lane(l, it);
    dp.account_leakage(cycles);
    (void)dp.ledger().total_aj();
  });
  return 0;
}
