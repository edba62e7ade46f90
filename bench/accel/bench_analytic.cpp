// The analytic level against LT on ResNet-50 (224 x 224, data/topologies/resnet50.csv, MAC8 digital, default
// architecture): simulated MACs per wall second of each, side by side in one process (docs/performance.md,
// "Analytic level"). LT: the SoC's run_graph of every segment (steady state, as `cimsim run` reports);
// analytic: analytic_run_graph of the same graphs. Each round times both; the ratio is printed per round and
// as min / median / max. Both must give the same cycles (checked; exit 1 otherwise).
// Usage: bench_analytic [--rounds R] [--topology FILE] [--arch FILE]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cimsim/accel/analytic.hpp"
#include "cimsim/accel/arch.hpp"
#include "cimsim/accel/random_network.hpp"
#include "cimsim/accel/soc.hpp"
#include "cimsim/accel/topology.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using Clock = std::chrono::steady_clock;

int sc_main(int argc, char* argv[]) {
  int rounds = 5;
  std::string topo = std::string(CIMSIM_SOURCE_DIR) + "/data/topologies/resnet50.csv", arch;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--rounds" && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--topology" && i + 1 < argc) topo = argv[++i];
    else if (a == "--arch" && i + 1 < argc) arch = argv[++i];
    else {
      std::fprintf(stderr, "usage: bench_analytic [--rounds R] [--topology FILE] [--arch FILE]\n");
      return 2;
    }
  }
  const EnergyTable table = EnergyTable::load_default();
  SocConfig cfg;
  if (!arch.empty()) cfg.array = load_architecture(arch).array;
  const Topology t = load_topology(topo);
  LayerChoice mac8;
  const auto segs = random_topology_segments(t, apply_assignment(t, {}, mac8), 1);
  std::vector<const Graph*> gs;
  for (const auto& s : segs) gs.push_back(&s.graph);
  size_memory(cfg, workload_memory(gs), 0, "");
  AcceleratorSoc soc("soc", cfg, table);
  const ArrayConfig hw = soc.accelerator().config();
  std::vector<double> ratios;
  bool ok = true;
  for (int round = 0; round < rounds; ++round) {
    int64_t lt_macs = 0, lt_cycles = 0;
    const auto t0 = Clock::now();
    soc.run([&](AcceleratorDriver& d) {
      for (const auto& s : segs) {
        GraphResult g = d.run_graph(s.graph, s.input);
        if (g.loaded_constants) g = d.run_graph(s.graph, s.input);
        ok = ok && g.outputs == s.expect;
        lt_cycles += g.stats.total.cycles;
        lt_macs += g.stats.total.macs;
      }
    });
    const double lt_s = std::chrono::duration<double>(Clock::now() - t0).count();
    int reps = 0;
    int64_t an_macs = 0, an_cycles = 0;
    const auto t1 = Clock::now();
    double an_s = 0;
    do {
      for (const auto& s : segs) {
        const GraphResult g = analytic_run_graph(s.graph, hw, table);
        an_macs += g.stats.total.macs;
        an_cycles += g.stats.total.cycles;
      }
      ++reps;
      an_s = std::chrono::duration<double>(Clock::now() - t1).count();
    } while (an_s < 0.2);
    ok = ok && an_cycles == lt_cycles * reps && an_macs == lt_macs * reps;
    const double lt_rate = static_cast<double>(lt_macs) / lt_s, an_rate = static_cast<double>(an_macs) / an_s;
    ratios.push_back(an_rate / lt_rate);
    std::printf("round %d: %s (%.3g MACs): LT %.3f s = %.3g MACs/s; analytic %.3g ms = %.3g MACs/s (%d reps); "
                "analytic / LT = %.0f\n",
                round + 1, t.name.c_str(), static_cast<double>(lt_macs), lt_s, lt_rate, 1e3 * an_s / reps, an_rate,
                reps, an_rate / lt_rate);
  }
  std::sort(ratios.begin(), ratios.end());
  std::printf("analytic / LT simulated MACs per wall second: min %.0f, median %.0f, max %.0f (target >= 1000)%s\n",
              ratios.front(), ratios[ratios.size() / 2], ratios.back(), ok ? "" : "  CHECK FAILED");
  return ok ? 0 : 1;
}
