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
  const double per = images ? static_cast<double>(accel_energy_aj) * 1e-6 / images : 0.0;
  j["energy_pj_per_image"] = per;
  j["predicted_energy_pj_per_image"] = predicted_pj_per_image;
  j["energy_diff_pct"] = predicted_pj_per_image > 0 ? 100.0 * (per - predicted_pj_per_image) / predicted_pj_per_image : 0.0;
  j["cycles_per_image"] = images ? static_cast<double>(accel_cycles) / images : 0.0;
  j["sim_time_s"] = sim_time_s;
  j["wall_s"] = wall_s;
  json ls = json::array();
  for (const auto& l : layers) {
    json c = json::object();
    for (const auto& [k, v] : l.components_aj) c[k] = images ? static_cast<double>(v) * 1e-6 / images : 0.0;
    const double d = l.energy_diff_pct();
    ls.push_back({{"node", l.node},
                  {"op", accel::op_name(l.op)},
                  {"mode", accel::mode_name(l.mode)},
                  {"cycles_per_image", l.cycles_per_image()},
                  {"model_cycles", l.model_cycles},
                  {"macs_per_image", images ? l.macs / images : 0},
                  {"energy_pj_per_image", l.energy_pj_per_image()},
                  {"predicted_energy_pj", l.predicted_pj},
                  {"energy_diff_pct", std::isfinite(d) ? json(d) : json(nullptr)},
                  {"components_pj_per_image", c}});
  }
  j["layers"] = ls;
  json hs = json::array();
  for (const auto& h : host_ops)
    hs.push_back({{"node", h.node}, {"kind", node_kind_name(h.kind)}, {"in_elems", h.in_elems},
                  {"out_elems", h.out_elems}, {"ops", h.ops}});
  j["host_ops_per_image"] = hs;
  return j;
}

SimRuntime::SimRuntime(const NetworkExport& e, const EnergyTable& table, const SimOptions& opt)
    : e_(e), table_(table), opt_(opt), g_(e_) {
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
  r.host_ops = host_op_work(e_);
  const accel::ArrayConfig hw = accel::ArrayConfig::with_table(e_.array, table_);
  std::vector<int> slot(e_.nodes.size(), -1);
  for (size_t i = 0; i < e_.nodes.size(); ++i) {
    const Node& n = e_.nodes[i];
    if (n.kind != NodeKind::Accel) continue;
    slot[i] = static_cast<int>(r.layers.size());
    SimLayerReport l;
    l.node_index = i;
    l.node = n.name;
    l.op = n.layer.op;
    l.mode = n.layer.mode;
    l.predicted_pj = n.predicted_energy_pj;
    l.model_cycles = accel::layer_cost(hw, n.layer.shape, n.layer.op, n.layer.mode, n.layer.cim).cycles;
    r.predicted_pj_per_image += n.predicted_energy_pj;
    r.layers.push_back(std::move(l));
  }
  for (const auto& img : images)
    if (static_cast<int64_t>(img.size()) != e_.input.elems())
      throw ConfigError("simulator runtime: an image has " + std::to_string(img.size()) + " values, the input tensor '" +
                        e_.input.name + "' needs " + std::to_string(e_.input.elems()));
  const auto& groups = accel::energy_register_groups();
  sc_core::sc_time sim_time = sc_core::SC_ZERO_TIME;
  soc_->run([&](accel::AcceleratorDriver& d) {
    d.probe();
    for (const auto& img : images) {
      r.results.push_back(g_.run(img.data(), [&](size_t index, const Node& n, const int8_t* in, int8_t* out) {
        const std::vector<int8_t> input(in, in + n.layer.shape.input_elems());
        accel::NetworkResult nr = d.run_network({n.layer}, input);
        std::copy(nr.outputs.at(0).begin(), nr.outputs.at(0).end(), out);
        sim_time += nr.sim_time;
        SimLayerReport& l = r.layers[slot[index]];
        const accel::LayerStats& s = nr.stats.layers.at(0);
        ++l.images;
        l.cycles += s.cycles;
        l.macs += s.macs;
        l.energy_aj += s.energy_aj;
        for (size_t gi = 0; gi < s.group_aj.size() && gi < groups.size(); ++gi)
          if (s.group_aj[gi] != 0) l.components_aj[groups[gi]] += s.group_aj[gi];
      }));
    }
  });
  for (const auto& l : r.layers) {
    r.accel_cycles += l.cycles;
    r.accel_energy_aj += l.energy_aj;
  }
  r.sim_time_s = sim_time.to_seconds();
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

}  // namespace cimsim::enos
