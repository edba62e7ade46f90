// `cimsim run`: the accelerator SoC testbench. Runs a workload on the LT or cycle-level model through the host
// driver and the program compiler (resident activations, vector ops on chip, pinned constants), prints a
// per-layer table, checks the outputs against the datapath (PASS/FAIL), and writes the JSON report, the
// per-layer CSV, a per-layer energy plot and a VCD trace on request. Workloads: the built-in demo network
// (default), a SCALE-Sim topology CSV (--topology, uniform --op/--mode or an --assignment file, seeded random
// weights), or an ENOS export (--export, seeded random input). Hardware: --arch FILE (data/arch/*.yaml).
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli/command_registry.hpp"
#include "cimsim/accel/analytic.hpp"
#include "cli/onnx_options.hpp"
#include "cli/common.hpp"
#include "cli/common_reports.hpp"
#include "cli/common_traces.hpp"
#include "cimsim/accel/arch.hpp"
#include "cimsim/accel/layer_report.hpp"
#include "cimsim/accel/random_network.hpp"
#include "cimsim/accel/regmap.hpp"
#include "cimsim/accel/soc.hpp"
#include "cimsim/accel/topology.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/enos/graph.hpp"
#include "cimsim/enos/runtime.hpp"
#include "cimsim/soc/vcd_trace.hpp"

namespace {

using namespace cimsim;
using namespace cimsim::accel;

struct Options {
  std::string level = "lt";
  std::string vcd;  // empty: no trace
  bool vcd_on = false;
  bool vcd_detail = false;
  std::string report, report_csv, plot, out_dir;
  uint64_t seed = 1;
  std::string array;
  std::string arch;
  std::string tech;
  std::string topology, assignment, export_path;
  std::string op = "mac8", mode = "digital";
  int adc_bits = 5, cim_rows = 64;
  bool no_residency = false;
  std::string double_buffer;  // "", "on", "off"
  std::string memory;         // "": sized from the workload (or the architecture's memory.bytes)
  bool gemm = false;          // --topology is SCALE-Sim's GEMM format (M, N, K) whatever its header
  cimsim::cli::OnnxCli onnx;  // --onnx and its options
};

std::string shape_str(const LayerShape& s) {
  std::ostringstream o;
  if (s.kind == LayerKind::FullyConnected) {
    o << "fc " << s.cin << "->" << s.cout;
  } else if (is_vector_kind(s.kind)) {
    o << kind_name(s.kind) << " " << s.cin << "x" << s.h << "x" << s.w;
    if (s.kind == LayerKind::MaxPool || s.kind == LayerKind::AvgPool) o << " k" << s.kh << " s" << s.stride;
    if (s.kind == LayerKind::ChannelShuffle) o << " g" << s.groups;
    o << " ->" << s.cout << "x" << s.out_h() << "x" << s.out_w();
  } else {
    o << s.cin << "x" << s.h << "x" << s.w << " k" << s.kh << "x" << s.kw << " s" << s.stride << " p" << s.pad;
    if (s.groups > 1) o << " g" << s.groups;
    o << " ->" << s.cout << "x" << s.out_h() << "x" << s.out_w();
  }
  return o.str();
}

using Segment = TopologySegment;

int do_run(const Options& o) {
  // Every output path is checked before anything is loaded or simulated (issue 24: a bad path used to fail
  // after the whole simulation).
  check_output_paths({{"--report", o.report}, {"--report-csv", o.report_csv}, {"--plot", o.plot}});
  SocConfig cfg;
  const bool analytic = o.level == "analytic";
  if (o.level == "lt" || analytic)
    cfg.level = Level::Lt;
  else if (o.level == "cycle")
    cfg.level = Level::Cycle;
  else
    throw ConfigError("run: --level must be analytic, lt or cycle, got '" + o.level + "'");
  if (analytic && (o.vcd_on || o.vcd_detail)) throw ConfigError("run: --vcd needs --level cycle");
  uint64_t memory = o.memory.empty() ? 0 : parse_memory_size(o.memory, "run: --memory");
  std::string memory_origin = "run: --memory";
  std::string tech = o.tech;
  std::string arch_name = "built-in defaults";
  if (!o.arch.empty()) {
    const Architecture a = load_architecture(o.arch);
    for (const std::string& w : a.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    cfg.array = a.array;
    if (memory == 0 && a.memory_bytes != 0) {
      memory = a.memory_bytes;
      memory_origin = o.arch + ": memory.bytes";
    }
    arch_name = a.name + " (" + o.arch + ")";
    if (tech.empty()) tech = a.tech_path;
  }
  if (!o.array.empty()) {
    int r = 0, c = 0;
    char x = 0, extra = 0;
    if (std::sscanf(o.array.c_str(), "%d%c%d%c", &r, &x, &c, &extra) != 3 || (x != 'x' && x != 'X') || r < 1 ||
        c < 1 || r > 256 || c > 256)
      throw ConfigError("run: --array must be RxC with 1 <= R, C <= 256, got '" + o.array + "'");
    cfg.array.rows = r;
    cfg.array.cols = c;
  }
  cfg.trace_detail = o.vcd_detail;
  if (o.double_buffer == "on") cfg.array.double_buffer = true;
  else if (o.double_buffer == "off") cfg.array.double_buffer = false;
  else if (!o.double_buffer.empty())
    throw ConfigError("run: --double-buffer must be on or off, got '" + o.double_buffer + "'");
  const EnergyTable table = tech.empty() ? EnergyTable::load_default() : EnergyTable::load(tech);
  ProgramOptions popt;
  popt.residency = !o.no_residency;

  // Every segment's plan is validated before anything is simulated (errors name the layer), and for a topology
  // on its shapes alone before any weight or reference output is computed (issue 24: 133 s and 1 GB used to
  // precede a configuration error).
  const ArrayConfig hw = ArrayConfig::with_table(cfg.array, table);
  std::string workload;
  auto check_plans = [&](const std::vector<Segment>& ss) {
    for (const Segment& s : ss) (void)plan_program(s.graph, hw, popt);
    for (size_t i = 0; i < ss.size(); ++i)  // one START runs at most LAYER_COUNT <= kMaxLayers descriptors
      if (ss[i].graph.nodes.size() > kMaxLayers)
        throw ConfigError("run: " + workload + ": segment " + std::to_string(i) + " chains " +
                          std::to_string(ss[i].graph.nodes.size()) + " layers; the accelerator runs at most " +
                          std::to_string(kMaxLayers) + " descriptors per start (LAYER_COUNT, docs/accelerator.md)");
  };

  // ---- the workload ----
  std::vector<Segment> segs;
  if (!o.export_path.empty() || !o.onnx.run.path.empty()) {
    enos::NetworkExport e;
    if (!o.onnx.run.path.empty()) {  // ONNX: import + quantise, then as an export (docs/onnx.md)
      cimsim::cli::OnnxCli oc = o.onnx;
      oc.run.array = cfg.array;
      oc.run.seed = o.seed;
      oc.run.assignment = o.assignment;
      cimsim::cli::set_choice(oc.run, o.op, o.mode, o.adc_bits, o.cim_rows);
      e = cimsim::cli::build_onnx(oc).exp;
      workload = "onnx " + o.onnx.run.path;
    } else {
      e = enos::load_export(o.export_path);
      workload = "export " + o.export_path;
    }
    Segment s;
    s.graph = enos::to_graph(e).graph;
    s.input = random_tensor(e.input.elems(), o.seed);
    enos::HostRuntime ref(e);
    s.expect = {ref.infer(s.input.data()).logits};
    segs.push_back(std::move(s));
  } else if (!o.topology.empty()) {
    const Topology t = load_topology(o.topology, o.gemm ? TopologyFormat::Gemm : TopologyFormat::Auto);
    std::vector<std::string> warns = t.warnings;
    (void)topology_segment_starts(t, &warns);
    for (const std::string& w : warns) std::fprintf(stderr, "warning: %s\n", w.c_str());
    LayerChoice uni;
    const auto op = parse_op(o.op);
    if (!op) throw ConfigError("run: --op '" + o.op + "' is not an operator (mac8, mac4, bwn, xnor, mf, deepshift, adder)");
    const auto mode = parse_mode(o.mode);
    if (!mode) throw ConfigError("run: --mode must be digital or cim, got '" + o.mode + "'");
    uni.op = *op;
    uni.mode = *mode;
    uni.cim.adc_bits = o.adc_bits;
    uni.cim.rows = o.cim_rows;
    uni.cim.adc_range = 1 << (o.adc_bits - 1);
    if (uni.mode == Mode::Cim && !cim_supported(uni.op))
      throw ConfigError(std::string("run: --op ") + o.op + " is not supported in CIM mode (mac4, bwn, xnor, mf)");
    const std::vector<LayerChoice> asg = o.assignment.empty() ? std::vector<LayerChoice>{} : load_assignment(o.assignment);
    const std::vector<LayerChoice> choice = apply_assignment(t, asg, uni);
    segs = topology_segments_without_data(t, choice);
    workload = "topology " + o.topology + " (" + std::to_string(t.layers.size()) + " layers, " +
               std::to_string(segs.size()) + " chained segment(s))";
    check_plans(segs);  // shapes only: before any weight is generated
    if (!analytic) segs = random_topology_segments(t, choice, o.seed);
  } else {
    const std::vector<int8_t> input = builtin_input(o.seed);
    const std::vector<LayerParams> net = builtin_network(o.seed, input);
    const auto expect = run_chain(net, input);
    Segment s;
    s.graph = Graph::chain(net, o.no_residency);
    s.input = input;
    s.expect = o.no_residency ? expect : std::vector<std::vector<int8_t>>{expect.back()};
    segs.push_back(std::move(s));
    workload = "built-in demo network";
  }
  if (o.topology.empty()) check_plans(segs);
  {  // system memory: sized from the workload unless --memory or the architecture fixes it
    std::vector<const Graph*> gs;
    for (const Segment& s : segs) gs.push_back(&s.graph);
    size_memory(cfg, workload_memory(gs), memory, memory_origin);
  }

  std::unique_ptr<VcdTrace> vcd;
  if (o.vcd_on) vcd = std::make_unique<VcdTrace>(o.vcd.empty() ? std::string("accel") : o.vcd, sc_core::SC_PS);
  std::unique_ptr<AcceleratorSoc> soc_ptr;
  if (!analytic) soc_ptr = std::make_unique<AcceleratorSoc>("soc", cfg, table, vcd ? vcd->file() : nullptr);

  const auto t0 = std::chrono::steady_clock::now();
  std::vector<GraphResult> results;
  double first_run_extra_pj = 0;  // one-time constant loads of the first run of each segment
  bool pass = true;
  int64_t total_layers = 0;
  for (const Segment& s : segs) total_layers += static_cast<int64_t>(s.graph.nodes.size());
  ProgressLine progress("cimsim run", total_layers);
  if (analytic)  // the program compiler and the cost model only: no data, no simulation
    for (const Segment& s : segs) {
      results.push_back(analytic_run_graph(s.graph, hw, table, popt));
      progress.update(static_cast<int64_t>(results.size()));
    }
  else soc_ptr->run([&](AcceleratorDriver& d) {
    d.probe();
    int64_t done = 0;
    for (const Segment& s : segs) {
      GraphResult r = d.run_graph(s.graph, s.input, popt);
      pass = pass && r.outputs == s.expect;
      if (r.loaded_constants) {  // report the steady state: run again with the constants resident
        GraphResult again = d.run_graph(s.graph, s.input, popt);
        pass = pass && again.outputs == s.expect;
        first_run_extra_pj += r.stats.total.energy_pj() - again.stats.total.energy_pj();
        r = std::move(again);
      }
      results.push_back(std::move(r));
      done += static_cast<int64_t>(s.graph.nodes.size());
      progress.update(done);
    }
  });
  progress.done();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string vcd_path;
  if (vcd) vcd_path = vcd->close();

  // ---- per-layer table ----
  const auto& groups = energy_register_groups();
  const ArrayConfig& acfg = hw;
  std::printf("cimsim run: %s; level %s, arch %s: array %dx%d, CIM macro %dx%d, buffers %lld/%lld KiB, DMA %d B/cycle%s%s\n",
              workload.c_str(), level_name(cfg.level), arch_name.c_str(), acfg.rows, acfg.cols, acfg.cim_rows,
              acfg.cim_cols, static_cast<long long>(acfg.weight_buffer_bytes / 1024),
              static_cast<long long>(acfg.act_buffer_bytes / 1024), acfg.dma_bytes_per_cycle,
              acfg.double_buffer ? ", double buffering" : "", popt.residency ? "" : ", residency off");
  if (first_run_extra_pj != 0) std::printf("per layer, steady state (constants resident; first run below):\n");
  std::printf("%-18s %-9s %-7s %-36s %11s %10s %6s %9s %12s %11s\n", "layer", "op", "mode", "shape", "MACs", "cycles",
              "util%", "DRAM B", "system E", "operator E");
  std::vector<LayerReportRow> rows;
  nlohmann::json jrows = nlohmann::json::array();
  LayerReportRow tot;
  for (size_t si = 0; si < segs.size(); ++si) {
    const Graph& g = segs[si].graph;
    const GraphResult& r = results[si];
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      const LayerParams& p = g.nodes[i].params;
      const LayerStats& s = r.stats.layers[i];
      const NodePlan& np = r.plan.nodes[i];
      const LayerCost& c = r.loaded_constants ? np.first_cost : np.cost;
      const bool vec = is_vector_kind(p.shape.kind);
      LayerReportRow row;
      row.name = g.nodes[i].name;
      row.kind = kind_name(p.shape.kind);
      row.op = vec ? "-" : op_name(p.op);
      row.mode = vec ? "-" : mode_name(p.mode);
      row.macs = s.macs;
      row.cycles = s.cycles;
      row.utilisation = c.utilisation();
      row.dram_bytes = c.dram_bytes();
      row.weight_buffer_read = c.counts.at("weight_buffer_read");
      row.weight_buffer_write = c.counts.at("weight_buffer_write");
      row.act_buffer_read = c.counts.at("act_buffer_read");
      row.act_buffer_write = c.counts.at("act_buffer_write");
      nlohmann::json cj = nlohmann::json::object();
      for (size_t k = 0; k < groups.size(); ++k) {
        const double pj = aj_to_pj(s.group_aj[k]);
        if (s.group_aj[k] != 0) row.energy_pj[groups[k]] = pj;
        cj[groups[k]] = pj;
        if (is_operator_component(groups[k])) row.operator_pj += pj;
      }
      row.system_pj = s.energy_pj();
      std::printf("%-18s %-9s %-7s %-36s %11lld %10lld %6.1f %9lld %12s %11s\n", row.name.c_str(), row.op.c_str(),
                  row.mode.c_str(), shape_str(p.shape).c_str(), static_cast<long long>(row.macs),
                  static_cast<long long>(row.cycles), 100.0 * row.utilisation, static_cast<long long>(row.dram_bytes),
                  accel::eng(row.system_pj * 1e-12, "J").c_str(), accel::eng(row.operator_pj * 1e-12, "J").c_str());
      jrows.push_back({{"layer", row.name},
                       {"segment", si},
                       {"kind", row.kind},
                       {"op", row.op},
                       {"mode", row.mode},
                       {"shape", shape_str(p.shape)},
                       {"macs", row.macs},
                       {"cycles", row.cycles},
                       {"model_cycles", c.cycles},
                       {"bands", c.bands.size()},
                       {"weights_streamed", c.weights_streamed},
                       {"stall_cycles", c.stall_cycles},
                       {"utilisation", row.utilisation},
                       {"dram_bytes", row.dram_bytes},
                       {"in_on_chip", !c.place.in_dram},
                       {"out_on_chip", !c.place.out_dram},
                       {"weights_resident", c.place.weights_resident},
                       {"energy_pj", row.system_pj},
                       {"energy_aj", s.energy_aj},
                       {"operator_energy_pj", row.operator_pj},
                       {"model_energy_aj", c.total_aj(table)},
                       {"components_pj", cj}});
      tot.macs += row.macs;
      tot.cycles += row.cycles;
      tot.dram_bytes += row.dram_bytes;
      tot.system_pj += row.system_pj;
      tot.operator_pj += row.operator_pj;
      for (const auto& [k, v] : row.energy_pj) tot.energy_pj[k] += v;
      rows.push_back(std::move(row));
    }
  }
  // Cycle-weighted mean of the layers' utilisation (each against its own engine: the R x C array or the CIM
  // macro), so a network with CIM layers does not read above 100 %.
  double util_cycles = 0;
  for (const auto& r : rows) util_cycles += r.utilisation * static_cast<double>(r.cycles);
  const double util = tot.cycles > 0 ? util_cycles / static_cast<double>(tot.cycles) : 0.0;
  std::printf("%-18s %-9s %-7s %-36s %11lld %10lld %6.1f %9lld %12s %11s\n", "total", "", "", "",
              static_cast<long long>(tot.macs), static_cast<long long>(tot.cycles), 100.0 * util,
              static_cast<long long>(tot.dram_bytes), accel::eng(tot.system_pj * 1e-12, "J").c_str(),
              accel::eng(tot.operator_pj * 1e-12, "J").c_str());
  const double clock_hz = acfg.clock_hz > 0 ? acfg.clock_hz : table.clock_hz();
  const accel::Headline head = accel::headline(
      {static_cast<double>(tot.macs), tot.system_pj, tot.operator_pj, static_cast<double>(tot.cycles), clock_hz});
  cli::print_component_split(tot.energy_pj);
  cli::print_headline(head, clock_hz, first_run_extra_pj);
  sc_core::sc_time sim = sc_core::SC_ZERO_TIME;
  for (const auto& r : results) sim += r.sim_time;
  std::printf("simulated %s%s; wall %.3f s\n", sim.to_string().c_str(),
              first_run_extra_pj != 0 ? " (first run + steady-state run)" : "", wall);
  uint64_t edges = 0;
  if (auto* cyc = soc_ptr ? soc_ptr->cycle_model() : nullptr) {
    edges = cyc->clock_edges();
    std::printf("%s%s; array utilisation over the whole simulation %.1f%%\n",
                cycles_per_second_report(edges, wall).c_str(), first_run_extra_pj != 0 ? " (both runs)" : "",
                100.0 * cyc->utilisation());
  } else {
    std::printf("%s (%s)\n", cycles_per_second_report(static_cast<uint64_t>(tot.cycles), wall).c_str(),
                analytic ? "analytic: counted cycles, nothing simulated" : "LT: annotated cycles");
  }
  if (!vcd_path.empty()) cli::announce_trace(vcd_path, cli::write_accel_view(vcd_path, "cimsim run: " + workload));
  if (analytic)
    std::printf("check against the datapath: not run (analytic level: no data is computed)\n");
  else
    std::printf("check against the datapath (run_layer chained): %s\n", pass ? "PASS" : "FAIL");

  // Each output is written on its own: one that fails does not discard the others (exit 3 after all).
  OutputWriter outputs;
  if (!o.report_csv.empty()) outputs.attempt("--report-csv", [&] {
    write_layer_report_csv(o.report_csv, rows, clock_hz);
    std::printf("per-layer CSV: %s\n", o.report_csv.c_str());
  });
  if (!o.plot.empty()) outputs.attempt("--plot", [&] {
    plot_layer_energy(o.plot, rows, cli::run_plot_title(workload, rows, level_name(cfg.level), arch_name));
    std::printf("per-layer energy plot: %s\n", o.plot.c_str());
  });
  if (!o.report.empty()) outputs.attempt("--report", [&] {
    nlohmann::json j;
    j["tool"] = "cimsim run";
    j["workload"] = workload;
    j["config"] = {{"level", analytic ? "analytic" : level_name(cfg.level)},
                   {"arch", o.arch.empty() ? nlohmann::json(nullptr) : nlohmann::json(o.arch)},
                   {"array", {{"rows", acfg.rows}, {"cols", acfg.cols}}},
                   {"cim_macro", {{"rows", acfg.cim_rows}, {"cols", acfg.cim_cols}}},
                   {"weight_buffer_bytes", acfg.weight_buffer_bytes},
                   {"act_buffer_bytes", acfg.act_buffer_bytes},
                   {"dma_bytes_per_cycle", acfg.dma_bytes_per_cycle},
                   {"adc_cycles_per_bit", acfg.adc_cycles_per_bit},
                   {"vector_lanes", acfg.vector_lanes},
                   {"double_buffer", acfg.double_buffer},
                   {"residency", popt.residency},
                   {"clock_hz", acfg.clock_hz > 0 ? acfg.clock_hz : table.clock_hz()},
                   {"tech", table.origin()},
                   {"tech_fingerprint", table.fingerprint()}};
    j["seed"] = o.seed;
    j["layers"] = jrows;
    nlohmann::json tc = nlohmann::json::object();
    for (const auto& [k, v] : tot.energy_pj) tc[k] = v;
    j["totals"] = {{"macs", tot.macs},
                   {"cycles", tot.cycles},
                   {"utilisation", util},
                   {"dram_bytes", tot.dram_bytes},
                   {"energy_pj", tot.system_pj},
                   {"system_energy_pj", tot.system_pj},
                   {"operator_energy_pj", tot.operator_pj},
                   {"first_run_extra_pj", first_run_extra_pj},
                   {"components_pj", tc}};
    j["headline"] = cli::headline_json(head, clock_hz, first_run_extra_pj);
    j["sim_time_ps"] = sim.value();
    j["wall_s"] = wall;
    if (edges) j["clock_edges"] = edges;
    j["check"] = analytic ? "not run" : pass ? "PASS" : "FAIL";
    if (!vcd_path.empty()) j["vcd"] = vcd_path;
    atomic_write_json(o.report, j);
    std::printf("report: %s\n", o.report.c_str());
  });
  outputs.finish();
  return pass ? 0 : 1;
}

cimsim::cli::Registrar reg("run", [](CLI::App& app) -> cimsim::cli::Runner {
  auto* sub = app.add_subcommand("run", "Accelerator SoC testbench: a workload on the LT or cycle-level model");
  auto o = std::make_shared<Options>();
  sub->add_option("--level", o->level,
                  "Abstraction level: analytic (cost model only, no data), lt or cycle")->capture_default_str()
      ->check(CLI::IsMember({"analytic", "lt", "cycle"}));
  sub->add_option("--arch", o->arch, "Architecture file (YAML, e.g. data/arch/default.yaml)");
  sub->add_option("--array", o->array, "MAC-core array size RxC (overrides the architecture file)");
  sub->add_option("--tech", o->tech, "Energy table (default: the architecture's, $CIMSIM_TECH or data/tech/45nm.json)");
  sub->add_option("--topology", o->topology, "SCALE-Sim topology CSV (default: the built-in demo network)");
  sub->add_option("--op", o->op, "Operator of every topology layer or ONNX conv/fc node (mac8, mac4, bwn, xnor, mf, deepshift, adder)")
      ->capture_default_str();
  sub->add_option("--mode", o->mode, "Computing mode of every topology layer or ONNX conv/fc node: digital or cim")->capture_default_str();
  sub->add_option("--adc-bits", o->adc_bits, "CIM ADC bits (topology layers in CIM mode)")->capture_default_str()
      ->check(CLI::Range(1, 16));
  sub->add_option("--cim-rows", o->cim_rows, "CIM rows per conversion (topology layers in CIM mode)")
      ->capture_default_str()->check(CLI::Range(1, 4096));
  sub->add_option("--assignment", o->assignment, "Per-layer operator/mode file for the topology or ONNX model (node names)");
  sub->add_option("--export", o->export_path, "Run an ENOS export (.enos.json) on a seeded random image");
  sub->add_flag("--no-residency", o->no_residency, "Every tensor in DRAM (no on-chip residency; per-layer checks)");
  sub->add_option("--memory", o->memory,
                  "System memory (bytes, or with K/M/G: 512M); default: sized from the workload");
  sub->add_flag("--gemm", o->gemm, "Read --topology as SCALE-Sim's GEMM format (Layer, M, N, K) by position");
  sub->add_option("--double-buffer", o->double_buffer, "on/off: override the architecture's double buffering");
  sub->add_option("--out-dir", o->out_dir,
                  "Write report.json, layers.csv, energy.png here (and accel.vcd + accel.gtkw with --vcd)");
  sub->add_option("--vcd", o->vcd,
                  "VCD trace of the cycle-level model, path stem (no value: <out-dir>/accel, else traces/accel); "
                  "a GTKWave view <stem>.gtkw is written beside it")->expected(0, 1);
  sub->add_flag("--vcd-detail", o->vcd_detail, "With --vcd: also the clock and accumulator probes, every edge");
  sub->add_option("--report", o->report, "JSON report path (default <out-dir>/report.json)");
  sub->add_option("--report-csv", o->report_csv, "Per-layer CSV path (default <out-dir>/layers.csv)");
  sub->add_option("--plot", o->plot, "Per-layer stacked energy plot, PNG (default <out-dir>/energy.png)");
  sub->add_option("--seed", o->seed, "Seed of the weights and input")->capture_default_str();
  cimsim::cli::add_onnx_options(sub, o->onnx);
  return [sub, o] {
    if (!sub->parsed()) return -1;
    o->vcd_on = sub->count("--vcd") > 0;
    if (!o->topology.empty() + !o->export_path.empty() + !o->onnx.run.path.empty() > 1)
      throw cimsim::ConfigError("run: give at most one of --topology, --export and --onnx");
    const bool per_layer_workload = !o->topology.empty() || !o->onnx.run.path.empty();
    cimsim::cli::check_run_options(*sub, per_layer_workload ? "--topology" : "", o->level, o->vcd_on);
    cimsim::cli::make_out_dir(o->out_dir, "run");
    o->report = cimsim::cli::output_path(o->report, o->out_dir, "report.json");
    o->report_csv = cimsim::cli::output_path(o->report_csv, o->out_dir, "layers.csv");
    o->plot = cimsim::cli::output_path(o->plot, o->out_dir, "energy.png");
    if (o->vcd_on && o->vcd.empty()) o->vcd = cimsim::cli::default_trace_stem(o->out_dir, "accel");
    if (o->topology.empty() && sub->count("--gemm") > 0)  // issue 24: an option without effect
      throw cimsim::ConfigError("run: --gemm says how to read --topology; without --topology it has no effect");
    return do_run(*o);
  };
});

}  // namespace
