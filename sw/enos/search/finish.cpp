// ENOS search: the end of a run: float and bit-exact integer evaluation, export and report.
#include <algorithm>
#include <filesystem>

#include "cimsim/core/io.hpp"
#include "cimsim/enos/graph.hpp"

#include "search_run.hpp"

namespace cimsim::enos::search::detail {

namespace fs = std::filesystem;

double entropy_of(const Tensor& alpha) {
  const Tensor p = torch::softmax(alpha.detach(), 0);
  return -(p * torch::log(p.clamp_min(1e-12))).sum().item<double>();
}

// Evaluation (float and bit-exact integer), export and reports.
SearchResult SearchRun::finish() {
  SearchResult r;
  double exported_total_pj = 0;
  r.config = cfg;
  r.hardware = hw.key();
  r.candidates = cfg.candidates;
  net->eval();
  {
    torch::NoGradGuard ng;
    int64_t cf = 0, ci = 0;
    r.exported = net->export_network(cfg.dataset, arr);
    // The per-layer estimate the simulator is checked against: the program plan of the exported network.
    const PredictedEnergy pe = predict_energy(r.exported, table);
    for (size_t i = 0; i < r.exported.nodes.size(); ++i)
      if (r.exported.nodes[i].kind == NodeKind::Accel) r.exported.nodes[i].predicted_energy_pj = pe.node_pj[i];
    exported_total_pj = pe.total_pj;
    r.operator_energy_pj = pe.operator_pj;
    r.ref_operator_energy_pj = net->ref_operator_energy();
    for (int64_t b = 0; b < Dte.n(); b += 500) {
      const int64_t e = std::min<int64_t>(Dte.n(), b + 500);
      const Tensor xb = Dte.x.slice(0, b, e), yb = Dte.y.slice(0, b, e);
      cf += net->forward(xb, Combine::Fixed).argmax(1).eq(yb).sum().item<int64_t>();
      ci += int_network_forward(r.exported, xb).argmax(1).eq(yb).sum().item<int64_t>();
    }
    r.test_acc_float = static_cast<double>(cf) / static_cast<double>(std::max<int64_t>(1, Dte.n()));
    r.test_acc_int = static_cast<double>(ci) / static_cast<double>(std::max<int64_t>(1, Dte.n()));
  }
  double H = 0;
  for (auto& L : net->layers) {
    LayerResult lr;
    lr.name = L->name;
    lr.choice = L->cands[static_cast<size_t>(L->chosen)];
    lr.energy_pj = L->energy_pj[static_cast<size_t>(L->chosen)];
    lr.candidate_energy_pj = L->energy_pj;
    if (!fixed) {
      const Tensor p = torch::softmax(L->alpha.detach(), 0).to(torch::kFloat64).contiguous();
      lr.probs.assign(p.data_ptr<double>(), p.data_ptr<double>() + p.numel());
      H += entropy_of(L->alpha);
    }
    r.layers.push_back(lr);
  }
  r.posterior_entropy = fixed ? 0.0 : H / nl;
  r.energy_pj = exported_total_pj;  // system energy per image: layers + vector ops, as the simulator runs it
  r.ref_energy_pj = Eref;
  r.expected_energy_pj = fixed ? r.energy_pj : net->expected_energy().item<double>();
  r.search_sec_per_epoch = search_eps ? search_sec / search_eps : 0;
  r.warmup_sec_per_epoch = warmup_eps ? warmup_sec / warmup_eps : 0;
  r.finetune_sec_per_epoch = tune_eps ? tune_sec / tune_eps : 0;
  r.pretrain_sec_per_epoch = pre_eps ? pre_sec / pre_eps : 0;
  r.search_cpu_sec_per_epoch = search_eps ? search_cpu / search_eps : 0;
  r.warmup_cpu_sec_per_epoch = warmup_eps ? warmup_cpu / warmup_eps : 0;
  r.pretrain_cpu_sec_per_epoch = pre_eps ? pre_cpu / pre_eps : 0;
  r.finetune_cpu_sec_per_epoch = tune_eps ? tune_cpu / tune_eps : 0;
  r.supernet = supernet_j;
  r.sensitivity = sensitivity_j;
  r.total_sec = now_s() - t_start;
  r.peak_rss_bytes = peak_rss();
  r.history = history;
  r.exported.meta = {{"search", config_json(cfg)},
                     {"test_acc_int", r.test_acc_int},
                     {"test_acc_float", r.test_acc_float},
                     {"energy_pj", r.energy_pj},
                     {"ref_energy_pj", Eref},
                     {"energy_table", table.origin()},
                     {"energy_table_fingerprint", table.fingerprint()}};
  if (!cfg.arch_path.empty()) {  // only then: default exports keep their bytes (`array` is the full hardware)
    r.exported.meta["arch"] = hw.key()["arch"];
    r.exported.meta["arch_name"] = hw.arch_name;
    r.exported.meta["arch_fingerprint"] = hw.arch_fingerprint();
  }
  if (write) {
    save_export(cfg.out_dir + "/network.enos.json", r.exported);
    nlohmann::json rep = r.report();
    rep["energy_table_fingerprint"] = table.fingerprint();
    atomic_write_json(cfg.out_dir + "/report.json", rep);
  }
  return r;
}

}  // namespace cimsim::enos::search::detail
