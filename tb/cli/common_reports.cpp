// Report pieces shared by `run` and `infer`: see common_reports.hpp.
#include "cli/common_reports.hpp"

#include <algorithm>
#include <cstdio>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/layer.hpp"

namespace cimsim::cli {

void print_headline(const accel::Headline& h, double clock_hz, double first_run_extra_pj) {
  using accel::eng;
  std::printf("headline (per inference, steady state): %s, latency %s = %s inferences/s at %s; EDP %s s\n",
              eng(h.uj_per_inference * 1e-6, "J").c_str(), eng(h.latency_s, "s").c_str(),
              eng(h.inferences_per_s, "").c_str(), eng(clock_hz, "Hz").c_str(), eng(h.edp_j_s, "J").c_str());
  std::printf("  system:        %s/MAC, %s  (every component: buffers, DMA, DRAM, descriptors, leakage)\n",
              eng(h.pj_per_mac_system * 1e-12, "J").c_str(), eng(h.tops_per_w_system * 1e12, "OPS/W").c_str());
  std::printf("  operator-only: %s/MAC, %s  (compute + ADC + DAC: %s per inference)\n",
              eng(h.pj_per_mac_operator * 1e-12, "J").c_str(), eng(h.tops_per_w_operator * 1e12, "OPS/W").c_str(),
              eng(h.operator_uj_per_inference * 1e-6, "J").c_str());
  if (first_run_extra_pj != 0)
    std::printf("first run: +%s once (constants loaded into the weight buffer), %s in all\n",
                eng(first_run_extra_pj * 1e-12, "J").c_str(),
                eng(h.uj_per_inference * 1e-6 + first_run_extra_pj * 1e-12, "J").c_str());
}

void print_component_split(const std::map<std::string, double>& pj) {
  double total = 0;
  for (const auto& kv : pj) total += kv.second;
  std::string largest;
  double best = -1;
  std::printf("energy by component (steady state):");
  for (const auto& [k, v] : pj) {
    std::printf("  %s %s", k.c_str(), accel::pct(total > 0 ? v / total : 0.0).c_str());
    if (v > best) {
      best = v;
      largest = k;
    }
  }
  if (total > 0) std::printf("  (largest: %s, %s)", largest.c_str(), accel::pct(best / total).c_str());
  std::printf("\n");
}

nlohmann::json headline_json(const accel::Headline& h, double clock_hz, double first_run_extra_pj) {
  nlohmann::json j = h.to_json();
  j["clock_hz"] = clock_hz;
  j["basis"] = "per inference, steady state (constants resident)";
  nlohmann::json first = {{"extra_energy_pj", first_run_extra_pj},
                          {"energy_uj", h.uj_per_inference + first_run_extra_pj * 1e-6}};
  return {{"steady_state", j}, {"first_run", first}};
}

std::vector<accel::LayerReportRow> infer_rows(const enos::SimRunResult& r) {
  std::vector<accel::LayerReportRow> rows;
  for (const auto& l : r.layers) {
    const bool vec = accel::is_vector_kind(l.kind);
    accel::LayerReportRow row;
    row.name = l.node;
    row.kind = accel::kind_name(l.kind);
    row.op = vec ? "-" : accel::op_name(l.op);
    row.mode = vec ? "-" : accel::mode_name(l.mode);
    row.macs = l.images ? l.macs / l.images : 0;
    row.cycles = l.steady_cycles;
    row.utilisation = l.utilisation;
    row.dram_bytes = l.dram_bytes;
    for (const auto& [k, v] : l.components_aj) {
      const double pj = static_cast<double>(v) * 1e-6;
      if (v != 0) row.energy_pj[k] = pj;
      if (accel::is_operator_component(k)) row.operator_pj += pj;
    }
    row.system_pj = l.energy_pj_per_image();
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string run_plot_title(const std::string& workload, const std::vector<accel::LayerReportRow>& rows,
                           const std::string& level, const std::string& arch) {
  std::vector<std::pair<std::string, int>> ops;  // first-seen order
  int vector_ops = 0;
  for (const auto& r : rows) {
    if (r.op == "-") {
      ++vector_ops;
      continue;
    }
    const std::string k = r.mode == "cim" ? r.op + "/cim" : r.op;
    auto it = std::find_if(ops.begin(), ops.end(), [&](const auto& p) { return p.first == k; });
    if (it == ops.end()) ops.emplace_back(k, 1);
    else ++it->second;
  }
  // File paths by their names only (a title is one line of a plot, not a log).
  auto shorten = [](const std::string& text) {
    std::string out, word;
    auto flush = [&] {
      const auto slash = word.rfind('/');
      out += slash == std::string::npos ? word : word.substr(slash + 1);
      word.clear();
    };
    for (char c : text) {
      if (c == ' ' || c == '(' || c == ')') {
        flush();
        out += c;
      } else {
        word += c;
      }
    }
    flush();
    return out;
  };
  std::string t = "Energy per layer, steady state: " + shorten(workload) + "\noperators:";
  for (const auto& [k, n] : ops) t += " " + k + " x" + std::to_string(n);
  if (vector_ops) t += ", vector unit x" + std::to_string(vector_ops);
  t += "\nlevel " + level + " | architecture " + shorten(arch);
  return t;
}

}  // namespace cimsim::cli
