// Accelerator speed benchmark (a bench tool, not a test): MACs per wall-second on one fixed conv layer for
//   native  a plain C++ reference loop (int8 x int8 -> int32, requantized), no simulation
//   lt      the LT model in the SoC (host driver, DMA, datapath::run_layer)
//   cycle   the cycle-level model, tracing off
//   cycle-vcd  the cycle-level model with VCD tracing on
//   empty   the baseline of the cycle level: an empty SC_METHOD on a 1 GHz sc_clock (clock edges per second)
//   resnet-lt  ResNet-18 (data/topologies/resnet18.csv, 1.8 G MACs, MAC8 digital) at LT through the program
//           compiler, default architecture: wall seconds for the whole network
// SystemC allows one elaboration per process, so `bench_accel` (mode "all") runs itself once per mode; the
// cycle, cycle-vcd and empty modes once per round (--rounds, default 3), interleaved, and the clock-rate ratios
// are reported per round and as min / median / max over the rounds.
// Usage: bench_accel [all|native|lt|cycle|cycle-vcd|empty|resnet-lt] [--reps N] [--rounds R] [--json out.json]
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <systemc>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/accel/random_network.hpp"
#include "cimsim/accel/soc.hpp"
#include "cimsim/accel/topology.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/soc/vcd_trace.hpp"

namespace {

using namespace cimsim;
using namespace cimsim::accel;
using Clock = std::chrono::steady_clock;

LayerShape bench_shape() {
  LayerShape s;  // 32x32x32 -> 32, 3x3, pad 1: 9.4 M MACs
  s.cin = 32;
  s.h = s.w = 32;
  s.cout = 32;
  s.kh = s.kw = 3;
  s.pad = 1;
  return s;
}

// Native reference: direct convolution, MAC8, requantized (no simulation, no datapath call).
void native_conv(const LayerParams& p, const int8_t* in, int8_t* out) {
  const LayerShape& s = p.shape;
  const int OH = s.out_h(), OW = s.out_w();
  std::vector<int32_t> acc(static_cast<size_t>(OH) * OW);
  for (int oc = 0; oc < s.cout; ++oc) {
    std::fill(acc.begin(), acc.end(), 0);
    for (int ci = 0; ci < s.cin; ++ci)
      for (int ky = 0; ky < s.kh; ++ky)
        for (int kx = 0; kx < s.kw; ++kx) {
          const int32_t w = p.weights[((static_cast<size_t>(oc) * s.cin + ci) * s.kh + ky) * s.kw + kx];
          for (int oy = 0; oy < OH; ++oy) {
            const int iy = oy * s.stride - s.pad + ky;
            if (iy < 0 || iy >= s.h) continue;
            const int8_t* row = in + (static_cast<size_t>(ci) * s.h + iy) * s.w;
            int32_t* a = &acc[static_cast<size_t>(oy) * OW];
            for (int ox = 0; ox < OW; ++ox) {
              const int ix = ox * s.stride - s.pad + kx;
              if (ix >= 0 && ix < s.w) a[ox] += row[ix] * w;
            }
          }
        }
    for (int i = 0; i < OH * OW; ++i) {
      const int64_t v = static_cast<int64_t>(acc[i]) * p.rq.mult[oc] + p.rq.bias[oc];
      const int sh = p.rq.shift[oc];
      const int64_t q = sh ? (v + (int64_t{1} << (sh - 1))) >> sh : v;
      out[static_cast<size_t>(oc) * OH * OW + i] = static_cast<int8_t>(std::clamp<int64_t>(q, p.rq.relu ? 0 : -128, 127));
    }
  }
}

struct Result {
  std::string mode;
  double wall_s = 0;
  int64_t macs = 0;
  int64_t cycles = 0;
  bool ok = false;
};

struct EmptyClocked : sc_core::sc_module {
  sc_core::sc_clock clk;
  uint64_t edges = 0;
  SC_HAS_PROCESS(EmptyClocked);
  explicit EmptyClocked(sc_core::sc_module_name n) : sc_module(n), clk("clk", sc_core::sc_time(1, sc_core::SC_NS)) {
    SC_METHOD(tick);
    sensitive << clk.posedge_event();
    dont_initialize();
  }
  void tick() { ++edges; }
};

Result run_empty(int reps) {
  EmptyClocked m("empty");
  Result r;
  r.mode = "empty";
  const auto t0 = Clock::now();
  sc_core::sc_start(sc_core::sc_time(static_cast<double>(reps) * 1e6, sc_core::SC_NS));
  r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  r.cycles = static_cast<int64_t>(m.edges);
  r.ok = m.edges > 0;
  return r;
}

Result run_resnet(int reps) {
  const Topology t = load_topology(data_dir() + "/topologies/resnet18.csv");
  LayerChoice mac8;
  const auto segs = random_topology_segments(t, apply_assignment(t, {}, mac8), 1);
  const EnergyTable table = EnergyTable::load_default();
  SocConfig cfg;
  cfg.level = Level::Lt;
  cfg.mem_size = 64ull << 20;
  AcceleratorSoc soc("soc", cfg, table);
  Result r;
  r.mode = "resnet-lt";
  r.ok = true;
  const auto t0 = Clock::now();
  soc.run([&](AcceleratorDriver& d) {
    for (int k = 0; k < reps; ++k)
      for (const auto& s : segs) {
        const GraphResult g = d.run_graph(s.graph, s.input);
        r.ok = r.ok && g.outputs == s.expect;
        r.cycles += g.stats.total.cycles;
        r.macs += g.stats.total.macs;
      }
  });
  r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count() / reps;
  r.macs /= reps;
  r.cycles /= reps;
  return r;
}

Result run_mode(const std::string& mode, int reps) {
  if (mode == "empty") return run_empty(reps);
  if (mode == "resnet-lt") return run_resnet(reps);
  const LayerShape s = bench_shape();
  const std::vector<int8_t> x = random_tensor(s.input_elems(), 42);
  const LayerParams p = random_layer(s, Op::MAC8, Mode::Digital, 43, true, &x);
  std::vector<int8_t> expect(static_cast<size_t>(s.outputs()));
  run_layer(p, x.data(), expect.data());
  Result r;
  r.mode = mode;
  if (mode == "native") {
    std::vector<int8_t> y(expect.size());
    const auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) native_conv(p, x.data(), y.data());
    r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
    r.macs = s.macs() * reps;
    r.ok = y == expect;
    return r;
  }
  const EnergyTable table = EnergyTable::load_default();
  SocConfig cfg;
  cfg.level = mode == "lt" ? Level::Lt : Level::Cycle;
  std::unique_ptr<VcdTrace> vcd;
  const std::string vcd_stem =
      (std::filesystem::temp_directory_path() / ("cimsim_bench_accel_" + std::to_string(::getpid()))).string();
  if (mode == "cycle-vcd") vcd = std::make_unique<VcdTrace>(vcd_stem);  // removed after the run
  AcceleratorSoc soc("soc", cfg, table, vcd ? vcd->file() : nullptr);
  soc.run_network({p}, x);  // warm-up: uploads the weights (cached afterwards)
  r.ok = true;
  const auto t0 = Clock::now();
  for (int i = 0; i < reps; ++i) {
    const NetworkResult n = soc.run_network({p}, x);
    r.ok = r.ok && n.outputs[0] == expect;
    r.cycles += n.stats.total.cycles;
  }
  r.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  r.macs = s.macs() * reps;
  if (vcd) std::filesystem::remove(vcd->close());
  return r;
}

void print(const Result& r) {
  std::printf("%-10s %8.3f s  %12.4g MACs/s", r.mode.c_str(), r.wall_s, r.macs / r.wall_s);
  if (r.cycles) std::printf("  %12.4g cycles/s", r.cycles / r.wall_s);
  std::printf("  %s\n", r.ok ? "ok" : "MISMATCH");
}

// Runs one mode in a child process (one elaboration per process) and parses its RESULT line.
Result run_child(const char* self, const std::string& mode, int reps) {
  const bool fixed = mode == "empty" || mode == "resnet-lt";
  const std::string cmd =
      std::string("'") + self + "' " + mode + (reps > 0 && !fixed ? " --reps " + std::to_string(reps) : "");
  Result r;
  r.mode = mode;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return r;
  char line[512];
  while (std::fgets(line, sizeof line, f)) {
    char name[64];
    double wall;
    long long macs, cycles;
    int ok;
    if (std::sscanf(line, "RESULT %63s %lf %lld %lld %d", name, &wall, &macs, &cycles, &ok) == 5) {
      r.wall_s = wall;
      r.macs = macs;
      r.cycles = cycles;
      r.ok = ok != 0;
    }
  }
  pclose(f);
  return r;
}

double rate(const Result& r) { return r.wall_s > 0 ? r.cycles / r.wall_s : 0.0; }

struct Spread {
  double min = 0, median = 0, max = 0;
};
Spread spread(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return {v.front(), n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]), v.back()};
}

}  // namespace

int sc_main(int argc, char* argv[]) {
  std::string mode = "all", json;
  int reps = 0, rounds = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else if (a == "--rounds" && i + 1 < argc)
      rounds = std::max(1, std::atoi(argv[++i]));
    else if (a == "--json" && i + 1 < argc)
      json = argv[++i];
    else
      mode = a;
  }
  if (mode != "all") {
    const int n = reps > 0 ? reps
                           : (mode == "native" || mode == "lt" || mode == "empty" ? 20
                              : mode == "resnet-lt"                             ? 1
                                                                                : 20);
    const Result r = run_mode(mode, n);
    // Machine-readable line for the parent.
    std::printf("RESULT %s %.9f %lld %lld %d\n", r.mode.c_str(), r.wall_s, static_cast<long long>(r.macs),
                static_cast<long long>(r.cycles), r.ok ? 1 : 0);
    return r.ok ? 0 : 1;
  }
  std::printf("layer: conv 32x32x32 -> 32, 3x3, pad 1, MAC8 digital (%lld MACs), array 16x16\n",
              static_cast<long long>(bench_shape().macs()));
  std::vector<Result> results;
  bool ok = true;
  auto child = [&](const char* m) {
    Result r = run_child(argv[0], m, reps);
    print(r);
    ok = ok && r.ok;
    results.push_back(r);
    return r;
  };
  const Result native = child("native"), lt = child("lt");
  // The clock-rate ratios: cycle level, VCD on and the empty SC_METHOD, interleaved round by round so that a
  // change of the machine's load hits all three; each round's ratios come from its own three runs.
  std::vector<double> cyc_empty, vcd_cyc, cyc_rates;
  for (int k = 0; k < rounds; ++k) {
    std::printf("round %d/%d\n", k + 1, rounds);
    const Result c = child("cycle"), v = child("cycle-vcd"), e = child("empty");
    cyc_rates.push_back(rate(c));
    cyc_empty.push_back(rate(e) > 0 ? rate(c) / rate(e) : 0.0);
    vcd_cyc.push_back(rate(c) > 0 ? rate(v) / rate(c) : 0.0);
    std::printf("  cycle / empty = %.2f   VCD on / off = %.2f\n", cyc_empty.back(), vcd_cyc.back());
  }
  const Result resnet = child("resnet-lt");
  const Spread ce = spread(cyc_empty), vc = spread(vcd_cyc), cr = spread(cyc_rates);
  std::printf("LT / native = %.2f (target >= 0.25); cycle level %.3g cycles/s median (target >= 1e6, tracing off)\n",
              lt.macs / lt.wall_s / (native.macs / native.wall_s), cr.median);
  std::printf("cycle level / empty SC_METHOD on an sc_clock: min %.2f median %.2f max %.2f over %d rounds (target >= 0.5)\n",
              ce.min, ce.median, ce.max, rounds);
  std::printf("VCD on / off: min %.2f median %.2f max %.2f over %d rounds (target >= 0.5)\n", vc.min, vc.median,
              vc.max, rounds);
  std::printf("ResNet-18 (%.3g MACs) at LT: %.2f s wall (target <= 2 s)\n", static_cast<double>(resnet.macs),
              resnet.wall_s);
  if (!json.empty()) {
    nlohmann::json j;
    for (const auto& r : {native, lt, resnet})
      j[r.mode] = {{"wall_s", r.wall_s}, {"macs", r.macs}, {"cycles", r.cycles}, {"macs_per_s", r.macs / r.wall_s},
                   {"cycles_per_s", r.cycles ? r.cycles / r.wall_s : 0.0}, {"ok", r.ok}};
    for (const auto& r : results)
      if (r.mode == "cycle" || r.mode == "cycle-vcd" || r.mode == "empty")
        j[r.mode].push_back({{"wall_s", r.wall_s}, {"macs", r.macs}, {"cycles", r.cycles},
                             {"macs_per_s", r.macs / r.wall_s}, {"cycles_per_s", rate(r)}, {"ok", r.ok}});
    j["cycle_over_empty"] = {{"rounds", cyc_empty}, {"min", ce.min}, {"median", ce.median}, {"max", ce.max}};
    j["vcd_over_cycle"] = {{"rounds", vcd_cyc}, {"min", vc.min}, {"median", vc.median}, {"max", vc.max}};
    atomic_write_json(json, j);
  }
  return ok ? 0 : 1;
}
