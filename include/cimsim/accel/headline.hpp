#pragma once
// The headline figures architects compare, computed in one place for every report (run, infer, sample, sweep
// metrics) and checked against hand-computed values (tests/accel/headline_test.cpp). Plain C++. Formulas:
//
//   pJ/MAC          = E_pJ / MACs                       (system: every ledger component; operator: compute+ADC+DAC)
//   TOPS/W          = 2 MACs / E_pJ                     (one MAC = 2 operations; ops / (E_pJ 1e-12 J) / 1e12)
//   uJ/inference    = E_pJ 1e-6
//   latency         = cycles / f_clk                    (one inference, steady state)
//   inferences/s    = f_clk / cycles                    (back to back, at the architecture's clock)
//   EDP             = E_J * latency_s  [J s]; printed as uJ * ms
//
// MC2RAM sampler:
//   pJ/sample       = E_pJ / (chains * samples)
//   ns/sample       = cycles / f_clk / (chains * samples)   (throughput of all chains together)
//   ns/sample/chain = cycles / f_clk / samples             (one chain's step)
//   ESS/uJ          = min over dimensions of the bulk ESS / (E_pJ 1e-6)
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cimsim::accel {

/// One inference's totals (steady state: constants already resident).
struct HeadlineInput {
  double macs = 0;
  double system_pj = 0;
  double operator_pj = 0;
  double cycles = 0;
  double clock_hz = 0;
};

struct Headline {
  double pj_per_mac_system = 0, pj_per_mac_operator = 0;
  double tops_per_w_system = 0, tops_per_w_operator = 0;
  double uj_per_inference = 0, operator_uj_per_inference = 0;
  double latency_s = 0, inferences_per_s = 0;
  double edp_j_s = 0;
  /// Keys: pj_per_mac_system, pj_per_mac_operator, tops_per_w_system, tops_per_w_operator, uj_per_inference,
  /// operator_uj_per_inference, latency_s, latency_ms, inferences_per_s, edp_j_s, edp_uj_ms (NaN where a
  /// denominator is 0: JSON null).
  nlohmann::json to_json() const;
  /// Column names and values of the same figures for CSV files (same order).
  static std::vector<std::string> csv_columns();
  std::vector<double> csv_values() const;
};

/// Throws std::invalid_argument for negative inputs. MACs or cycles of 0 give NaN ratios (no MACs: no pJ/MAC).
Headline headline(const HeadlineInput& in);

struct SamplerHeadlineInput {
  double energy_pj = 0;  ///< all chains, whole run
  double cycles = 0;     ///< simulated cycles of the run (chains run in parallel)
  double chains = 0, samples_per_chain = 0;
  double clock_hz = 0;
  double min_ess_bulk = 0;  ///< smallest bulk ESS over the dimensions
};

struct SamplerHeadline {
  double pj_per_sample = 0, ns_per_sample = 0, ns_per_sample_per_chain = 0, samples_per_s = 0;
  double ess_per_uj = 0, uj_total = 0;
  /// Keys: pj_per_sample, ns_per_sample, ns_per_sample_per_chain, samples_per_s, ess_per_uj, energy_uj.
  nlohmann::json to_json() const;
};

SamplerHeadline sampler_headline(const SamplerHeadlineInput& in);

/// Engineering-unit text of a value with 4 significant digits and an SI prefix chosen so that the mantissa
/// lies in [1, 1000): eng(2.84e-5, "s") = "28.40 us"; eng(0, "J") = "0 J"; NaN prints "n/a". Prefixes from
/// f to T.
std::string eng(double v, const std::string& unit);
/// "12.34 %" (4 significant digits, at least 1 decimal).
std::string pct(double fraction);

}  // namespace cimsim::accel
