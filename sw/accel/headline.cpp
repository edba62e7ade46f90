// Headline figures (pJ/MAC, TOPS/W, uJ and latency per inference, inferences/s, EDP; MC2RAM pJ and ns per
// sample, ESS per uJ) and engineering-unit formatting. Formulas: include/cimsim/accel/headline.hpp.
#include "cimsim/accel/headline.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>

namespace cimsim::accel {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double ratio(double num, double den) { return den > 0 ? num / den : kNaN; }

nlohmann::json jnum(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

}  // namespace

Headline headline(const HeadlineInput& in) {
  if (in.macs < 0 || in.system_pj < 0 || in.operator_pj < 0 || in.cycles < 0 || in.clock_hz < 0)
    throw std::invalid_argument("headline: negative MACs, energy, cycles or clock");
  Headline h;
  h.pj_per_mac_system = ratio(in.system_pj, in.macs);
  h.pj_per_mac_operator = ratio(in.operator_pj, in.macs);
  h.tops_per_w_system = ratio(2.0 * in.macs, in.system_pj);
  h.tops_per_w_operator = ratio(2.0 * in.macs, in.operator_pj);
  h.uj_per_inference = in.system_pj * 1e-6;
  h.operator_uj_per_inference = in.operator_pj * 1e-6;
  h.latency_s = ratio(in.cycles, in.clock_hz);
  h.inferences_per_s = ratio(in.clock_hz, in.cycles);
  h.edp_j_s = in.system_pj * 1e-12 * h.latency_s;
  return h;
}

nlohmann::json Headline::to_json() const {
  return {{"pj_per_mac_system", jnum(pj_per_mac_system)},
          {"pj_per_mac_operator", jnum(pj_per_mac_operator)},
          {"tops_per_w_system", jnum(tops_per_w_system)},
          {"tops_per_w_operator", jnum(tops_per_w_operator)},
          {"uj_per_inference", jnum(uj_per_inference)},
          {"operator_uj_per_inference", jnum(operator_uj_per_inference)},
          {"latency_s", jnum(latency_s)},
          {"latency_ms", jnum(latency_s * 1e3)},
          {"inferences_per_s", jnum(inferences_per_s)},
          {"edp_j_s", jnum(edp_j_s)},
          {"edp_uj_ms", jnum(edp_j_s * 1e9)}};
}

std::vector<std::string> Headline::csv_columns() {
  return {"pj_per_mac_system", "pj_per_mac_operator", "tops_per_w_system", "tops_per_w_operator",
          "uj_per_inference",  "latency_ms",          "inferences_per_s",  "edp_uj_ms"};
}

std::vector<double> Headline::csv_values() const {
  return {pj_per_mac_system, pj_per_mac_operator, tops_per_w_system, tops_per_w_operator,
          uj_per_inference,  latency_s * 1e3,     inferences_per_s,  edp_j_s * 1e9};
}

SamplerHeadline sampler_headline(const SamplerHeadlineInput& in) {
  if (in.energy_pj < 0 || in.cycles < 0 || in.chains < 0 || in.samples_per_chain < 0 || in.clock_hz < 0 ||
      in.min_ess_bulk < 0)
    throw std::invalid_argument("sampler_headline: negative input");
  SamplerHeadline h;
  const double n = in.chains * in.samples_per_chain;
  const double t = ratio(in.cycles, in.clock_hz);
  h.pj_per_sample = ratio(in.energy_pj, n);
  h.ns_per_sample = ratio(t * 1e9, n);
  h.ns_per_sample_per_chain = ratio(t * 1e9, in.samples_per_chain);
  h.samples_per_s = ratio(n, t);
  h.uj_total = in.energy_pj * 1e-6;
  h.ess_per_uj = ratio(in.min_ess_bulk, h.uj_total);
  return h;
}

nlohmann::json SamplerHeadline::to_json() const {
  return {{"pj_per_sample", jnum(pj_per_sample)},
          {"ns_per_sample", jnum(ns_per_sample)},
          {"ns_per_sample_per_chain", jnum(ns_per_sample_per_chain)},
          {"samples_per_s", jnum(samples_per_s)},
          {"ess_per_uj", jnum(ess_per_uj)},
          {"energy_uj", jnum(uj_total)}};
}

std::string eng(double v, const std::string& unit) {
  if (!std::isfinite(v)) return "n/a";
  if (v == 0) return unit.empty() ? "0" : "0 " + unit;
  static const char* const kPrefix[] = {"f", "p", "n", "u", "m", "", "k", "M", "G", "T"};
  int e3 = static_cast<int>(std::floor(std::log10(std::fabs(v)) / 3.0));
  e3 = std::max(-5, std::min(4, e3));
  double m = v / std::pow(10.0, 3 * e3);
  // Rounding to 4 significant digits can carry into the next prefix (999.96 -> 1000).
  auto digits = [](double x) { return std::fabs(x) >= 100 ? 1 : std::fabs(x) >= 10 ? 2 : 3; };
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits(m), m);
  if (std::fabs(std::atof(b)) >= 1000 && e3 < 4) {
    ++e3;
    m = v / std::pow(10.0, 3 * e3);
    std::snprintf(b, sizeof b, "%.*f", digits(m), m);
  }
  std::string out = std::string(b) + " " + kPrefix[e3 + 5] + unit;
  if (out.back() == ' ') out.pop_back();  // no prefix and no unit: "389.4", not "389.4 "
  return out;
}

std::string pct(double fraction) {
  if (!std::isfinite(fraction)) return "n/a";
  const double p = 100.0 * fraction;
  const double a = std::fabs(p);
  const int d = a >= 100 ? 1 : a >= 10 ? 2 : 3;
  char b[64];
  std::snprintf(b, sizeof b, "%.*f %%", d, p);
  return b;
}

}  // namespace cimsim::accel
