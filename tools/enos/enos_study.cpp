// ENOS study (not a test): for each network, the uni-operator baselines, then for each search mode a lambda
// sweep (+ the MAC8/MAC4 mixed-precision search), on a Fashion-MNIST subset. Writes every run's report, a
// Pareto CSV/PNG per network and mode, and the markdown tables of docs/enos-results.md.
//
// The runs can instead come from a sweep (data/sweeps/enos-study.yaml, run locally or as a Slurm job array by
// `cimsim sweep`, docs/sweeps.md): `enos_study --from-sweep DIR --doc docs/enos-results.md` only reads the
// points' reports and writes the tables (options describing the setup are then informational).
//
//   enos_study --out-dir study --doc docs/enos-results.md [--nets squeezenet,shufflenet]
//              [--modes single,bilevel,sequential,sampling] [--lambdas 0,1,4] [--train-subset 3000]
//              [--epochs 2] [--finetune-epochs 1] [--test-subset 2000] [--seed 1]
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/enos/search/search.hpp"

using namespace cimsim::enos::search;

namespace {

std::string f1(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}
std::string f2(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}
std::string e3(double v) {
  char b[64];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> v;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) v.push_back(item);
  return v;
}

struct Run {
  std::string net, mode, kind, label;
  double lambda = 0;
  SearchResult r;
};

std::string assignment(const SearchResult& r) {
  std::string s;
  for (const auto& l : r.layers) s += (s.empty() ? "" : " ") + candidate_name(l.choice);
  return s;
}

// The fields of a run's report.json that the tables of every run kind use.
void read_report(const nlohmann::json& j, SearchResult& r) {
  r.energy_pj = j.at("energy_pj");
  r.ref_energy_pj = j.at("ref_energy_pj");
  r.test_acc_int = j.at("test_acc_int");
  r.test_acc_float = j.at("test_acc_float");
  r.finetune_sec_per_epoch = j.at("finetune_sec_per_epoch");
  r.total_sec = j.at("total_sec");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ENOS study: baselines + lambda sweeps for every search mode and network"};
  std::string out_dir = "enos-study", doc, nets_s = "squeezenet,shufflenet", modes_s = "single,bilevel,sequential,sampling";
  std::vector<double> lambdas = {0.0, 1.0, 4.0};
  SearchConfig base;
  base.train_subset = 3000;
  base.test_subset = 2000;
  base.epochs = 2;
  base.warmup_epochs = 1;
  base.finetune_epochs = 1;
  bool mp = true;
  bool reuse = false;
  app.add_option("--out-dir", out_dir)->capture_default_str();
  app.add_option("--doc", doc, "markdown file to write (e.g. docs/enos-results.md)");
  app.add_option("--nets", nets_s)->capture_default_str();
  app.add_option("--modes", modes_s)->capture_default_str();
  app.add_option("--lambdas", lambdas)->delimiter(',')->capture_default_str();
  app.add_option("--train-subset", base.train_subset)->capture_default_str();
  app.add_option("--test-subset", base.test_subset)->capture_default_str();
  app.add_option("--warmup-epochs", base.warmup_epochs)->capture_default_str();
  app.add_option("--epochs", base.epochs)->capture_default_str();
  app.add_option("--finetune-epochs", base.finetune_epochs)->capture_default_str();
  app.add_option("--seed", base.seed)->capture_default_str();
  app.add_option("--batch", base.batch)->capture_default_str();
  app.add_flag("!--no-mixed-precision", mp);
  app.add_option("--alpha-lr", base.alpha_lr)->capture_default_str();
  app.add_option("--threads", base.threads)->capture_default_str();
  app.add_flag("--reuse-baselines", reuse, "read the uni-operator reports from <out-dir>/<net>/uni-*/report.json");
  std::string from_sweep;
  app.add_option("--from-sweep", from_sweep,
                 "tables from a finished `cimsim sweep data/sweeps/enos-study.yaml --out DIR` (runs nothing)");
  CLI11_PARSE(app, argc, argv);
  base.progress = false;

  const double t0 = static_cast<double>(std::time(nullptr));
  std::vector<Run> runs;
  auto progress = make_progress_printer();
  auto go = [&](SearchConfig c, const std::string& net, const std::string& mode, const std::string& kind,
                const std::string& label) {
    c.net = net;
    c.tag = label;
    c.out_dir = out_dir + "/" + net + "/" + label;
    std::cerr << "[study " << static_cast<long>(std::time(nullptr) - t0) << " s] " << net << " " << label << "\n";
    Run r;
    r.net = net;
    r.mode = mode;
    r.kind = kind;
    r.label = label;
    r.lambda = c.lambda;
    r.r = run_search(c, {});
    std::cerr << "    acc " << f1(100 * r.r.test_acc_int) << " %  E " << e3(r.r.energy_pj) << " pJ  "
              << f1(r.r.total_sec) << " s\n";
    runs.push_back(r);
  };
  if (!from_sweep.empty()) {  // every done point of the sweep, in spec order
    const auto sum = cimsim::load_json_or_yaml(from_sweep + "/summary.json");
    std::vector<std::string> nets;
    for (const auto& p : sum.at("results")) {
      if (p.at("status") != "done") continue;
      const auto& pa = p.at("params");
      const auto j = cimsim::load_json_or_yaml(p.at("dir").get<std::string>() + "/report.json");
      Run r;
      r.net = pa.value("net", "");
      r.kind = p.at("block");
      r.mode = r.kind == "uni" ? "fixed" : pa.value("mode", "");
      const std::string lam = pa.value("lambda", ""), seed = pa.value("seed", "");
      r.lambda = lam.empty() ? 0.0 : std::stod(lam);
      r.label = r.kind == "uni" ? "uni-" + pa.value("candidates", "")
                : (r.kind == "mixed-precision" ? "mp-" : "") + r.mode + "-l" + lam;
      if (!seed.empty() && seed != "1") r.label += "-s" + seed;
      read_report(j, r.r);
      r.r.search_sec_per_epoch = j.at("search_sec_per_epoch");
      r.r.warmup_sec_per_epoch = j.at("warmup_sec_per_epoch");
      r.r.posterior_entropy = j.at("posterior_entropy");
      for (const auto& l : j.at("layers")) {
        LayerResult lr;
        lr.name = l.at("name");
        lr.choice = parse_candidate(l.at("candidate"));
        r.r.layers.push_back(lr);
      }
      if (std::find(nets.begin(), nets.end(), r.net) == nets.end()) nets.push_back(r.net);
      runs.push_back(r);
    }
    nets_s.clear();
    for (const auto& n : nets) nets_s += (nets_s.empty() ? "" : ",") + n;
  }
  for (const auto& net : split_list(from_sweep.empty() ? nets_s : std::string())) {
    for (const auto& cand : all_candidates()) {
      SearchConfig c = base;
      c.mode = "fixed";
      c.candidates = {cand};
      const std::string label = "uni-" + candidate_name(cand);
      if (reuse) {  // a previous study's baseline (same subset/epochs): only the fields the tables use
        const auto j = cimsim::load_json_or_yaml(out_dir + "/" + net + "/" + label + "/report.json");
        Run r;
        r.net = net;
        r.mode = "fixed";
        r.kind = "uni";
        r.label = label;
        read_report(j, r.r);
        runs.push_back(r);
        continue;
      }
      go(c, net, "fixed", "uni", label);
    }
    for (const auto& mode : split_list(modes_s)) {
      std::vector<SweepPoint> pts;
      for (const auto& r : runs)
        if (r.net == net && r.kind == "uni")
          pts.push_back({r.label, "uni", 0, r.r.energy_pj, r.r.test_acc_int, r.r.total_sec, {}});
      for (double lam : lambdas) {
        SearchConfig c = base;
        c.mode = mode;
        c.lambda = lam;
        char lab[64];
        std::snprintf(lab, sizeof lab, "%s-l%g", mode.c_str(), lam);
        go(c, net, mode, "enos", lab);
        pts.push_back({lab, "enos", lam, runs.back().r.energy_pj, runs.back().r.test_acc_int, runs.back().r.total_sec, {}});
        if (mp && mode == "sampling") {  // mixed precision once per lambda, with the cheapest search mode
          c.candidates = {parse_candidate("mac8"), parse_candidate("mac4")};
          std::snprintf(lab, sizeof lab, "mp-%s-l%g", mode.c_str(), lam);
          go(c, net, mode, "mixed-precision", lab);
          pts.push_back({lab, "mixed-precision", lam, runs.back().r.energy_pj, runs.back().r.test_acc_int,
                         runs.back().r.total_sec, {}});
        }
      }
      write_pareto(pts, out_dir + "/" + net + "/pareto-" + mode + ".csv", out_dir + "/" + net + "/pareto-" + mode + ".png",
                   "ENOS " + net + " (" + mode + "), Fashion-MNIST subset");
    }
  }
  const double total = static_cast<double>(std::time(nullptr)) - t0;
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  const double peak_mib = static_cast<double>(ru.ru_maxrss) / 1024.0;

  // ---- markdown
  std::ostringstream md;
  md << "# ENOS results (measured)\n\n"
     << "Generated by `tools/enos/enos_study` (" << f1(total / 60) << " min wall, " << base.threads << " torch thread(s), alpha lr " << base.alpha_lr << ", process peak RSS "
     << f1(peak_mib) << " MiB). Setup: Fashion-MNIST, " << base.train_subset << " training images (fixed subset), "
     << base.warmup_epochs << " warm-up epoch(s) (alpha frozen, uniform single-path sampling) + "
     << base.epochs << " search epochs + " << base.finetune_epochs << " fine-tuning epochs (uni-operator baselines: "
     << base.warmup_epochs + base.epochs + base.finetune_epochs << " training epochs, the same budget), batch " << base.batch
     << ", seed " << base.seed << "; accuracy is the exported **integer** network (bit-exact with the simulator's "
     << "datapath) on the first " << base.test_subset << " test images; energy is per image from "
     << "`accel::layer_energy_pj` (data/tech/45nm.json). Small budgets: differences of ~1-2 points are noise.\n\n"
     << (from_sweep.empty() ? "" : "Runs: the points of the sweep in `" + from_sweep +
                                       "` (data/sweeps/enos-study.yaml; labels -sN = seed N), tables by `enos_study "
                                       "--from-sweep " + from_sweep + "`; the setup line above is the tool's "
                                       "defaults, the spec's options are authoritative.\n\n");
  std::ostringstream repro;  // how to rerun the study in one process (not for tables from a sweep)
  repro << "Reproduce: `build/tools/enos/enos_study --out-dir enos-study --doc docs/enos-results.md --train-subset "
     << base.train_subset << " --warmup-epochs " << base.warmup_epochs << " --epochs " << base.epochs
     << " --finetune-epochs " << base.finetune_epochs << " --test-subset " << base.test_subset << " --lambdas ";
  for (size_t i = 0; i < lambdas.size(); ++i) repro << (i ? "," : "") << lambdas[i];
  repro << " --nets " << nets_s << " --modes " << modes_s << " --alpha-lr " << base.alpha_lr << (reuse ? " --reuse-baselines" : "") << "`\n(one run: `cimsim search --net squeezenet --mode "
     << "sampling --lambda 1 --train-subset " << base.train_subset << " --warmup-epochs " << base.warmup_epochs
     << " --epochs " << base.epochs
     << " --finetune-epochs " << base.finetune_epochs << " --out-dir out`).\n\n";
  if (from_sweep.empty()) md << repro.str();
  for (const auto& net : split_list(nets_s)) {
    const Run* plain = nullptr;
    for (const auto& r : runs)
      if (r.net == net && r.label == "uni-mac8") plain = &r;
    md << "## " << net << "\n\n### Uni-operator baselines\n\n| (op, mode) | energy (pJ/image) | vs MAC8 | accuracy (%) | s/epoch |\n|---|---:|---:|---:|---:|\n";
    for (const auto& r : runs)
      if (r.net == net && r.kind == "uni")
        md << "| " << r.label.substr(4) << " | " << e3(r.r.energy_pj) << " | " << f2(r.r.energy_pj / r.r.ref_energy_pj)
           << " | " << f1(100 * r.r.test_acc_int) << " | " << f1(r.r.finetune_sec_per_epoch) << " |\n";
    md << "\n### ENOS searches\n\n| run | lambda | energy (pJ/image) | vs MAC8 | accuracy (%) | float acc (%) | "
          "entropy (nats/layer) | warm-up s/epoch | search s/epoch | cost vs plain | fine-tune s/epoch |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& r : runs)
      if (r.net == net && r.kind != "uni")
        md << "| " << r.label << " | " << r.lambda << " | " << e3(r.r.energy_pj) << " | "
           << f2(r.r.energy_pj / r.r.ref_energy_pj) << " | " << f1(100 * r.r.test_acc_int) << " | "
           << f1(100 * r.r.test_acc_float) << " | " << f2(r.r.posterior_entropy) << " | "
           << f1(r.r.warmup_sec_per_epoch) << " | " << f1(r.r.search_sec_per_epoch) << " | "
           << (plain && plain->r.finetune_sec_per_epoch > 0 ? f2(r.r.search_sec_per_epoch / plain->r.finetune_sec_per_epoch) + "x" : "-")
           << " | " << f1(r.r.finetune_sec_per_epoch) << " |\n";
    md << "\n(\"cost vs plain\": search seconds per epoch over the uni-MAC8 network's plain training seconds per "
          "epoch, same subset, batch and machine.)\n\n";
    md << "### At the energy of each uni-operator baseline\n\nBest ENOS accuracy (any mode/lambda, and per mode) "
          "among the searched networks whose energy is at most the baseline's.\n\n| baseline | energy (pJ) | "
          "baseline acc (%) | best ENOS acc (%) (run) | delta | best mixed-precision acc (%) |\n|---|---:|---:|---:|---:|---:|\n";
    for (const auto& u : runs) {
      if (u.net != net || u.kind != "uni") continue;
      const Run* best = nullptr;
      const Run* bestmp = nullptr;
      for (const auto& r : runs) {
        if (r.net != net || r.r.energy_pj > u.r.energy_pj * (1 + 1e-9)) continue;
        if (r.kind == "enos" && (!best || r.r.test_acc_int > best->r.test_acc_int)) best = &r;
        if (r.kind == "mixed-precision" && (!bestmp || r.r.test_acc_int > bestmp->r.test_acc_int)) bestmp = &r;
      }
      md << "| " << u.label.substr(4) << " | " << e3(u.r.energy_pj) << " | " << f1(100 * u.r.test_acc_int) << " | "
         << (best ? f1(100 * best->r.test_acc_int) + " (" + best->label + ")" : "none at this energy") << " | "
         << (best ? f1(100 * (best->r.test_acc_int - u.r.test_acc_int)) : "-") << " | "
         << (bestmp ? f1(100 * bestmp->r.test_acc_int) : "-") << " |\n";
    }
    md << "\n### Layer assignments found\n\n";
    {
      bool first = true;
      for (const auto& r : runs)
        if (r.net == net && r.kind != "uni") {
          if (first) {
            md << "Layers: ";
            for (size_t i = 0; i < r.r.layers.size(); ++i) md << (i ? ", " : "") << r.r.layers[i].name;
            md << "\n\n";
            first = false;
          }
          md << "- `" << r.label << "`: " << assignment(r.r) << "\n";
        }
    }
    md << "\n";
  }
  md << "Per-run reports (config, per-layer probabilities, history): `" << out_dir
     << "/<net>/<run>/report.json`; Pareto plots: `" << out_dir << "/<net>/pareto-<mode>.png`.\n";
  cimsim::atomic_write(out_dir + "/enos-results.md", md.str());
  if (!doc.empty()) cimsim::atomic_write(doc, md.str());
  std::cout << md.str();
  return 0;
}
