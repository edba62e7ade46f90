#pragma once
// An ENOS export as an accelerator program (accel::Graph): every node runs on the accelerator. Accel nodes
// become conv/FC layers; MaxPool, AvgPool, GlobalAvgPool, ChannelShuffle and Add become vector-unit ops; Split
// and Flatten become views (address arithmetic, no data movement); a Concat input is written in place into
// its slice of the concat output when it is produced by a layer, consumed only by the concat and its rescale
// is the identity, else it is copied there by the vector unit (Copy with the rescale, or an identity
// ChannelShuffle with groups 1). The same graph feeds the simulator runtime and the energy prediction, so the
// export's predicted_energy_pj equals the simulator's counters. Docs: docs/enos-runtime.md.
#include <vector>

#include "cimsim/accel/program.hpp"
#include "cimsim/core/energy_table.hpp"
#include "cimsim/enos/export.hpp"

namespace cimsim::enos {

struct ExportGraph {
  accel::Graph graph;
  std::vector<int> export_node;  ///< per graph node: the export node it implements (copies: their concat)
};

/// Builds the program graph of `e` (batch 1). Throws ConfigError if e.check() fails.
ExportGraph to_graph(const NetworkExport& e);

/// Steady-state energy of the export on its accelerator (pinned constants resident), from the program plan.
struct PredictedEnergy {
  std::vector<double> node_pj;  ///< per export node (Accel: its layer; others: the vector ops implementing it)
  double total_pj = 0;          ///< per image, all nodes
  double operator_pj = 0;       ///< compute + ADC + DAC only
  double first_run_extra_pj = 0;  ///< the first run also loads the pinned constants (one time)
  accel::ProgramPlan plan;
};
PredictedEnergy predict_energy(const NetworkExport& e, const EnergyTable& table,
                               const accel::ProgramOptions& opt = {});
/// The same from a graph already built: `eg` must be to_graph(e) (the simulator runtime builds it once).
PredictedEnergy predict_energy(const NetworkExport& e, const ExportGraph& eg, const EnergyTable& table,
                               const accel::ProgramOptions& opt = {});

}  // namespace cimsim::enos
