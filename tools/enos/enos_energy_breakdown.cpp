// ENOS energy breakdown: for each network, input shape and uni-operator assignment, the per-image system energy
// of the whole program as the simulator runs it (layers + vector ops, activations resident, constants pinned:
// accel::plan_program through SearchNet::set_energies) and its split by component, the operator-only energy,
// and both relative to the all-MAC8 network. Shows how much the operator choice can change.
// Usage: enos_energy_breakdown [--nets squeezenet,shufflenet] [--arch FILE] [--shapes 1x28x28,3x32x32]
#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "cimsim/accel/arch.hpp"
#include "cimsim/accel/cost_model.hpp"
#include "cimsim/enos/search/torch_impl.hpp"

using namespace cimsim;
using namespace cimsim::enos::search;

int main(int argc, char** argv) {
  std::string nets = "squeezenet,shufflenet", arch, shapes = "1x28x28,3x32x32";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    if (k == "--nets") nets = argv[i + 1];
    else if (k == "--arch") arch = argv[i + 1];
    else if (k == "--shapes") shapes = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: enos_energy_breakdown [--nets a,b] [--arch FILE] [--shapes CxHxW,...]\n");
      return 2;
    }
  }
  try {
    accel::ArrayConfig cfg;
    std::string tech;
    if (!arch.empty()) {
      const accel::Architecture a = accel::load_architecture(arch);
      cfg = a.array;
      tech = a.tech_path;
    }
    const EnergyTable table = tech.empty() ? EnergyTable::load_default() : EnergyTable::load(tech);
    std::printf("| net | input | assignment | system pJ | / MAC8 | operator pJ | / MAC8 | compute+adc+dac | dram+descriptor | "
                "buffers | requant | vector | leakage |\n");
    std::printf("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    std::stringstream ns(nets);
    std::string net;
    while (std::getline(ns, net, ',')) {
      std::stringstream ss(shapes);
      std::string shp;
      while (std::getline(ss, shp, ',')) {
        int c = 0, h = 0, w = 0;
        if (std::sscanf(shp.c_str(), "%dx%dx%d", &c, &h, &w) != 3) throw ConfigError("bad --shapes entry '" + shp + "'");
        double mac8_sys = 0, mac8_op = 0;
        for (const Candidate& cand : all_candidates()) {
          SearchNet sn(net, c, h, w, 10, std::vector<Candidate>{cand}, 5);
          sn->set_energies(cfg, table);
          std::map<std::string, double> comp;  // pJ
          double total = sn->vector_energy_pj();
          comp["vector"] = total;
          for (size_t l = 0; l < sn->layers.size(); ++l) {
            auto& L = sn->layers[l];
            const accel::LayerCost lc = accel::layer_cost(accel::ArrayConfig::with_table(cfg, table), L->shape,
                                                          L->cands[0].op, L->cands[0].mode, L->cim[0],
                                                          sn->layer_place[l]);
            for (const auto& [k, aj] : lc.energy_aj(table)) {
              comp[k] += aj_to_pj(aj);
              total += aj_to_pj(aj);
            }
          }
          const double op = comp["compute"] + comp["adc"] + comp["dac"];
          if (candidate_name(cand) == "mac8") {
            mac8_sys = total;
            mac8_op = op;
          }
          std::printf("| %s | %s | %s | %.4g | %.3f | %.4g | %.3f | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.1f %% |\n",
                      net.c_str(), shp.c_str(), candidate_name(cand).c_str(), total, mac8_sys > 0 ? total / mac8_sys : 0,
                      op, mac8_op > 0 ? op / mac8_op : 0, 100 * op / total,
                      100 * (comp["dram"] + comp["descriptor"]) / total,
                      100 * (comp["weight_buffer"] + comp["act_buffer"] + comp["cim_write"]) / total,
                      100 * comp["requant"] / total, 100 * comp["vector"] / total, 100 * comp["leakage"] / total);
        }
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "enos_energy_breakdown: %s\n", e.what());
    return 2;
  }
  return 0;
}
