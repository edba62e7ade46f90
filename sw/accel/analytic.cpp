// The analytic level (include/cimsim/accel/analytic.hpp): plans and costs without data or simulation.
#include "cimsim/accel/analytic.hpp"

#include "cimsim/accel/regmap.hpp"
#include "cimsim/core/error.hpp"

namespace cimsim::accel {

LayerStats analytic_layer_stats(const LayerCost& cost, const EnergyTable& table) {
  LayerStats s;
  s.cycles = cost.cycles;
  s.macs = cost.macs();
  s.group_aj.assign(energy_register_groups().size(), 0);
  for (const auto& [component, aj] : cost.energy_aj(table)) {
    s.energy_aj += aj;
    const int g = energy_component_group(component);
    if (g >= 0) s.group_aj[static_cast<size_t>(g)] += aj;
  }
  return s;
}

GraphResult analytic_run_graph(const Graph& g, const ArrayConfig& hw, const EnergyTable& table,
                               const ProgramOptions& opt) {
  GraphResult r;
  // What the hardware refuses without looking at weights is refused here too (the simulators' LayerParams::check
  // and descriptor validation: an int32 accumulator must hold K x the operator's largest term).
  for (const GraphNode& n : g.nodes) {
    const LayerParams& p = n.params;
    if (const std::string why = AcceleratorDriver::descriptor_limits(p.shape); !why.empty())
      throw ConfigError("node '" + n.name + "': " + why);
    if (is_vector_kind(p.shape.kind)) continue;
    if (p.shape.reduction() * max_abs_term(p.op) > INT32_MAX)
      throw ConfigError("node '" + n.name + "': reduction K = " + std::to_string(p.shape.reduction()) +
                        " times the largest " + op_name(p.op) + " term " + std::to_string(max_abs_term(p.op)) +
                        " overflows a 32-bit accumulator (an operator with smaller terms fits: bwn 128, xnor 1)");
  }
  r.plan = plan_program(g, hw, opt);
  r.stats.total.group_aj.assign(energy_register_groups().size(), 0);
  for (const NodePlan& np : r.plan.nodes) {
    LayerStats s = analytic_layer_stats(np.cost, table);
    r.stats.total.cycles += s.cycles;
    r.stats.total.macs += s.macs;
    r.stats.total.energy_aj += s.energy_aj;
    for (size_t k = 0; k < s.group_aj.size(); ++k) r.stats.total.group_aj[k] += s.group_aj[k];
    r.stats.layers.push_back(std::move(s));
  }
  const double clock = hw.clock_hz > 0 ? hw.clock_hz : table.clock_hz();
  r.sim_time = sc_core::sc_time(static_cast<double>(r.stats.total.cycles) / clock, sc_core::SC_SEC);
  r.loaded_constants = false;
  return r;
}

std::vector<TopologySegment> topology_segments_without_data(const Topology& t,
                                                            const std::vector<LayerChoice>& choice) {
  std::vector<TopologySegment> segs;
  const std::vector<size_t> starts = topology_segment_starts(t);
  for (size_t k = 0; k < starts.size(); ++k) {
    const size_t b = starts[k], e = k + 1 < starts.size() ? starts[k + 1] : t.layers.size();
    std::vector<LayerParams> layers;
    std::vector<std::string> names;
    for (size_t i = b; i < e; ++i) {
      LayerParams p;
      p.shape = t.layers[i].shape;
      p.op = choice.at(i).op;
      p.mode = choice.at(i).mode;
      if (p.mode == Mode::Cim) p.cim = choice.at(i).cim;
      p.rq.relu = true;
      layers.push_back(std::move(p));
      names.push_back(t.layers[i].name);
    }
    TopologySegment s;
    s.graph = topology_segment_graph(layers, names);
    segs.push_back(std::move(s));
  }
  return segs;
}

}  // namespace cimsim::accel
