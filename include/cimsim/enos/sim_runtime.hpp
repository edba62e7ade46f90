#pragma once
// Simulator runtime: an ENOS export run as one accelerator program per image (graph.hpp: every node on the
// SystemC accelerator, LT or cycle level, through accel::AcceleratorSoc and its driver; activations resident
// in the activation buffer, constants pinned in the weight buffer when they fit). One elaboration per process:
// construct one SimRuntime in sc_main (before any sc_start), then call run() as often as needed; every call
// loops over its images inside the SoC's host thread. Per-node cycles and energy are the accelerator's own
// counters (PERF_SEL view registers, per energy register group), compared with the program plan's steady-state
// cost (what the export's predicted_energy_pj holds). Docs: docs/enos-runtime.md.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cimsim/accel/soc.hpp"
#include "cimsim/core/energy_table.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/enos/graph.hpp"
#include "cimsim/enos/runtime.hpp"
#include "cimsim/soc/vcd_trace.hpp"

namespace cimsim::enos {

struct SimOptions {
  accel::Level level = accel::Level::Lt;
  std::string vcd;                  ///< VCD path stem (cycle level only; empty: no trace)
  uint64_t mem_size = 64ull << 20;  ///< system memory of the SoC
  accel::ProgramOptions program;    ///< residency / weight pinning
  bool has_array = false;           ///< run on `array` instead of the export's accelerator
  accel::ArrayConfig array;
};

/// One program node (a layer or a vector op) over all images of a run.
struct SimLayerReport {
  size_t node_index = 0;  ///< the export node it implements
  std::string node;       ///< program node name
  accel::LayerKind kind = accel::LayerKind::Conv2d;
  accel::Op op = accel::Op::MAC8;
  accel::Mode mode = accel::Mode::Digital;
  int64_t images = 0;
  int64_t cycles = 0;     ///< simulated accelerator cycles, summed over images
  int64_t macs = 0;       ///< summed over images
  int64_t energy_aj = 0;  ///< simulated energy, summed over images (the first run includes constant loads)
  int64_t steady_energy_aj = 0;  ///< simulated energy of the last image (steady state: constants resident)
  int64_t steady_cycles = 0;     ///< cycles of the last image
  std::map<std::string, int64_t> components_aj;  ///< per energy register group, of the last image
  double predicted_pj = 0;        ///< the plan's steady-state energy per image
  int64_t model_cycles = 0;       ///< the plan's steady-state cycles per image
  int64_t dram_bytes = 0;         ///< the plan's DRAM bytes per image (steady state)
  double utilisation = 0;         ///< the plan's array utilisation

  double cycles_per_image() const { return images ? static_cast<double>(cycles) / images : 0.0; }
  double energy_pj_per_image() const { return static_cast<double>(steady_energy_aj) * 1e-6; }
  /// 100 * (simulated steady state - predicted) / predicted; 0 when both are 0, +inf when only predicted is 0.
  double energy_diff_pct() const;
};

struct SimRunResult {
  std::vector<InferenceResult> results;  ///< one per image
  std::vector<SimLayerReport> layers;    ///< one per program node, in execution order
  std::vector<HostOpWork> host_ops;      ///< nodes left on the host (none: every node runs on the accelerator)
  int64_t images = 0;
  int64_t accel_cycles = 0;     ///< summed over layers and images
  int64_t accel_energy_aj = 0;  ///< summed over layers and images
  double predicted_pj_per_image = 0;
  double predicted_operator_pj_per_image = 0;
  double steady_pj_per_image = 0;     ///< simulated, last image
  double first_run_extra_pj = 0;      ///< simulated: first image minus last (one-time constant loads)
  double sim_time_s = 0;  ///< simulated time spent in accelerator runs (START to IRQ, host-observed)
  double wall_s = 0;
  /// {"images", "accel_cycles", "accel_energy_pj", "predicted_energy_pj_per_image", "energy_pj_per_image",
  ///  "energy_diff_pct", "sim_time_s", "wall_s", "layers": [...], "host_ops": [...]}
  nlohmann::json to_json() const;
};

class SimRuntime {
 public:
  /// Builds the SoC (one per process). Throws ConfigError if e.check() fails or the table lacks entries.
  SimRuntime(const NetworkExport& e, const EnergyTable& table, const SimOptions& opt = {});
  ~SimRuntime();
  SimRuntime(const SimRuntime&) = delete;
  SimRuntime& operator=(const SimRuntime&) = delete;

  /// Runs quantized images (each input.elems() values). Rethrows accelerator errors (accel::AcceleratorError).
  SimRunResult run(const std::vector<std::vector<int8_t>>& images);
  /// Closes the VCD trace (if any) and returns its final path ("" if none).
  std::string close_trace();

  accel::AcceleratorSoc& soc() { return *soc_; }
  const NetworkExport& network() const { return e_; }

 private:
  NetworkExport e_;
  EnergyTable table_;
  SimOptions opt_;
  std::unique_ptr<VcdTrace> vcd_;
  std::unique_ptr<accel::AcceleratorSoc> soc_;
  ExportGraph eg_;
  PredictedEnergy pred_;
};

}  // namespace cimsim::enos
