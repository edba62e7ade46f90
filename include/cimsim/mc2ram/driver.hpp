#pragma once
// MC2RAM host software: turn a user GMM into what the array stores (compile_gmm), program the macro over
// TLM (Driver), run Metropolis-Hastings jobs and collect the samples (run_mh), plus a native double-precision
// MH sampler on the same GMM (the software baseline of the benchmark and the study).
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include <nlohmann/json_fwd.hpp>

#include "cimsim/diag/diagnostics.hpp"
#include "cimsim/diag/gmm.hpp"
#include "cimsim/mc2ram/datapath.hpp"

namespace cimsim {
class HostInitiator;
}

namespace cimsim::mc2ram {

/// Default bound on the compiled GMM's total-variation error (see RealizedError, docs/mc2ram.md
/// "GMM compiler"): beyond it compile_gmm refuses, unless allow_approx.
inline constexpr double kDefaultCompileTolerance = 0.02;

struct CompileOptions {
  int weight_bits = 8;       ///< bit-cells per stored weight (2..16)
  double box_sigmas = 8.0;   ///< the state range covers every component's mean +- box_sigmas * sd
  /// Proposal sd per dimension, user units. Empty: `step` for every dimension if step > 0, else the default
  /// 2.38/sqrt(D) * s_j, s_j = sqrt(sum_k w_k Sigma_k[j][j]) (the within-component marginal sd of dim j).
  std::vector<double> steps;
  double step = 0;
  double tolerance = kDefaultCompileTolerance;  ///< refuse when the TV bound exceeds it (0 < tol <= 1)
  bool allow_approx = false;  ///< beyond tolerance: compile anyway and put a warning in Compiled::warnings
};

/// What the compiled array represents, compared with the requested GMM (computed from the stored integers).
/// The represented GMM: component k has precision M_k^T M_k with M_k = 2^-(y_scale+y_shift_k) A_k diag(1/lsb),
/// mean origin + diag(lsb) A_k^-1 b_k, weight ~ exp(c_k/256) / |det M_k|; the DAC and ADC quantizers add
/// variance (Sheppard: h_j^2/12 per state dimension for a DAC bin of h_j user units, a factor 1 + delta^2/12
/// in the Mahalanobis frame for an ADC LSB of delta). Bound: KL(requested || represented) <= KL(weights) +
/// sum_k w_k KL(N_k || N'_k); tv_bound = sqrt(KL/2) (Pinsker) + the mass where an ADC saturates.
/// Not in the bound: the log-sum-exp and log-u lookup tables (<= 0.04 nat per fold; measured by the tests).
struct RealizedError {
  double kl_bound = 0, tv_bound = 0, saturation_mass = 0;
  std::vector<double> weights;            ///< represented mixture weights
  std::vector<double> mean_err_sd;        ///< per component: max_j |mu'_j - mu_j| / sd_kj
  std::vector<double> sd_rel_err;         ///< per component: max_j |sd'_kj / sd_kj - 1|
  std::vector<double> component_kl;       ///< per component KL(N_k || N'_k)
  std::string worst;                      ///< one sentence: the largest contribution
  nlohmann::json to_json() const;
};

/// What the driver writes: the array image and the state format.
struct Compiled {
  Program program;
  std::vector<double> lsb;       ///< user units per state LSB, per dimension
  std::vector<double> origin;    ///< user coordinates of state 0
  std::vector<double> steps;     ///< proposal sd actually programmed per dimension (user units)
  double prop_lsb = 0;           ///< proposal sd in state LSBs (the same for every dimension)
  RealizedError error;
  std::vector<std::string> warnings;  ///< allow_approx: why the result is outside the tolerance
  /// User coordinates -> state word (rounded, saturated) and back.
  std::array<int32_t, kMaxD> to_state(const std::vector<double>& x) const;
  double to_user(int dim, int32_t s) const {
    return origin[static_cast<size_t>(dim)] + lsb[static_cast<size_t>(dim)] * s;
  }
};

/// Validates the GMM (ConfigError naming what is wrong: shape, weights, NaN/inf, not positive definite,
/// K or D beyond the array) and quantizes it: per-dimension state scaling (lsb_j = step_j / prop_lsb, so the
/// one proposal register gives each dimension its own step), per-component weight exponents, constants from
/// the stored integers. Then computes the RealizedError for the deterministic quantizers of `knobs`
/// (dac_bits, adc_bits) and refuses (ConfigError) when tv_bound > opt.tolerance unless opt.allow_approx.
/// Nothing is written anywhere.
Compiled compile_gmm(const diag::Gmm& gmm, const CompileOptions& opt = {}, const Knobs& knobs = {});

/// The per-dimension default proposal sd: 2.38/sqrt(D) * within-component marginal sd (see CompileOptions).
std::vector<double> default_steps(const diag::Gmm& gmm);

/// Knob register encoding (Q16.16 etc.) — shared by the driver and tests.
struct KnobRegs {
  static std::vector<std::pair<uint32_t, uint32_t>> encode(const Knobs& k);  ///< (offset, value) pairs
};

/// Register-level driver over a HostInitiator (blocking TLM calls; throws TlmError on error responses).
class Driver {
 public:
  Driver(HostInitiator& host, uint64_t base) : h_(host), base_(base) {}
  uint32_t read(uint32_t off);
  void write(uint32_t off, uint32_t v);
  /// Writes the array image + format registers (GMM window, GMM_CFG, WEIGHT_BITS, Y_SCALE, PROP_SCALE).
  void program(const Compiled& c);
  void set_knobs(const Knobs& k);
  /// Chains, samples, seed, initial states (one per chain), DMA target (0 = FIFO mode).
  void configure_run(int chains, uint32_t samples, uint64_t seed, const std::vector<std::array<int32_t, kMaxD>>& init,
                     uint64_t dma_addr);
  void start();
  /// Waits for DONE through the IRQ line (enabled here); falls back to polling STATUS.
  /// Throws std::runtime_error naming the error code if STATUS reports one.
  void wait_done();
  /// FIFO mode: pops `words` sample words, servicing the FIFO IRQ as they arrive.
  std::vector<int32_t> drain_fifo(size_t words);
  uint64_t cycles();
  uint64_t accepts();
  uint32_t early_rejects();
  /// Energy per part (aJ) from the ENERGY_SEL / ENERGY_LO/HI counters, plus "total".
  std::map<std::string, int64_t> energy_aj();

 private:
  HostInitiator& h_;
  uint64_t base_;
};

/// One sampling job.
struct SampleJob {
  diag::Gmm gmm;
  CompileOptions compile;
  Knobs knobs;
  int chains = 4;
  uint32_t samples = 500;  ///< per chain
  uint64_t seed = 1;
  bool use_dma = true;     ///< false: FIFO + IRQ
  nlohmann::json to_json() const;
};

struct SampleResult {
  diag::Draws draws;
  double acceptance = 0;
  uint64_t cycles = 0;
  uint64_t early_rejects = 0;
  std::map<std::string, int64_t> energy_aj;  ///< per part + "total"
  Compiled compiled;
  double sim_seconds = 0;  ///< simulated time at the end of the job
};

/// Runs one job on a macro at `base`, with system memory for DMA at `dma_addr` (backdoor pointer `mem` to
/// read the samples without bus traffic; may be null, then samples are read over the bus).
SampleResult run_mh(HostInitiator& host, uint64_t base, const SampleJob& job, uint64_t dma_addr,
                    const uint8_t* mem_backdoor);

/// Initial states: chain c starts at the mean of component c mod K (dispersed starts for R-hat).
std::vector<std::array<int32_t, kMaxD>> initial_states(const diag::Gmm& gmm, const Compiled& c, int chains);

/// Native double-precision random-walk MH on the GMM (Gaussian proposals with sd steps[j] in dimension j,
/// chains started at the component means like initial_states), seeded; returns draws, sets *acceptance.
diag::Draws native_mh(const diag::Gmm& gmm, int chains, int samples, const std::vector<double>& steps, uint64_t seed,
                      double* acceptance = nullptr);

}  // namespace cimsim::mc2ram
