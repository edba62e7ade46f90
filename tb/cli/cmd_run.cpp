// `cimsim run`: the accelerator SoC testbench. Runs the built-in multi-layer network (random seeded weights and
// input) on the LT or cycle-level model through the host driver, prints a per-layer table, checks the outputs
// against the datapath run layer by layer (PASS/FAIL), optionally writes a VCD trace and a JSON report.
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command_registry.hpp"
#include "cimsim/accel/random_network.hpp"
#include "cimsim/accel/soc.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/soc/vcd_trace.hpp"

namespace {

using namespace cimsim;
using namespace cimsim::accel;

struct Options {
  std::string level = "lt";
  std::string vcd;  // empty: no trace
  bool vcd_on = false;
  std::string report;
  uint64_t seed = 1;
  std::string array = "16x16";
  std::string tech;
};

std::string shape_str(const LayerShape& s) {
  std::ostringstream o;
  if (s.kind == LayerKind::FullyConnected) {
    o << "fc " << s.cin << "->" << s.cout;
  } else {
    o << s.cin << "x" << s.h << "x" << s.w << " k" << s.kh << "x" << s.kw << " s" << s.stride << " p" << s.pad;
    if (s.groups > 1) o << " g" << s.groups;
    o << " ->" << s.cout << "x" << s.out_h() << "x" << s.out_w();
  }
  return o.str();
}

int do_run(const Options& o) {
  SocConfig cfg;
  if (o.level == "lt")
    cfg.level = Level::Lt;
  else if (o.level == "cycle")
    cfg.level = Level::Cycle;
  else
    throw ConfigError("run: --level must be lt or cycle, got '" + o.level + "'");
  int r = 0, c = 0;
  char x = 0, extra = 0;
  if (std::sscanf(o.array.c_str(), "%d%c%d%c", &r, &x, &c, &extra) != 3 || (x != 'x' && x != 'X') || r < 1 ||
      c < 1 || r > 256 || c > 256)
    throw ConfigError("run: --array must be RxC with 1 <= R, C <= 256, got '" + o.array + "'");
  cfg.array.rows = r;
  cfg.array.cols = c;
  const EnergyTable table = o.tech.empty() ? EnergyTable::load_default() : EnergyTable::load(o.tech);

  const std::vector<int8_t> input = builtin_input(o.seed);
  const std::vector<LayerParams> net = builtin_network(o.seed, input);
  const auto expect = run_chain(net, input);

  std::unique_ptr<VcdTrace> vcd;
  if (o.vcd_on) vcd = std::make_unique<VcdTrace>(o.vcd.empty() ? std::string("accel") : o.vcd, sc_core::SC_PS);
  AcceleratorSoc soc("soc", cfg, table, vcd ? vcd->file() : nullptr);

  const auto t0 = std::chrono::steady_clock::now();
  NetworkResult res = soc.run_network(net, input);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string vcd_path;
  if (vcd) vcd_path = vcd->close();

  bool pass = res.outputs.size() == expect.size();
  std::vector<bool> layer_ok;
  for (size_t i = 0; i < net.size(); ++i) {
    layer_ok.push_back(i < res.outputs.size() && res.outputs[i] == expect[i]);
    pass = pass && layer_ok.back();
  }

  const auto& groups = energy_register_groups();
  const ArrayConfig& acfg = soc.accelerator().config();
  std::printf("cimsim run: level %s, array %dx%d (CIM macro %dx%d), seed %llu, %zu layers\n", level_name(cfg.level),
              acfg.rows, acfg.cols, acfg.cim_rows, acfg.cim_cols, static_cast<unsigned long long>(o.seed), net.size());
  std::printf("%-5s %-9s %-7s %-34s %10s %9s %12s  %s\n", "layer", "op", "mode", "shape", "MACs", "cycles",
              "energy pJ", "components (pJ)");
  nlohmann::json rows = nlohmann::json::array();
  for (size_t i = 0; i < net.size(); ++i) {
    const LayerParams& p = net[i];
    const LayerStats& s = res.stats.layers[i];
    std::ostringstream comp;
    nlohmann::json cj = nlohmann::json::object();
    for (size_t g = 0; g < groups.size(); ++g) {
      const double pj = static_cast<double>(s.group_aj[g]) * 1e-6;
      cj[groups[g]] = pj;
      if (s.group_aj[g] != 0) comp << groups[g] << "=" << pj << " ";
    }
    std::printf("%-5zu %-9s %-7s %-34s %10lld %9lld %12.3f  %s%s\n", i, op_name(p.op), mode_name(p.mode),
                shape_str(p.shape).c_str(), static_cast<long long>(s.macs), static_cast<long long>(s.cycles),
                s.energy_pj(), comp.str().c_str(), layer_ok[i] ? "" : " MISMATCH");
    rows.push_back({{"layer", i},
                    {"op", op_name(p.op)},
                    {"mode", mode_name(p.mode)},
                    {"kind", p.shape.kind == LayerKind::FullyConnected ? "fc" : "conv2d"},
                    {"shape",
                     {{"n", p.shape.n}, {"cin", p.shape.cin}, {"h", p.shape.h}, {"w", p.shape.w},
                      {"cout", p.shape.cout}, {"kh", p.shape.kh}, {"kw", p.shape.kw}, {"stride", p.shape.stride},
                      {"pad", p.shape.pad}, {"groups", p.shape.groups}}},
                    {"macs", s.macs},
                    {"cycles", s.cycles},
                    {"energy_pj", s.energy_pj()},
                    {"energy_aj", s.energy_aj},
                    {"components_pj", cj},
                    {"match", static_cast<bool>(layer_ok[i])}});
  }
  const LayerStats& t = res.stats.total;
  nlohmann::json tc = nlohmann::json::object();
  for (size_t g = 0; g < groups.size(); ++g) tc[groups[g]] = static_cast<double>(t.group_aj[g]) * 1e-6;
  std::printf("%-5s %-9s %-7s %-34s %10lld %9lld %12.3f\n", "total", "", "", "", static_cast<long long>(t.macs),
              static_cast<long long>(t.cycles), t.energy_pj());
  std::printf("simulated %s for the network; wall %.3f s\n", res.sim_time.to_string().c_str(), wall);
  uint64_t edges = 0;
  if (auto* cyc = soc.cycle_model()) {
    edges = cyc->clock_edges();
    std::printf("%s; array utilisation %.1f%%\n", cycles_per_second_report(edges, wall).c_str(),
                100.0 * cyc->utilisation());
  } else {
    std::printf("%s (LT: annotated cycles)\n", cycles_per_second_report(static_cast<uint64_t>(t.cycles), wall).c_str());
  }
  if (!vcd_path.empty()) std::printf("VCD trace: %s (GTKWave: gtkwave %s traces/accel.gtkw)\n", vcd_path.c_str(), vcd_path.c_str());
  std::printf("check against datapath::run_layer chained: %s\n", pass ? "PASS" : "FAIL");

  if (!o.report.empty()) {
    nlohmann::json j;
    j["tool"] = "cimsim run";
    j["config"] = {{"level", level_name(cfg.level)},
                   {"array", {{"rows", acfg.rows}, {"cols", acfg.cols}}},
                   {"cim_macro", {{"rows", acfg.cim_rows}, {"cols", acfg.cim_cols}}},
                   {"weight_buffer_bytes", acfg.weight_buffer_bytes},
                   {"act_buffer_bytes", acfg.act_buffer_bytes},
                   {"dma_bytes_per_cycle", acfg.dma_bytes_per_cycle},
                   {"adc_cycles_per_bit", acfg.adc_cycles_per_bit},
                   {"clock_hz", table.clock_hz()},
                   {"tech", table.origin()},
                   {"tech_fingerprint", table.fingerprint()}};
    j["seed"] = o.seed;
    j["layers"] = rows;
    j["totals"] = {{"macs", t.macs}, {"cycles", t.cycles}, {"energy_pj", t.energy_pj()}, {"energy_aj", t.energy_aj},
                   {"components_pj", tc}};
    j["sim_time_ps"] = res.sim_time.value();
    j["wall_s"] = wall;
    if (edges) j["clock_edges"] = edges;
    j["check"] = pass ? "PASS" : "FAIL";
    if (!vcd_path.empty()) j["vcd"] = vcd_path;
    atomic_write_json(o.report, j);
    std::printf("report: %s\n", o.report.c_str());
  }
  return pass ? 0 : 1;
}

cimsim::cli::Registrar reg("run", [](CLI::App& app) -> cimsim::cli::Runner {
  auto* sub = app.add_subcommand("run", "Accelerator SoC testbench: built-in network on the LT or cycle-level model");
  auto o = std::make_shared<Options>();
  sub->add_option("--level", o->level, "Abstraction level: lt or cycle")->capture_default_str();
  sub->add_option("--vcd", o->vcd, "Write a VCD trace (default traces/accel.vcd; cycle level)")->expected(0, 1);
  sub->add_option("--report", o->report, "Write a JSON report to this path (atomically)");
  sub->add_option("--seed", o->seed, "Seed of the weights and input")->capture_default_str();
  sub->add_option("--array", o->array, "MAC-core array size RxC")->capture_default_str();
  sub->add_option("--tech", o->tech, "Energy table (default: $CIMSIM_TECH or data/tech/45nm.json)");
  return [sub, o] {
    if (!sub->parsed()) return -1;
    o->vcd_on = sub->count("--vcd") > 0;
    return do_run(*o);
  };
});

}  // namespace
