#pragma once
// The analytic level: the program compiler and the cost model without data. For a graph it gives the same
// per-node cycles, MACs, DRAM traffic and energy (per ledger component) as the LT and cycle-level models'
// counters (steady state, as `cimsim run` reports), without computing any output, without weights and without
// a SystemC elaboration. docs/accelerator.md ("The three levels").
#include <string>
#include <vector>

#include "cimsim/accel/driver.hpp"
#include "cimsim/accel/program.hpp"
#include "cimsim/accel/random_network.hpp"
#include "cimsim/accel/topology.hpp"
#include "cimsim/core/energy_table.hpp"

namespace cimsim::accel {

/// A GraphResult as run_graph would report it for the steady state (constants resident when the plan pins
/// them): stats from the plan's costs (cycles, MACs, energy and its register groups), the plan, no outputs;
/// sim_time is the cycles at the accelerator clock. `hw` must already have the table applied
/// (ArrayConfig::with_table). Throws ConfigError naming the node, like plan_program.
GraphResult analytic_run_graph(const Graph& g, const ArrayConfig& hw, const EnergyTable& table,
                               const ProgramOptions& opt = {});

/// LayerStats of one planned node (what the PERF_SEL view of that layer reads after a steady-state run).
LayerStats analytic_layer_stats(const LayerCost& cost, const EnergyTable& table);

/// The segments of a topology as random_topology_segments() forms them (same graphs, node names and
/// views), but without weights, inputs or expected outputs: for the analytic level.
std::vector<TopologySegment> topology_segments_without_data(const Topology& t, const std::vector<LayerChoice>& choice);

}  // namespace cimsim::accel
