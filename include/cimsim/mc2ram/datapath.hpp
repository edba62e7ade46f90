#pragma once
// MC2RAM fixed-point datapath: the arithmetic of one Metropolis-Hastings iteration as the macro performs it
// (embedded RNG, proposal adder, row DACs, in-array MAC on bit-lines, column ADCs, digital squares,
// log-sum-exp with a correction LUT, log-uniform by leading-one detection + LUT, accept/reject, write-back).
// Plain C++ (no SystemC): the cycle-level and the transaction-level SystemC models both call it, so they
// cannot drift apart. The bit-level specification is in docs/mc2ram.md ("Fixed-point specification").
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/core/energy_ledger.hpp"
#include "cimsim/core/energy_table.hpp"

namespace cimsim::mc2ram {

// ---- Array geometry (the macro's capacity) ----
inline constexpr int kMaxK = 8;        ///< mixture components stored
inline constexpr int kMaxD = 8;        ///< dimensions (DAC-driven rows)
inline constexpr int kMaxLanes = 8;    ///< parallel chains (replicated column groups)
inline constexpr int kStateBits = 16;  ///< state word width (two's complement)
inline constexpr int kFl = 8;          ///< fractional bits of log-densities (1/256 nat)
inline constexpr int kYFrac = 8;       ///< fractional bits of digitized y = L^T (x - mu) (Mahalanobis units)
inline constexpr int kAdcFsLog2 = 3;   ///< ADC full scale: |y| < 2^3 = 8 Mahalanobis units
inline constexpr int kMaxAdcBits = 12;
inline constexpr int kCoarseBits = 4;  ///< bits resolved in the first (coarse) ADC cycle
inline constexpr int kFineBitsPerCycle = 4;
inline constexpr int kPropFrac = 12;   ///< proposal scale register is Q20.12 (in CLT-normalized units)
/// Largest |c_k| the macro accepts (1/256 nat): 2^24 = 65536 nats, far beyond any real log pi + log|L| term,
/// and small enough that c_k - q_k/2 and the log-sum-exp never leave int32. START with a larger c_k (e.g. a
/// register write of 0x7FFFFFFF) ends in ERR_CONFIG instead of signed overflow.
inline constexpr int32_t kMaxAbsC = int32_t{1} << 24;

/// What one component occupies in the array (already quantized by the driver).
struct Component {
  std::array<std::array<int32_t, kMaxD>, kMaxD> a{};  ///< A = L^T, A[i][j] (row i = output column i)
  std::array<int64_t, kMaxD> bias{};                  ///< b_i = sum_j A[i][j] mu_j / lsb_x (acc units)
  int32_t c = 0;                                      ///< log pi + log|L| - D/2 log 2pi, in 1/256 nat
  int32_t y_shift = 0;  ///< per-component exponent 0..32: y = y_acc * 2^-(y_scale_log2 + y_shift)
};

/// The array contents + format (programmed through the GMM window and GMM_CFG / WEIGHT_BITS / Y_SCALE).
/// True when weight `a` fits `weight_bits` signed bit-cells: |a| <= 2^(bits-1) - 1 (INT32_MIN included: computed
/// in 64 bits, std::abs(INT32_MIN) is undefined).
bool weight_fits(int32_t a, int weight_bits);

struct Program {
  int k = 0, d = 0;
  int weight_bits = 8;  ///< bit-cells per weight (signed); |A| < 2^(weight_bits-1)
  int y_scale_log2 = 0; ///< y (Mahalanobis units) = y_acc * 2^-y_scale_log2
  uint32_t prop_scale = 0;  ///< step = g * prop_scale >> (rng_bits + 12), g the CLT sum (see spec)
  std::array<Component, kMaxK> comp{};
};

/// Non-idealities and converter/RNG settings. Defaults are the "ideal" operating point (no offsets, no
/// noise, no mismatch, nominal supply): still quantized by the converters, exactly as the spec says.
struct Knobs {
  int dac_bits = 10;          ///< 1..16: the DAC resolves the top dac_bits of the 16-bit state word
  double dac_offset_lsb = 0;  ///< DAC offset, in DAC LSBs
  double dac_inl_lsb = 0;     ///< peak INL (parabolic bow, 0 at the ends), in DAC LSBs
  int adc_bits = 8;           ///< 1..12 over a fixed +-8 Mahalanobis-unit full scale
  double adc_offset_lsb = 0;  ///< ADC offset, in ADC LSBs
  double adc_noise_lsb = 0;   ///< ADC input-referred noise sigma, in ADC LSBs
  int rng_bits = 16;          ///< 4..24 bits per uniform word
  int rng_fresh_bits = 0;     ///< new bits per word (0 = rng_bits: independent words; less = overlapping)
  uint32_t rng_period = 0;    ///< stream period in words (0 = no repetition within 2^64)
  double cell_mismatch = 0;   ///< relative sigma of each bit-cell weight (fixed per programmed array)
  double bl_noise = 0;        ///< bit-line thermal noise sigma, in Mahalanobis units of y, at 0.9 V
  double vdd = 0.9;           ///< supply (V): energy ~ V^2 (dynamic), ~ V (leakage); noise ~ 1/V
  bool operator==(const Knobs& o) const;
  /// Throws ConfigError naming the knob if out of range.
  void validate() const;
};

/// Per-part energies of one macro (aJ per event), read from energy_pj.mc2ram.* and scaled by the supply.
struct EnergyModel {
  int64_t rng_bit = 0, dac_bit = 0, cell_bit = 0, column = 0, adc_cmp_bit = 0, adc_cap_unit = 0;
  int64_t square = 0, lse = 0, accept = 0, writeback_word = 0, output_word = 0, leak_cycle_lane = 0;
  static std::vector<std::string> entries();  ///< the table paths it needs
  static EnergyModel from_table(const EnergyTable& t, double vdd);
  int64_t adc_aj(int bits) const;  ///< one conversion of `bits` bits
};

/// Energy part names, in register ENERGY_SEL order 1..6 (0 = total).
inline const std::array<const char*, 6> kParts = {"rng", "dac", "array", "adc", "logic", "leakage"};

/// The per-iteration outcome of one lane, stage by stage (what the VCD shows).
struct LaneIter {
  std::array<int32_t, kMaxD> prop{};      ///< proposed state x'
  std::array<int32_t, kMaxK * kMaxD> code{};  ///< ADC codes, column k*D+i
  int32_t lse_prop = 0, lse_cur = 0, log_u = 0;
  bool early_reject = false;  ///< decided after the coarse ADC cycle (the fine cycle is skipped)
  bool accept = false;
};

/// Cycle count of one iteration of one lane (shared by the cycle model, which exhibits it, and the LT
/// model, which annotates it): 1 propose/DAC + 1 MAC+coarse ADC + fine ADC cycles (skipped on early reject)
/// + LSE/accept cycles + 1 write-back cycle (only when accepted).
int fine_cycles(int adc_bits);
int lse_cycles(int k);
int iteration_cycles(int adc_bits, int k, bool early_reject, bool accept);
/// Cycles of the initial evaluation of the starting states (a full evaluation without accept).
int init_cycles(int adc_bits, int k);

/// The macro's datapath state: program, knobs, per-lane chain state, RNG positions, fixed mismatch.
class Datapath {
 public:
  Datapath() = default;
  /// Validates the program/knobs (ConfigError: shape, weight_bits 2..16, every weight fits, |c_k| <= kMaxAbsC),
  /// draws the fixed mismatch from the seed.
  void configure(const Program& p, const Knobs& k, int lanes, uint64_t seed, const EnergyModel& e);
  /// Sets lane states and evaluates their log-densities (the init evaluation). Adds init energy.
  void start(const std::vector<std::array<int32_t, kMaxD>>& init);

  // Stage functions of one iteration of lane `l` (call in this order).
  void stage_propose(int l, LaneIter& it);     ///< RNG words, proposal, DAC; log u
  void stage_mac_coarse(int l, LaneIter& it);  ///< MAC + full ADC codes; early-reject decision
  void stage_lse_accept(int l, LaneIter& it);  ///< LSE, accept, write-back, iteration counter++
  /// All three stages + energy; returns the lane's iteration cycle count.
  int step_lane(int l, LaneIter& it);
  /// Adds the energy of one finished iteration of lane l (RNG..logic; leakage separately).
  void account_iteration(const LaneIter& it);
  void account_leakage(int64_t cycles);

  const std::array<int32_t, kMaxD>& state(int l) const { return x_[l]; }
  int32_t lse(int l) const { return lse_[l]; }
  int lanes() const { return lanes_; }
  const Program& program() const { return p_; }
  const Knobs& knobs() const { return kn_; }
  EnergyLedger& ledger() { return ledger_; }
  const EnergyLedger& ledger() const { return ledger_; }
  uint64_t accepts() const { return accepts_; }
  uint64_t early_rejects() const { return early_; }

  // Spec pieces (exposed for tests and docs).
  uint32_t rng_word(int l, uint64_t word_index) const;
  static int32_t log_u_fx(uint32_t w, int bits);
  /// Log-sum-exp fold; computed in 64 bits and saturated to int32, so it is defined for any inputs.
  static int32_t lse_fold(const int32_t* l, int k);
  static int32_t lse_lut(int32_t d);

 private:
  int32_t evaluate(int l, const int32_t* x, int32_t* codes, uint64_t noise_index) const;
  double dac(int32_t x) const;
  Program p_{};
  Knobs kn_{};
  EnergyModel e_{};
  int lanes_ = 1;
  uint64_t seed_ = 0;
  std::array<std::array<int32_t, kMaxD>, kMaxLanes> x_{};
  std::array<int32_t, kMaxLanes> lse_{};
  std::array<uint64_t, kMaxLanes> iter_{};
  std::vector<double> wmis_;  ///< effective weights (with mismatch), [lane][k][i][j]
  double mis_eff_ = 0, bl_eff_ = 0;
  EnergyLedger ledger_;
  uint64_t accepts_ = 0, early_ = 0;
};

/// Lanes (chains) are independent column groups, each with its own sequencer: a run lasts
/// init_cycles + max over lanes of the sum of that lane's iteration cycles.
/// A whole job on the datapath alone (no SystemC): what the LT model computes, without the bus. Used by the
/// study tool and the benchmark's "datapath only" rate. states: (lane, sample, dim) row-major, d dims.
struct FunctionalRun {
  std::vector<int32_t> states;
  uint64_t cycles = 0, accepts = 0, early_rejects = 0;
  EnergyLedger ledger;
};
FunctionalRun run_functional(const Program& p, const Knobs& k, int lanes, uint32_t samples, uint64_t seed,
                             const std::vector<std::array<int32_t, kMaxD>>& init, const EnergyModel& e);

}  // namespace cimsim::mc2ram
