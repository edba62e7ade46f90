// ENOS energy breakdown: for each network and uni-operator assignment, the per-image energy of the accelerator
// layers split by cost-model component (accel::layer_cost(...).energy_aj), to show how much of a layer's energy
// the operator choice can change (compute, ADC, DAC) versus data movement (DMA, buffers) and the rest.
// Usage: enos_energy_breakdown [--nets squeezenet,shufflenet]   (Fashion-MNIST shapes: 1x28x28, 10 classes)
#include <cstdio>
#include <map>
#include <sstream>
#include <string>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/enos/search/torch_impl.hpp"

using namespace cimsim;
using namespace cimsim::enos::search;

int main(int argc, char** argv) {
  std::string nets = "squeezenet,shufflenet";
  if (argc == 3 && std::string(argv[1]) == "--nets") nets = argv[2];
  const EnergyTable table = EnergyTable::load_default();
  const accel::ArrayConfig cfg;
  std::stringstream ss(nets);
  std::string net;
  std::printf("| net | assignment | total (pJ) | compute | adc | dac | compute+adc+dac share | dma | dma share | buffers | other |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  while (std::getline(ss, net, ',')) {
    for (const Candidate& c : all_candidates()) {
      SearchNet sn(net, 1, 28, 28, 10, std::vector<Candidate>{c}, 5);
      std::map<std::string, double> comp;  // pJ
      double total = 0;
      for (auto& L : sn->layers) {
        const accel::LayerCost lc = accel::layer_cost(cfg, L->shape, L->cands[0].op, L->cands[0].mode, L->cim[0]);
        for (const auto& [k, aj] : lc.energy_aj(table)) {
          comp[k] += static_cast<double>(aj) * 1e-6;
          total += static_cast<double>(aj) * 1e-6;
        }
      }
      const double cad = comp["compute"] + comp["adc"] + comp["dac"];
      const double buf = comp["weight_buffer"] + comp["act_buffer"];
      const double other = total - cad - comp["dma"] - buf;
      std::printf("| %s | %s | %.4g | %.4g | %.4g | %.4g | %.1f %% | %.4g | %.1f %% | %.4g | %.4g |\n", net.c_str(),
                  candidate_name(c).c_str(), total, comp["compute"], comp["adc"], comp["dac"], 100 * cad / total,
                  comp["dma"], 100 * comp["dma"] / total, buf, other);
    }
  }
  return 0;
}
