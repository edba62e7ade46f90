// Simulator runtime (include/cimsim/enos/sim_runtime.hpp).
#include "cimsim/enos/sim_runtime.hpp"

#include <chrono>
#include <cmath>
#include <limits>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/regmap.hpp"
#include "cimsim/core/error.hpp"

namespace cimsim::enos {

using nlohmann::json;

double SimLayerReport::energy_diff_pct() const {
  const double s = energy_pj_per_image();
  if (predicted_pj == 0) return s == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return 100.0 * (s - predicted_pj) / predicted_pj;
}

json SimRunResult::to_json() const {
  json j;
  j["images"] = images;
  j["accel_cycles"] = accel_cycles;
  j["accel_energy_pj"] = static_cast<double>(accel_energy_aj) * 1e-6;
  j["energy_pj_per_image"] = steady_pj_per_image;
  j["first_run_extra_pj"] = first_run_extra_pj;
  j["predicted_energy_pj_per_image"] = predicted_pj_per_image;
  j["predicted_operator_energy_pj_per_image"] = predicted_operator_pj_per_image;
  j["energy_diff_pct"] =
      predicted_pj_per_image > 0 ? 100.0 * (steady_pj_per_image - predicted_pj_per_image) / predicted_pj_per_image : 0.0;
  j["cycles_per_image"] = images ? static_cast<double>(accel_cycles) / images : 0.0;
  j["sim_time_s"] = sim_time_s;
  j["wall_s"] = wall_s;
  json ls = json::array();
  for (const auto& l : layers) {
    json c = json::object();
    for (const auto& [k, v] : l.components_aj) c[k] = static_cast<double>(v) * 1e-6;
    const double d = l.energy_diff_pct();
    const bool vec = accel::is_vector_kind(l.kind);
    ls.push_back({{"node", l.node},
                  {"kind", accel::kind_name(l.kind)},
                  {"op", vec ? "-" : accel::op_name(l.op)},
                  {"mode", vec ? "-" : accel::mode_name(l.mode)},
                  {"cycles_per_image", l.cycles_per_image()},
                  {"model_cycles", l.model_cycles},
                  {"macs_per_image", images ? l.macs / images : 0},
                  {"energy_pj_per_image", l.energy_pj_per_image()},
                  {"predicted_energy_pj", l.predicted_pj},
                  {"energy_diff_pct", std::isfinite(d) ? json(d) : json(nullptr)},
                  {"dram_bytes_per_image", l.dram_bytes},
                  {"utilisation", l.utilisation},
                  {"components_pj_per_image", c}});
  }
  j["layers"] = ls;
  j["host_ops_per_image"] = json::array();
  return j;
}

SimRuntime::SimRuntime(const NetworkExport& e, const EnergyTable& table, const SimOptions& opt)
    : e_(e), table_(table), opt_(opt) {
  if (opt_.has_array) e_.array = opt_.array;
  eg_ = to_graph(e_);
  pred_ = predict_energy(e_, eg_, table_, opt_.program);
  accel::SocConfig cfg;
  cfg.level = opt.level;
  cfg.array = e_.array;
  cfg.mem_size = opt.mem_size;
  if (!opt.vcd.empty() && opt.level == accel::Level::Cycle) vcd_ = std::make_unique<VcdTrace>(opt.vcd);
  soc_ = std::make_unique<accel::AcceleratorSoc>("enos_soc", cfg, table_, vcd_ ? vcd_->file() : nullptr);
}

SimRuntime::~SimRuntime() = default;

std::string SimRuntime::close_trace() { return vcd_ ? vcd_->close() : std::string(); }

SimRunResult SimRuntime::run(const std::vector<std::vector<int8_t>>& images) {
  const auto t0 = std::chrono::steady_clock::now();
  SimRunResult r;
  r.images = static_cast<int64_t>(images.size());
  const accel::Graph& g = eg_.graph;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const accel::GraphNode& n = g.nodes[i];
    const accel::NodePlan& np = pred_.plan.nodes[i];
    SimLayerReport l;
    l.node_index = static_cast<size_t>(eg_.export_node[i]);
    l.node = n.name;
    l.kind = n.params.shape.kind;
    l.op = n.params.op;
    l.mode = n.params.mode;
    l.predicted_pj = aj_to_pj(np.cost.total_aj(table_));
    l.model_cycles = np.cost.cycles;
    l.dram_bytes = np.cost.dram_bytes();
    l.utilisation = np.cost.utilisation();
    r.predicted_pj_per_image += l.predicted_pj;
    r.predicted_operator_pj_per_image += aj_to_pj(np.cost.operator_aj(table_));
    r.layers.push_back(std::move(l));
  }
  for (const auto& img : images)
    if (static_cast<int64_t>(img.size()) != e_.input.elems())
      throw ConfigError("simulator runtime: an image has " + std::to_string(img.size()) + " values, the input tensor '" +
                        e_.input.name + "' needs " + std::to_string(e_.input.elems()));
  const auto& groups = accel::energy_register_groups();
  sc_core::sc_time sim_time = sc_core::SC_ZERO_TIME;
  int64_t first_aj = 0, last_aj = 0;
  soc_->run([&](accel::AcceleratorDriver& d) {
    d.probe();
    for (size_t k = 0; k < images.size(); ++k) {
      accel::GraphResult gr = d.run_graph(g, images[k], opt_.program);
      sim_time += gr.sim_time;
      InferenceResult res;
      res.logits = gr.outputs.at(0);
      res.prediction = argmax(res.logits);
      r.results.push_back(std::move(res));
      int64_t run_aj = 0;
      for (size_t i = 0; i < r.layers.size(); ++i) {
        SimLayerReport& l = r.layers[i];
        const accel::LayerStats& s = gr.stats.layers.at(i);
        ++l.images;
        l.cycles += s.cycles;
        l.macs += s.macs;
        l.energy_aj += s.energy_aj;
        l.steady_energy_aj = s.energy_aj;
        l.steady_cycles = s.cycles;
        l.components_aj.clear();
        for (size_t gi = 0; gi < s.group_aj.size() && gi < groups.size(); ++gi)
          if (s.group_aj[gi] != 0) l.components_aj[groups[gi]] = s.group_aj[gi];
        run_aj += s.energy_aj;
      }
      if (k == 0) first_aj = run_aj;
      last_aj = run_aj;
    }
  });
  for (const auto& l : r.layers) {
    r.accel_cycles += l.cycles;
    r.accel_energy_aj += l.energy_aj;
  }
  r.steady_pj_per_image = aj_to_pj(last_aj);
  r.first_run_extra_pj = aj_to_pj(first_aj - last_aj);
  r.sim_time_s = sim_time.to_seconds();
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace cimsim::enos
