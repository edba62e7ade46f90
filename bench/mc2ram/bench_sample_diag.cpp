// `cimsim sample` end to end, split: the LT simulation of N draws and the diagnostics of those draws
// (diag::summarize), side by side in one process (issue 23, item 5: the diagnostics of 1 M draws should take no
// longer than the simulation). The simulation runs once (one SystemC elaboration per process); summarize runs
// --repeat times on its draws, and the median is reported with the ratio diagnostics / simulation.
//   bench_sample_diag [--samples N] [--chains C] [--repeat R] [--json path]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cimsim/core/io.hpp"
#include "cimsim/diag/diagnostics.hpp"
#include "mc2ram/system.hpp"

using namespace cimsim;
using namespace cimsim::mc2ram;

int sc_main(int argc, char* argv[]) {
  int chains = 4, repeat = 3;
  uint32_t samples = 250000;
  std::string json_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--chains" && i + 1 < argc) chains = std::atoi(argv[++i]);
    else if (a == "--samples" && i + 1 < argc) samples = static_cast<uint32_t>(std::atol(argv[++i]));
    else if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--json" && i + 1 < argc) json_path = argv[++i];
  }
  try {
    SampleJob j;
    j.gmm = diag::Gmm::paper_default();
    j.chains = chains;
    j.samples = samples;
    j.seed = 1;
    const SystemRun run = run_system(j, Level::LT, "");
    if (!run.error.empty()) throw std::runtime_error(run.error);
    std::vector<double> diag_s;
    double sink = 0;
    for (int r = 0; r < repeat; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const diag::Summary s = diag::summarize(run.result.draws, j.gmm, run.result.acceptance);
      diag_s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      sink += s.ess_bulk[0];
    }
    std::sort(diag_s.begin(), diag_s.end());
    const double med = diag_s[diag_s.size() / 2];
    const double n = static_cast<double>(chains) * samples;
    std::printf("sample end to end, paper GMM, %d chains x %u samples (%.3g draws), LT, one process:\n", chains,
                samples, n);
    std::printf("  simulation (run_system, LT)   %.3f s\n", run.wall_s);
    std::printf("  diagnostics (summarize)       %.3f s median of %d (min %.3f, max %.3f)\n", med, repeat,
                diag_s.front(), diag_s.back());
    std::printf("  diagnostics / simulation      %.2f (target <= 1)   [ESS check %.0f]\n", med / run.wall_s, sink);
    if (!json_path.empty())
      atomic_write_json(json_path, {{"draws", n},
                                    {"simulation_s", run.wall_s},
                                    {"diagnostics_s_median", med},
                                    {"diagnostics_s", diag_s},
                                    {"ratio", med / run.wall_s}});
  } catch (const std::exception& e) {
    std::cerr << "bench_sample_diag: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
