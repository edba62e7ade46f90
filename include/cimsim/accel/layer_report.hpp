#pragma once
// Per-layer reports of accelerator runs, the table architects diff: one CSV row per layer and a per-layer
// stacked energy plot (gnuplot). Columns: docs/accelerator.md ("Reports").
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cimsim::accel {

struct LayerReportRow {
  std::string name, kind, op, mode;  ///< kind: conv2d, fc, maxpool, avgpool, gap, shuffle, concat, add, ...
  int64_t macs = 0;                  ///< operator terms (0 for vector-unit ops)
  int64_t cycles = 0;
  double utilisation = 0;            ///< MACs / (R * C * cycles) of the digital array (CIM: of the macro)
  int64_t dram_bytes = 0;            ///< bytes moved to/from system memory (DRAM) by this layer
  int64_t weight_buffer_read = 0, weight_buffer_write = 0;  ///< bytes
  int64_t act_buffer_read = 0, act_buffer_write = 0;        ///< bytes
  std::map<std::string, double> energy_pj;  ///< per ledger component (compute, adc, dac, requant, dram, ...)
  double system_pj = 0;    ///< everything
  double operator_pj = 0;  ///< compute + ADC + DAC only
};

/// The component columns, in report order (every component any row has, fixed order first).
std::vector<std::string> report_components(const std::vector<LayerReportRow>& rows);
/// CSV text: header + one row per layer + a "total" row (sums; its utilisation is the cycle-weighted mean).
/// Integers printed exactly; utilisation and pJ with %.6f (pJ to the attojoule). Names quoted per RFC 4180
/// where they contain a comma or quote. With clock_hz > 0 the headline columns (cimsim/accel/headline.hpp:
/// pj_per_mac_system, pj_per_mac_operator, tops_per_w_system, tops_per_w_operator, uj_per_inference,
/// latency_ms, inferences_per_s, edp_uj_ms) follow, each row for its own MACs, energy and cycles (the total row:
/// one inference, steady state); empty where undefined (no MACs).
std::string layer_report_csv(const std::vector<LayerReportRow>& rows, double clock_hz = 0);
/// Writes the CSV atomically. Throws IoError naming the path.
void write_layer_report_csv(const std::string& path, const std::vector<LayerReportRow>& rows, double clock_hz = 0);
/// The fixed colour (#rrggbb) of an energy component in every plot (compute, adc, dac, ... leakage: all
/// different); components without a fixed colour get one from their name's hash.
std::string component_colour(const std::string& component);
/// Per-layer stacked energy breakdown (pJ per component per layer) as PNG with gnuplot; atomic; one fixed
/// colour per component (component_colour); `title` may hold a line break. Throws IoError if gnuplot is
/// missing or fails (message says so).
void plot_layer_energy(const std::string& png_path, const std::vector<LayerReportRow>& rows,
                       const std::string& title);

/// A one-line progress indicator on stderr ("label  k/n  12%  ETA 3 s"), shown only when the run has lasted
/// longer than `after_s` seconds and stderr is a terminal or CIMSIM_PROGRESS=1 (CIMSIM_PROGRESS=0: never).
/// On a terminal the line is rewritten in place (at most 5 times a second); otherwise one line per update is
/// written (at most once a second). done() ends the line.
class ProgressLine {
 public:
  ProgressLine(std::string label, int64_t total, double after_s = 2.0);
  void update(int64_t done);
  void done();

 private:
  std::string label_;
  int64_t total_;
  double after_s_;
  double t0_;
  bool shown_ = false, enabled_, tty_;
  double last_ = -1;
};

}  // namespace cimsim::accel
