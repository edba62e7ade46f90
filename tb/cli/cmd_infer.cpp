// `cimsim infer`: runs an ENOS export on N test images, on the SystemC accelerator (LT or cycle level) with the
// host nodes on the host, or on the host integer reference alone (--level host). Prints accuracy, agreement with
// the host reference, a per-layer table (simulated cycles/energy vs the export's predicted energy), totals and
// host-op work; writes a JSON report atomically. docs/enos-runtime.md.
#include <algorithm>
#include <cmath>
#include <map>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/command_registry.hpp"
#include "cli/onnx_options.hpp"
#include "cli/common.hpp"
#include "cli/common_reports.hpp"
#include "cli/common_traces.hpp"
#include "cimsim/accel/arch.hpp"
#include "cimsim/enos/graph.hpp"
#include "cimsim/accel/soc.hpp"
#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/data/datasets.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/enos/runtime.hpp"
#include "cimsim/enos/sim_runtime.hpp"
#include "cimsim/enos/synthetic.hpp"
#include "cimsim/soc/vcd_trace.hpp"

namespace {

using namespace cimsim;
using nlohmann::json;

struct Options {
  std::string export_path;
  int64_t synthetic_seed = -1;
  std::string level = "lt";
  int images = 100;
  std::string data_dir;
  std::string report, report_csv, plot, out_dir;
  std::string vcd;
  bool vcd_on = false;
  std::string tech;
  std::string arch;
  cimsim::cli::OnnxCli onnx;  // --onnx and its options
};

data::ImageSet load_test_images(const enos::NetworkExport& e, const Options& o) {
  data::ImageSet s;
  const std::string& ds = e.dataset;
  if (ds.empty() || ds == "fashion-mnist") {
    s = data::load_fashion_mnist(o.data_dir.empty() ? data::fashion_mnist_dir() : o.data_dir, false);
  } else if (ds == "cifar10" || ds == "cifar100") {
    if (o.data_dir.empty()) throw ConfigError("infer: --data-dir is needed for dataset '" + ds + "'");
    const bool c100 = ds == "cifar100";
    s = data::load_cifar(o.data_dir + (c100 ? "/test.bin" : "/test_batch.bin"), c100);
  } else {
    throw ConfigError("infer: unknown dataset '" + ds + "' in the export (fashion-mnist, cifar10, cifar100)");
  }
  if (s.c != e.input.c || s.h != e.input.h || s.w != e.input.w)
    throw ConfigError("infer: " + s.name + " images are " + std::to_string(s.c) + "x" + std::to_string(s.h) + "x" +
                      std::to_string(s.w) + " but the export's input tensor '" + e.input.name + "' is " +
                      std::to_string(e.input.c) + "x" + std::to_string(e.input.h) + "x" + std::to_string(e.input.w));
  if (s.classes > e.classes)
    throw ConfigError("infer: the data set has " + std::to_string(s.classes) + " classes, the export " +
                      std::to_string(e.classes));
  return data::take(s, o.images);
}

std::string fmt_pct(double d) {
  if (!std::isfinite(d)) return "n/a";
  char b[32];
  std::snprintf(b, sizeof b, "%+.3f%%", d);
  return b;
}

int do_infer(const Options& o) {
  enum { Host, Lt, Cycle } level;
  if (o.level == "host") level = Host;
  else if (o.level == "lt") level = Lt;
  else if (o.level == "cycle") level = Cycle;
  else throw ConfigError("infer: --level must be lt, cycle or host, got '" + o.level + "'");
  if (o.images < 1) throw ConfigError("infer: --images must be >= 1");
  check_output_paths({{"--report", o.report}});  // before anything is loaded or simulated
  if (!o.export_path.empty() + (o.synthetic_seed >= 0) + !o.onnx.run.path.empty() != 1)
    throw ConfigError("infer: give exactly one of --export FILE, --synthetic SEED or --onnx FILE");
  const EnergyTable table = o.tech.empty() ? EnergyTable::load_default() : EnergyTable::load(o.tech);
  data::ImageSet onnx_set;
  if (!o.onnx.test_data.empty()) {  // checked before the import
    onnx_set = data::load_image_file(o.onnx.test_data);
    if (!onnx_set.labeled) throw ConfigError("infer: --data '" + o.onnx.test_data + "' has no labels file beside it");
  }
  const enos::NetworkExport e = [&] {
    if (o.onnx.run.path.empty())
      return o.export_path.empty() ? enos::make_synthetic_export(static_cast<uint64_t>(o.synthetic_seed), table)
                                   : enos::load_export(o.export_path);
    cimsim::cli::OnnxCli oc = o.onnx;
    cimsim::cli::set_choice(oc.run, oc.op, oc.mode, oc.adc_bits, oc.cim_rows);
    oc.run.assignment = oc.assignment;
    if (!o.arch.empty()) oc.run.array = accel::load_architecture(o.arch).array;
    return cimsim::cli::build_onnx(oc).exp;
  }();
  const data::ImageSet set = o.onnx.test_data.empty() ? load_test_images(e, o) : [&] {
    if (onnx_set.c != e.input.c || onnx_set.h != e.input.h || onnx_set.w != e.input.w)
      throw ConfigError("infer: --data '" + o.onnx.test_data + "' images are " + std::to_string(onnx_set.c) + "x" +
                        std::to_string(onnx_set.h) + "x" + std::to_string(onnx_set.w) + " but the network's input is " +
                        std::to_string(e.input.c) + "x" + std::to_string(e.input.h) + "x" + std::to_string(e.input.w));
    return data::take(onnx_set, o.images);
  }();
  std::vector<std::vector<int8_t>> imgs;
  for (int i = 0; i < set.n; ++i) imgs.push_back(enos::quantize_image(e, set.image(i)));

  int64_t n_accel = 0;
  for (const auto& n : e.nodes) n_accel += n.kind == enos::NodeKind::Accel;
  std::printf("cimsim infer: export '%s' (%s, %zu nodes, %lld on the accelerator), %d %s images, level %s\n",
              e.network.c_str(), e.dataset.c_str(), e.nodes.size(), static_cast<long long>(n_accel), set.n,
              set.name.c_str(), o.level.c_str());

  // Host integer reference.
  enos::HostRuntime host(e);
  std::vector<enos::InferenceResult> ref;
  int host_correct = 0;
  for (int i = 0; i < set.n; ++i) {
    ref.push_back(host.infer(imgs[i].data()));
    host_correct += ref.back().prediction == set.labels[i];
  }
  const double host_acc = 100.0 * host_correct / set.n;
  std::vector<int> hist(static_cast<size_t>(e.classes), 0);
  for (const auto& r : ref) ++hist[static_cast<size_t>(r.prediction)];
  int distinct = 0;
  for (int h : hist) distinct += h > 0;
  if (distinct == 1 && set.n >= 20)
    std::printf("warning: the host reference predicts class %d for every image (dead or saturated logits?)\n",
                ref[0].prediction);

  json report;
  report["tool"] = "cimsim infer";
  report["export"] = !o.onnx.run.path.empty() ? "onnx:" + o.onnx.run.path
                     : o.export_path.empty() ? "synthetic:" + std::to_string(o.synthetic_seed) : o.export_path;
  report["network"] = e.network;
  report["dataset"] = set.name;
  report["images"] = set.n;
  report["level"] = o.level;
  report["tech"] = table.origin();
  report["tech_fingerprint"] = table.fingerprint();
  report["host_accuracy_pct"] = host_acc;
  report["host_prediction_histogram"] = hist;
  if (e.meta.is_object() && e.meta.contains("energy_table_fingerprint") &&
      e.meta["energy_table_fingerprint"] != json(table.fingerprint()))
    std::printf("warning: the export was searched with energy table %s, this run uses %llu\n",
                e.meta["energy_table_fingerprint"].dump().c_str(), static_cast<unsigned long long>(table.fingerprint()));

  if (accel::ArrayConfig::with_table(e.array, table).adc_cycles_per_bit != e.array.adc_cycles_per_bit)
    std::printf("warning: the export assumes adc_cycles_per_bit = %d, the energy table sets %d (CIM cycles and "
                "leakage will differ from the prediction)\n",
                e.array.adc_cycles_per_bit, accel::ArrayConfig::with_table(e.array, table).adc_cycles_per_bit);

  int rc = 0;
  if (level == Host) {
    std::printf("host reference accuracy: %.2f%% (%d/%d)\n", host_acc, host_correct, set.n);
    const auto work = enos::host_op_work(e);
    json hs = json::array();
    for (const auto& h : work)
      hs.push_back({{"node", h.node}, {"kind", enos::node_kind_name(h.kind)}, {"in_elems", h.in_elems},
                    {"out_elems", h.out_elems}, {"ops", h.ops}});
    report["host_ops_per_image"] = hs;
    const enos::PredictedEnergy pe = enos::predict_energy(e, table);
    report["predicted_energy_pj_per_image"] = pe.total_pj;
    report["predicted_operator_energy_pj_per_image"] = pe.operator_pj;
    std::printf("predicted accelerator energy (program plan): %.3f nJ per image (operator-only %.3f nJ)\n",
                pe.total_pj * 1e-3, pe.operator_pj * 1e-3);
  } else {
    enos::SimOptions so;
    so.level = level == Lt ? accel::Level::Lt : accel::Level::Cycle;
    if (!o.arch.empty()) {
      so.has_array = true;
      so.array = accel::load_architecture(o.arch).array;
    }
    if (o.vcd_on) so.vcd = o.vcd;
    enos::SimRuntime sim(e, table, so);
    const enos::SimRunResult r = sim.run(imgs);
    const std::string vcd_path = sim.close_trace();
    int correct = 0, agree = 0, logits_equal = 0;
    for (int i = 0; i < set.n; ++i) {
      correct += r.results[i].prediction == set.labels[i];
      agree += r.results[i].prediction == ref[i].prediction;
      logits_equal += r.results[i].logits == ref[i].logits;
    }
    const double acc = 100.0 * correct / set.n, agr = 100.0 * agree / set.n;
    std::printf("%-14s %-9s %-7s %12s %12s %14s %14s %10s\n", "node", "op", "mode", "cycles/img", "model cyc",
                "sim pJ/img", "pred pJ/img", "diff");
    for (const auto& l : r.layers) {
      const bool vec = accel::is_vector_kind(l.kind);
      std::printf("%-14s %-9s %-7s %12.0f %12lld %14.3f %14.3f %10s\n", l.node.c_str(),
                  vec ? accel::kind_name(l.kind) : accel::op_name(l.op), vec ? "vector" : accel::mode_name(l.mode),
                  l.cycles_per_image(), static_cast<long long>(l.model_cycles), l.energy_pj_per_image(), l.predicted_pj,
                  fmt_pct(l.energy_diff_pct()).c_str());
    }
    const double per = r.steady_pj_per_image;  // steady state (constants resident)
    const double tdiff =
        r.predicted_pj_per_image > 0 ? 100.0 * (per - r.predicted_pj_per_image) / r.predicted_pj_per_image : 0.0;
    std::printf("%-14s %-9s %-7s %12.0f %12s %14.3f %14.3f %10s\n", "total", "", "",
                static_cast<double>(r.accel_cycles) / set.n, "", per, r.predicted_pj_per_image, fmt_pct(tdiff).c_str());
    std::printf("energy per component (pJ/img, steady state):");
    std::map<std::string, int64_t> comp;
    for (const auto& l : r.layers)
      for (const auto& [k, v] : l.components_aj) comp[k] += v;
    for (const auto& [k, v] : comp) std::printf(" %s=%.3f", k.c_str(), static_cast<double>(v) * 1e-6);
    std::printf("\noperator-only energy (compute + ADC + DAC): %.3f pJ/img (plan); the first image also loaded the "
                "pinned constants: +%.3f pJ once\n",
                r.predicted_operator_pj_per_image, r.first_run_extra_pj);
    std::printf("every node ran on the accelerator (vector unit for pooling, shuffle, concat copies, add)\n");
    std::printf("accuracy: simulator %.2f%% (%d/%d), host reference %.2f%% (%d/%d)\n", acc, correct, set.n, host_acc,
                host_correct, set.n);
    std::printf("agreement with the host reference: predictions %.2f%% (%d/%d), identical logits %d/%d\n", agr, agree,
                set.n, logits_equal, set.n);
    std::printf("simulated %.6f s of accelerator time; wall %.3f s (%.1f images/s)\n", r.sim_time_s, r.wall_s,
                set.n / std::max(r.wall_s, 1e-9));
    if (!vcd_path.empty())
      cli::announce_trace(vcd_path, cli::write_accel_view(vcd_path, "cimsim infer: " + e.network + ", " +
                                                                        std::to_string(set.n) + " images"));
    {  // headline figures, per image in the steady state; per-layer CSV and plot
      const auto rows = cli::infer_rows(r);
      double macs = 0, op_pj = 0, cyc = 0;
      std::map<std::string, double> comp_pj;
      for (const auto& row : rows) {
        macs += static_cast<double>(row.macs);
        op_pj += row.operator_pj;
        cyc += static_cast<double>(row.cycles);
        for (const auto& [k, v] : row.energy_pj) comp_pj[k] += v;
      }
      const accel::ArrayConfig arr = so.has_array ? so.array : e.array;
      const double clock_hz = arr.clock_hz > 0 ? arr.clock_hz : table.clock_hz();
      const accel::Headline head = accel::headline({macs, per, op_pj, cyc, clock_hz});
      cli::print_component_split(comp_pj);
      cli::print_headline(head, clock_hz, r.first_run_extra_pj);
      report["headline"] = cli::headline_json(head, clock_hz, r.first_run_extra_pj);
      if (!o.report_csv.empty()) {
        accel::write_layer_report_csv(o.report_csv, rows, clock_hz);
        std::printf("per-layer CSV: %s\n", o.report_csv.c_str());
      }
      if (!o.plot.empty()) {
        accel::plot_layer_energy(o.plot, rows, cli::run_plot_title("export " + e.network, rows, o.level,
                                                                   o.arch.empty() ? "the export's" : o.arch));
        std::printf("per-layer energy plot: %s\n", o.plot.c_str());
      }
    }
    report["accuracy_pct"] = acc;
    report["agreement_pct"] = agr;
    report["identical_logits"] = logits_equal;
    report["simulation"] = r.to_json();
    if (!vcd_path.empty()) report["vcd"] = vcd_path;
    bool all_digital = true;
    for (const auto& n : e.nodes)
      if (n.kind == enos::NodeKind::Accel && n.layer.mode == accel::Mode::Cim) all_digital = false;
    // The simulator runs the same datapath per image as the reference, so any disagreement is a defect.
    if (logits_equal != set.n) {
      std::printf("MISMATCH: %d image(s) differ from the host reference%s\n", set.n - logits_equal,
                  all_digital ? "" : " (the export has CIM layers)");
      rc = 1;
    }
  }
  if (!o.report.empty()) {
    atomic_write_json(o.report, report);
    std::printf("report: %s\n", o.report.c_str());
  }
  return rc;
}

cimsim::cli::Registrar reg("infer", [](CLI::App& app) -> cimsim::cli::Runner {
  auto* sub = app.add_subcommand("infer", "Run an ENOS export on test images (simulator or host reference)");
  auto o = std::make_shared<Options>();
  sub->add_option("--export", o->export_path, "ENOS export file (docs/enos-export.md)");
  sub->add_option("--synthetic", o->synthetic_seed, "Use the built-in synthetic export with this seed instead");
  sub->add_option("--level", o->level, "lt, cycle (SystemC accelerator) or host (reference only)")->capture_default_str();
  sub->add_option("--images", o->images, "Number of test images (the first N)")->capture_default_str();
  sub->add_option("--data-dir", o->data_dir,
                  "Data set directory (default $CIMSIM_FMNIST or /usr/share/datasets/fashion-mnist)");
  sub->add_option("--out-dir", o->out_dir,
                  "Write report.json, layers.csv, energy.png here (and enos-infer.vcd + .gtkw with --vcd)");
  sub->add_option("--report", o->report, "JSON report path (default <out-dir>/report.json)");
  sub->add_option("--report-csv", o->report_csv, "Per-layer CSV path, simulator levels (default <out-dir>/layers.csv)");
  sub->add_option("--plot", o->plot, "Per-layer energy plot, PNG, simulator levels (default <out-dir>/energy.png)");
  sub->add_option("--vcd", o->vcd,
                  "VCD trace of the cycle-level model, path stem (no value: <out-dir>/enos-infer, else "
                  "traces/enos-infer); a GTKWave view <stem>.gtkw is written beside it")->expected(0, 1);
  sub->add_option("--tech", o->tech, "Energy table (default: $CIMSIM_TECH or data/tech/45nm.json)");
  sub->add_option("--arch", o->arch, "Run on this architecture (YAML) instead of the export's");
  cimsim::cli::add_onnx_options(sub, o->onnx);
  cimsim::cli::add_onnx_infer_options(sub, o->onnx);
  return [sub, o] {
    if (!sub->parsed()) return -1;
    o->vcd_on = sub->count("--vcd") > 0;
    if (o->vcd_on && o->level != "cycle")
      throw cimsim::ConfigError("infer: --vcd traces the signals of the cycle-level model; add --level cycle");
    cimsim::cli::refuse_options(*sub, {"--report-csv", "--plot"}, o->level != "host",
                                "needs a simulator level (--level lt or cycle): --level host runs no layers", "infer");
    cimsim::cli::make_out_dir(o->out_dir, "infer");
    o->report = cimsim::cli::output_path(o->report, o->out_dir, "report.json");
    if (o->level != "host") {
      o->report_csv = cimsim::cli::output_path(o->report_csv, o->out_dir, "layers.csv");
      o->plot = cimsim::cli::output_path(o->plot, o->out_dir, "energy.png");
    }
    if (o->vcd_on && o->vcd.empty()) o->vcd = cimsim::cli::default_trace_stem(o->out_dir, "enos-infer");
    return do_infer(*o);
  };
});

}  // namespace
