// MC2RAM simulation speed, in one run: samples per wall-second of the LT model, the cycle-level model
// (and its clock cycles per second, tracing off), the plain datapath, and a native double-precision MH
// sampler on the same GMM. Each SystemC level runs in its own child process (one elaboration per process).
//   bench_mc2ram [--samples N] [--chains C] [--json path]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "cimsim/core/io.hpp"
#include "mc2ram/system.hpp"

using namespace cimsim;
using namespace cimsim::mc2ram;

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

SampleJob job(int chains, uint32_t samples) {
  SampleJob j;
  j.gmm = diag::Gmm::paper_default();
  j.chains = chains;
  j.samples = samples;
  j.seed = 3;
  return j;
}

nlohmann::json child(const std::string& level, int chains, uint32_t samples) {
  const std::string vcd = level == "cycle-vcd" ? "/tmp/bench_mc2ram_trace" : "";
  const SystemRun r = run_system(job(chains, samples), level == "lt" ? Level::LT : Level::Cycle, vcd);
  if (!r.vcd_file.empty()) std::remove(r.vcd_file.c_str());
  if (!r.error.empty()) throw std::runtime_error(r.error);
  const double n = static_cast<double>(chains) * samples;
  return {{"level", level},
          {"samples", n},
          {"wall_s", r.wall_s},
          {"samples_per_s", n / r.wall_s},
          {"cycles", r.result.cycles},
          {"cycles_per_s", static_cast<double>(r.result.cycles) / r.wall_s}};
}

nlohmann::json spawn(const char* self, const std::string& level, int chains, uint32_t samples) {
  const std::string cmd = std::string(self) + " --child " + level + " --chains " + std::to_string(chains) +
                          " --samples " + std::to_string(samples);
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  if (pclose(p) != 0) throw std::runtime_error("child failed: " + cmd + "\n" + out);
  return nlohmann::json::parse(out.substr(out.find('{')));
}
}  // namespace

int sc_main(int argc, char* argv[]) {
  std::string child_level, json_path;
  int chains = 4;
  uint32_t samples = 250000;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--child" && i + 1 < argc) child_level = argv[++i];
    else if (a == "--chains" && i + 1 < argc) chains = std::atoi(argv[++i]);
    else if (a == "--samples" && i + 1 < argc) samples = static_cast<uint32_t>(std::atol(argv[++i]));
    else if (a == "--json" && i + 1 < argc) json_path = argv[++i];
  }
  try {
    if (!child_level.empty()) {
      std::cout << child(child_level, chains, samples).dump() << std::endl;
      return 0;
    }
    const SampleJob j = job(chains, samples);
    const double n = static_cast<double>(chains) * samples;
    // Native MH (double precision, same GMM, same chains and sample count).
    double acc = 0;
    double t0 = now();
    const diag::Draws d = native_mh(j.gmm, chains, static_cast<int>(samples), compile_gmm(j.gmm).steps, j.seed, &acc);
    const double native_s = now() - t0;
    volatile double sink = d.data[d.data.size() / 2];
    (void)sink;
    // Datapath alone (no SystemC).
    const Compiled c = compile_gmm(j.gmm, j.compile);
    t0 = now();
    const FunctionalRun f = run_functional(c.program, j.knobs, chains, samples, j.seed, initial_states(j.gmm, c, chains),
                                           EnergyModel::from_table(EnergyTable::load_default(), j.knobs.vdd));
    const double dp_s = now() - t0;
    const nlohmann::json lt = spawn(argv[0], "lt", chains, samples);
    const nlohmann::json cy = spawn(argv[0], "cycle", chains, samples);
    const uint32_t vcd_samples = std::min<uint32_t>(samples, 20000);  // traces grow ~100 B per cycle
    const nlohmann::json cv = spawn(argv[0], "cycle-vcd", chains, vcd_samples);
    const double native_rate = n / native_s;
    nlohmann::json rep = {{"gmm", "paper_default (2-D, K=2)"},
                          {"chains", chains},
                          {"samples_per_chain", samples},
                          {"native_samples_per_s", native_rate},
                          {"datapath_samples_per_s", n / dp_s},
                          {"lt", lt},
                          {"cycle", cy},
                          {"cycle_vcd", cv},
                          {"lt_vs_native", lt["samples_per_s"].get<double>() / native_rate},
                          {"cycle_vs_native", cy["samples_per_s"].get<double>() / native_rate},
                          {"datapath_cycles", f.cycles}};
    std::printf("MC2RAM simulation speed: paper GMM, %d chains x %u samples (tracing off)\n", chains, samples);
    std::printf("  native double MH      %10.3g samples/s\n", native_rate);
    std::printf("  datapath only         %10.3g samples/s (%.2fx native)\n", n / dp_s, n / dp_s / native_rate);
    std::printf("  LT SystemC            %10.3g samples/s (%.2fx native; target >= 0.5x)\n",
                lt["samples_per_s"].get<double>(), rep["lt_vs_native"].get<double>());
    std::printf("  cycle-level SystemC   %10.3g samples/s (%.2fx native), %.3g clock cycles/s (target >= 1e6)\n",
                cy["samples_per_s"].get<double>(), rep["cycle_vs_native"].get<double>(),
                cy["cycles_per_s"].get<double>());
    std::printf("  cycle-level + VCD     %10.3g samples/s, %.3g clock cycles/s (%u samples/chain)\n",
                cv["samples_per_s"].get<double>(), cv["cycles_per_s"].get<double>(), vcd_samples);
    if (!json_path.empty()) atomic_write_json(json_path, rep);
  } catch (const std::exception& e) {
    std::cerr << "bench_mc2ram: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
