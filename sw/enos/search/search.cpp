// ENOS search driver: data, the four search modes, discretization + fine-tuning, checkpoints, integer
// evaluation, export, reports and Pareto sweeps. See docs/enos.md.
#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/data/datasets.hpp"
#include "cimsim/enos/search/torch_impl.hpp"
#include "cimsim/enos/graph.hpp"

namespace cimsim::enos::search {

using torch::Tensor;
namespace fs = std::filesystem;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int64_t peak_rss() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;
}

struct DataT {
  Tensor x, y;
  int64_t n() const { return x.size(0); }
};

DataT to_tensors(const data::ImageSet& s, double scale) {
  DataT d;
  d.x = quantize_images(s.pixels.data(), s.n, s.c, s.h, s.w, scale);
  std::vector<int64_t> l(s.labels.begin(), s.labels.end());
  d.y = torch::tensor(l, torch::kInt64);
  return d;
}

void validate(const SearchConfig& c) {
  static const char* modes[] = {"single", "bilevel", "sequential", "sampling", "fixed"};
  bool ok = false;
  for (const char* m : modes) ok = ok || c.mode == m;
  if (!ok) throw ConfigError("unknown search mode '" + c.mode + "' (single, bilevel, sequential, sampling, fixed)");
  if (c.net != "squeezenet" && c.net != "shufflenet")
    throw ConfigError("unknown network '" + c.net + "' (squeezenet, shufflenet)");
  if (c.dataset != "fashion-mnist" && c.dataset != "cifar10" && c.dataset != "cifar100")
    throw ConfigError("unknown dataset '" + c.dataset + "' (fashion-mnist, cifar10, cifar100)");
  if (c.epochs < 0 || c.finetune_epochs < 0 || c.warmup_epochs < 0 ||
      c.warmup_epochs + c.epochs + c.finetune_epochs < 1)
    throw ConfigError("epochs must be >= 0 with at least one epoch in total");
  if (c.batch < 2) throw ConfigError("batch must be >= 2 (BatchNorm)");
  if (c.lambda < 0 || c.budget_pj < 0) throw ConfigError("lambda and budget must be >= 0");
  if (c.adc_bits < 1 || c.adc_bits > 16) throw ConfigError("adc_bits must be in [1, 16]");
  if (c.mode == "bilevel" && !(c.val_fraction > 0 && c.val_fraction < 1))
    throw ConfigError("bilevel search needs a validation fraction in (0, 1)");
}

nlohmann::json config_json_base(const SearchConfig& c) {
  nlohmann::json cands = nlohmann::json::array();
  for (const auto& k : c.candidates) cands.push_back(candidate_name(k));
  return {{"net", c.net},
          {"dataset", c.dataset},
          {"mode", c.mode},
          {"candidates", cands},
          {"lambda", c.lambda},
          {"budget_pj", c.budget_pj},
          {"lambda_budget", c.lambda_budget},
          {"warmup_epochs", c.warmup_epochs},
          {"epochs", c.epochs},
          {"finetune_epochs", c.finetune_epochs},
          {"train_subset", c.train_subset},
          {"test_subset", c.test_subset},
          {"val_fraction", c.val_fraction},
          {"batch", c.batch},
          {"lr", c.lr},
          {"alpha_lr", c.alpha_lr},
          {"warmup_frac", c.warmup_frac},
          {"tau_start", c.tau_start},
          {"tau_end", c.tau_end},
          {"kl_weight", c.kl_weight},
          {"bn_recal_batches", c.bn_recal_batches},
          {"adc_bits", c.adc_bits},
          {"train_noise_lsb", c.train_noise_lsb},
          {"seed", c.seed},
          {"tag", c.tag}};
}

nlohmann::json config_json(const SearchConfig& c) {
  nlohmann::json j = config_json_base(c);
  if (!c.assignment.empty()) {  // only then: earlier reports and checkpoints keep their keys
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : c.assignment) a.push_back({{"name", e.layer}, {"candidate", candidate_name(e.choice)}});
    j["assignment"] = a;
  }
  return j;
}

/// The fields that must agree for a checkpoint to be resumed.
nlohmann::json resume_key(const SearchConfig& c) {
  nlohmann::json j = config_json(c);
  j.erase("tag");
  return j;
}

/// 1 for every parameter of `opt` that holds a gradient tensor, 0 otherwise (checkpointed, see run_search).
Tensor grad_mask(torch::optim::Optimizer& opt) {
  std::vector<int64_t> m;
  for (auto& g : opt.param_groups())
    for (auto& p : g.params()) m.push_back(p.grad().defined() ? 1 : 0);
  return torch::tensor(m, torch::kInt64);
}

void restore_grad_mask(torch::optim::Optimizer& opt, const Tensor& mask) {
  int64_t i = 0;
  for (auto& g : opt.param_groups())
    for (auto& p : g.params()) {
      if (i >= mask.numel()) throw ConfigError("checkpoint: gradient mask has fewer entries than parameters");
      if (mask[i++].item<int64_t>() != 0) p.mutable_grad() = torch::zeros_like(p);
    }
  if (i != mask.numel()) throw ConfigError("checkpoint: gradient mask has more entries than parameters");
}

double entropy_of(const Tensor& alpha) {
  const Tensor p = torch::softmax(alpha.detach(), 0);
  return -(p * torch::log(p.clamp_min(1e-12))).sum().item<double>();
}

}  // namespace

nlohmann::json SearchResult::report() const {
  nlohmann::json layers_j = nlohmann::json::array();
  for (const auto& l : layers)
    layers_j.push_back({{"name", l.name},
                        {"op", accel::op_name(l.choice.op)},
                        {"mode", accel::mode_name(l.choice.mode)},
                        {"candidate", candidate_name(l.choice)},
                        {"energy_pj", l.energy_pj},
                        {"probs", l.probs},
                        {"candidate_energy_pj", l.candidate_energy_pj}});
  nlohmann::json cands = nlohmann::json::array();
  for (const auto& k : candidates) cands.push_back(candidate_name(k));
  return {{"config", config_json(config)},
          {"candidates", cands},
          {"layers", layers_j},
          {"test_acc_int", test_acc_int},
          {"test_acc_float", test_acc_float},
          {"energy_pj", energy_pj},
          {"ref_energy_pj", ref_energy_pj},
          {"energy_ratio", ref_energy_pj > 0 ? energy_pj / ref_energy_pj : 0.0},
          {"expected_energy_pj", expected_energy_pj},
          {"posterior_entropy", posterior_entropy},
          {"search_sec_per_epoch", search_sec_per_epoch},
          {"warmup_sec_per_epoch", warmup_sec_per_epoch},
          {"finetune_sec_per_epoch", finetune_sec_per_epoch},
          {"total_sec", total_sec},
          {"peak_rss_bytes", peak_rss_bytes},
          {"history", history}};
}

SearchResult run_search(const SearchConfig& cfg_in, const ProgressFn& progress) {
  SearchConfig cfg = cfg_in;
  validate(cfg);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  torch::set_num_threads(std::max(1, cfg.threads));
  const double t_start = now_s();
  const bool fixed = cfg.mode == "fixed";
  if (!cfg.assignment.empty()) {  // train a given per-layer assignment: the network offers its candidates
    if (!fixed) throw ConfigError("a per-layer assignment is trained in fixed mode (--mode fixed)");
    cfg.candidates.clear();
    for (const auto& e : cfg.assignment)
      if (std::none_of(cfg.candidates.begin(), cfg.candidates.end(),
                       [&](const Candidate& c) { return c.op == e.choice.op && c.mode == e.choice.mode; }))
        cfg.candidates.push_back(e.choice);
  }
  if (cfg.candidates.empty()) cfg.candidates = all_candidates();
  if (fixed && cfg.assignment.empty()) cfg.candidates.resize(1);

  // ---- data
  data::ImageSet train, test;
  if (cfg.dataset == "fashion-mnist") {
    const std::string dir = cfg.data_path.empty() ? data::fashion_mnist_dir() : cfg.data_path;
    train = data::load_fashion_mnist(dir, true);
    test = data::load_fashion_mnist(dir, false);
  } else {
    if (cfg.data_path.empty() || cfg.test_path.empty())
      throw ConfigError("CIFAR needs --data (training batch file) and --test-data (test batch file)");
    train = data::load_cifar(cfg.data_path, cfg.dataset == "cifar100");
    test = data::load_cifar(cfg.test_path, cfg.dataset == "cifar100");
  }
  if (cfg.train_subset > 0 && cfg.train_subset < train.n) {
    // A fixed, seed-independent subset so that every run of a study sees the same images.
    std::vector<int> p = data::permutation(train.n, 0x5eed);
    p.resize(static_cast<size_t>(cfg.train_subset));
    train = data::subset(train, p);
  }
  test = data::take(test, cfg.test_subset);
  data::ImageSet wtrain = train, val;
  if (cfg.mode == "bilevel") {
    auto sp = data::split(train, cfg.val_fraction, cfg.seed);
    wtrain = std::move(sp.train);
    val = std::move(sp.val);
  }

  if (wtrain.n < cfg.batch)
    throw ConfigError("--train-subset " + std::to_string(cfg.train_subset) + " leaves " + std::to_string(wtrain.n) +
                      " training images" + (cfg.mode == "bilevel" ? std::string(" after the validation split") : "") +
                      ", fewer than one batch (--batch " + std::to_string(cfg.batch) + ")");
  if (cfg.mode == "bilevel" && val.n < 1)
    throw ConfigError("--val-fraction " + std::to_string(cfg.val_fraction) + " of " + std::to_string(train.n) +
                      " training images leaves no validation image for the bilevel search");

  // ---- network
  torch::manual_seed(cfg.seed);
  SearchNet net(cfg.net, train.c, train.h, train.w, train.classes, cfg.candidates, cfg.adc_bits);
  const DataT Dtr = to_tensors(wtrain, net->input_scale), Dte = to_tensors(test, net->input_scale);
  DataT Dval;
  if (val.n > 0) Dval = to_tensors(val, net->input_scale);
  const EnergyTable table = EnergyTable::load_default();
  const accel::ArrayConfig arr;
  net->set_energies(arr, table);
  if (!cfg.assignment.empty()) net->assign(cfg.assignment, cfg.assignment_file);
  for (auto& L : net->layers) L->train_noise_lsb = cfg.train_noise_lsb;
  const double Eref = net->ref_energy();
  const int nl = static_cast<int>(net->layers.size());

  torch::optim::Adam opt_w(net->weight_params(), torch::optim::AdamOptions(cfg.lr));
  torch::optim::Adam opt_a(net->alpha_params(), torch::optim::AdamOptions(cfg.alpha_lr).betas({0.5, 0.999}));

  auto energy_term = [&](const Tensor& E) {
    if (cfg.budget_pj > 0) return cfg.lambda_budget * torch::relu(E / cfg.budget_pj - 1.0);
    return cfg.lambda * E / Eref;
  };

  // ---- checkpoint / resume. A checkpoint holds everything the next epoch depends on, so that a run killed at
  // any point and resumed writes the same bytes as an uninterrupted one: weights, buffers, both optimizers,
  // observers, chosen candidates, the bilevel validation cursor and which parameters hold a gradient tensor.
  // The last matters: zero_grad() zeroes existing gradients but leaves absent ones absent, and Adam steps a
  // parameter with a zero gradient (its momentum still moves it) but skips one without. In sampling mode
  // (and warm-up) a candidate not drawn this step has a zero gradient in the uninterrupted run; after a
  // plain reload it had none, so Adam skipped it and the runs diverged.
  int64_t val_pos = 0;  // bilevel: position in the validation permutation (carried across epochs)
  const bool write = !cfg.out_dir.empty();
  const std::string ckpt = write ? cfg.out_dir + "/checkpoint.pt" : "";
  int start_epoch = 0;
  bool discretized = fixed;
  std::vector<nlohmann::json> history;
  if (write) {
    std::error_code ec;
    fs::create_directories(cfg.out_dir, ec);
    if (ec) throw IoError("cannot create --out-dir " + cfg.out_dir + ": " + ec.message());
  }
  if (write && cfg.resume && fs::exists(ckpt)) try {
    torch::serialize::InputArchive ar;
    try {
      ar.load_from(ckpt);
    } catch (const std::exception& e) {  // corrupt input: exit 2, nothing written (first line: no torch backtrace)
      const std::string what = e.what();
      throw ConfigError("checkpoint '" + ckpt + "' is corrupt or not a checkpoint (" + what.substr(0, what.find('\n')) +
                        "); remove it or use another --out-dir");
    }
    c10::IValue key, hist;
    ar.read("resume_key", key);
    if (nlohmann::json::parse(key.toStringRef()) != resume_key(cfg))
      throw ConfigError("checkpoint '" + ckpt + "' was written by a different configuration; use another --out-dir");
    net->load(ar);
    torch::serialize::InputArchive aw, aa;
    ar.read("opt_w", aw);
    ar.read("opt_a", aa);
    opt_w.load(aw);
    opt_a.load(aa);
    Tensor obs, chosen, ep;
    ar.read("observers", obs);
    ar.read("chosen", chosen);
    ar.read("epochs_done", ep);
    obs = obs.to(torch::kFloat64).contiguous();
    net->set_observer_values(std::vector<double>(obs.data_ptr<double>(), obs.data_ptr<double>() + obs.numel()));
    for (int l = 0; l < nl; ++l) net->layers[static_cast<size_t>(l)]->chosen = static_cast<int>(chosen[l].item<int64_t>());
    start_epoch = static_cast<int>(ep.item<int64_t>());
    Tensor vp, gw, ga;
    ar.read("val_pos", vp);
    ar.read("grad_defined_w", gw);
    ar.read("grad_defined_a", ga);
    val_pos = vp.item<int64_t>();
    restore_grad_mask(opt_w, gw);
    restore_grad_mask(opt_a, ga);
    ar.read("history", hist);
    for (auto& h : nlohmann::json::parse(hist.toStringRef())) history.push_back(h);
    // The uninterrupted run discretizes at the start of the first epoch after the search, i.e. after the
    // checkpoint of the last search epoch was written: a run resumed from that checkpoint must still do it.
    discretized = fixed || start_epoch > cfg.warmup_epochs + cfg.epochs;
  } catch (const c10::Error& e) {
    throw ConfigError("checkpoint '" + ckpt + "' cannot be resumed (damaged, or written by an older cimsim): " +
                      e.what_without_backtrace());
  }
  auto save_ckpt = [&](int epochs_done) {
    torch::serialize::OutputArchive ar;
    net->save(ar);
    torch::serialize::OutputArchive aw, aa;
    opt_w.save(aw);
    opt_a.save(aa);
    ar.write("opt_w", aw);
    ar.write("opt_a", aa);
    ar.write("observers", torch::tensor(net->observer_values(), torch::kFloat64));
    std::vector<int64_t> ch;
    for (auto& L : net->layers) ch.push_back(L->chosen);
    ar.write("chosen", torch::tensor(ch, torch::kInt64));
    ar.write("epochs_done", torch::tensor(static_cast<int64_t>(epochs_done)));
    ar.write("val_pos", torch::tensor(val_pos));
    ar.write("grad_defined_w", grad_mask(opt_w));
    ar.write("grad_defined_a", grad_mask(opt_a));
    ar.write("resume_key", c10::IValue(resume_key(cfg).dump()));
    ar.write("history", c10::IValue(nlohmann::json(history).dump()));
    const std::string tmp = ckpt + ".tmp";
    ar.save_to(tmp);
    std::error_code ec;
    fs::rename(tmp, ckpt, ec);
    if (ec) throw IoError("cannot write checkpoint '" + ckpt + "': " + ec.message());
    atomic_write_json(cfg.out_dir + "/checkpoint.json",
                      {{"epochs_done", epochs_done}, {"epochs_total", cfg.warmup_epochs + cfg.epochs + cfg.finetune_epochs},
                       {"discretized", discretized}, {"config", config_json(cfg)}, {"history", history}});
  };

  // ---- training
  const int W = fixed ? 0 : cfg.warmup_epochs;  // fixed mode: warm-up epochs are plain training epochs
  const int total_epochs = cfg.warmup_epochs + cfg.epochs + cfg.finetune_epochs;
  const int64_t steps = std::max<int64_t>(1, Dtr.n() / cfg.batch);
  const int64_t search_steps_total = fixed ? 0 : steps * cfg.epochs;
  const int64_t warmup_steps = static_cast<int64_t>(cfg.warmup_frac * static_cast<double>(search_steps_total));
  double search_sec = 0, tune_sec = 0, warmup_sec = 0;
  int search_eps = 0, tune_eps = 0, warmup_eps = 0;
  std::vector<int> val_perm;
  if (Dval.x.defined()) val_perm = data::permutation(static_cast<int>(Dval.n()), cfg.seed * 31 + 7);

  for (int epoch = start_epoch; epoch < total_epochs; ++epoch) {
    const bool warming = !fixed && epoch < W;
    const bool searching = !fixed && epoch >= W && epoch < W + cfg.epochs;
    if (!searching && !warming && !discretized) {
      net->discretize();
      discretized = true;
    }
    const std::string phase = fixed ? "train" : (warming ? "warmup" : (searching ? "search" : "finetune"));
    torch::manual_seed(cfg.seed * 1000003ull + static_cast<uint64_t>(epoch));
    const std::vector<int> perm = data::permutation(static_cast<int>(Dtr.n()), cfg.seed * 7919ull + epoch);
    net->train();
    const double t0 = now_s();
    double loss_sum = 0, energy_last = net->chosen_energy();
    int64_t correct = 0, seen = 0;
    for (int64_t s = 0; s < steps; ++s) {
      const int64_t gstep = static_cast<int64_t>(epoch - W) * steps + s;  // step within the search
      const bool alpha_on = searching && gstep >= warmup_steps;
      std::vector<int64_t> ix(perm.begin() + s * cfg.batch, perm.begin() + (s + 1) * cfg.batch);
      const Tensor idx = torch::tensor(ix, torch::kInt64);
      const Tensor xb = Dtr.x.index_select(0, idx), yb = Dtr.y.index_select(0, idx);
      const double s_out = net->layers.back()->out_obs->scale();
      Tensor logits, loss;
      opt_w.zero_grad();
      opt_a.zero_grad();
      if (warming) {  // single-path uniform sampling: every candidate's weights and BN get trained
        logits = net->forward(xb, Combine::Uniform) * s_out;
        loss = torch::cross_entropy_loss(logits, yb);
        loss.backward();
        opt_w.step();
      } else if (!searching) {
        logits = net->forward(xb, Combine::Fixed) * s_out;
        loss = torch::cross_entropy_loss(logits, yb);
        loss.backward();
        opt_w.step();
      } else if (cfg.mode == "single") {
        logits = net->forward(xb, Combine::Mixed) * s_out;
        const Tensor E = net->expected_energy();
        loss = torch::cross_entropy_loss(logits, yb) + energy_term(E);
        loss.backward();
        opt_w.step();
        if (alpha_on) opt_a.step();
        energy_last = E.item<double>();
      } else if (cfg.mode == "bilevel") {
        logits = net->forward(xb, Combine::Mixed) * s_out;
        loss = torch::cross_entropy_loss(logits, yb);
        loss.backward();
        opt_w.step();
        if (alpha_on) {  // first-order: alpha on a validation batch with the current weights
          std::vector<int64_t> vix;
          for (int b = 0; b < cfg.batch; ++b) vix.push_back(val_perm[static_cast<size_t>(val_pos++ % static_cast<int64_t>(val_perm.size()))]);
          const Tensor vi = torch::tensor(vix, torch::kInt64);
          opt_w.zero_grad();
          opt_a.zero_grad();
          const Tensor vl = net->forward(Dval.x.index_select(0, vi), Combine::Mixed) * s_out;
          const Tensor E = net->expected_energy();
          const Tensor la = torch::cross_entropy_loss(vl, Dval.y.index_select(0, vi)) + energy_term(E);
          la.backward();
          opt_a.step();
          energy_last = E.item<double>();
        }
      } else if (cfg.mode == "sequential") {
        const int l = static_cast<int>(gstep % nl);
        logits = net->forward(xb, Combine::Fixed, 1.0, l) * s_out;
        const Tensor E = net->expected_energy(l);
        loss = torch::cross_entropy_loss(logits, yb) + energy_term(E);
        loss.backward();
        opt_w.step();
        if (alpha_on) {
          for (int o = 0; o < nl; ++o)
            if (o != l) net->layers[static_cast<size_t>(o)]->alpha.mutable_grad() = Tensor();
          opt_a.step();
          auto& L = net->layers[static_cast<size_t>(l)];
          L->chosen = static_cast<int>(L->alpha.argmax().item<int64_t>());
        }
        energy_last = E.item<double>();
      } else {  // sampling
        const double frac = search_steps_total > 0 ? static_cast<double>(gstep) / search_steps_total : 1.0;
        const double tau = cfg.tau_start * std::pow(cfg.tau_end / cfg.tau_start, frac);
        logits = net->forward(xb, Combine::Sampled, tau) * s_out;
        const Tensor E = net->expected_energy();
        Tensor kl = torch::zeros({});
        for (auto& L : net->layers) {
          const Tensor p = torch::softmax(L->alpha, 0);
          const double logk = std::log(static_cast<double>(p.size(0)));
          kl = kl + (p * torch::log(p.clamp_min(1e-12))).sum() + logk;  // KL(p || uniform prior)
        }
        loss = torch::cross_entropy_loss(logits, yb) + energy_term(E) + cfg.kl_weight * kl;
        loss.backward();
        opt_w.step();
        if (alpha_on) opt_a.step();
        energy_last = E.item<double>();
      }
      for (auto& L : net->layers) L->clamp_gamma();
      loss_sum += loss.item<double>();
      correct += logits.argmax(1).eq(yb).sum().item<int64_t>();
      seen += yb.size(0);
      if (!searching && !warming) energy_last = net->chosen_energy();
      if (progress)
        progress({phase, epoch + 1, total_epochs, s + 1, steps, loss_sum / static_cast<double>(s + 1),
                  static_cast<double>(correct) / static_cast<double>(seen), energy_last});
    }
    const double dt = now_s() - t0;
    if (warming) {
      warmup_sec += dt;
      ++warmup_eps;
    } else if (searching) {
      search_sec += dt;
      ++search_eps;
    } else {
      tune_sec += dt;
      ++tune_eps;
    }
    double H = 0;
    for (auto& L : net->layers) H += entropy_of(L->alpha);
    history.push_back({{"phase", phase},
                       {"epoch", epoch + 1},
                       {"loss", loss_sum / static_cast<double>(steps)},
                       {"train_acc", static_cast<double>(correct) / static_cast<double>(std::max<int64_t>(seen, 1))},
                       {"expected_energy_pj", energy_last},
                       {"posterior_entropy", H / nl},
                       {"sec", dt}});
    if (write) save_ckpt(epoch + 1);
  }
  if (!discretized) net->discretize();

  // ---- BatchNorm recalibration of the chosen candidates. The running statistics are an EMA (momentum 0.1) of
  // batch statistics taken while the weights moved; for the adder (-sum|x - w| carries a per-channel offset
  // -sum|w| that shifts with every weight step) they lagged so far behind that the eval-mode network was at
  // chance while training accuracy was 70 %. Re-estimate them with the final weights: cumulative average over
  // up to `bn_recal_batches` training batches (fixed order), no gradient, observers restored afterwards.
  if (cfg.bn_recal_batches > 0) {
    torch::NoGradGuard ng;
    const std::vector<double> obs = net->observer_values();
    for (auto& L : net->layers) {
      auto& bn = L->bns[static_cast<size_t>(L->chosen)];
      bn->reset_running_stats();
      bn->options.momentum(c10::nullopt);
    }
    net->train();
    const std::vector<int> perm = data::permutation(static_cast<int>(Dtr.n()), cfg.seed * 7919ull + 424242);
    const int64_t nb = std::min<int64_t>(cfg.bn_recal_batches, steps);
    for (int64_t s = 0; s < nb; ++s) {
      std::vector<int64_t> ix(perm.begin() + s * cfg.batch, perm.begin() + (s + 1) * cfg.batch);
      net->forward(Dtr.x.index_select(0, torch::tensor(ix, torch::kInt64)), Combine::Fixed);
    }
    for (auto& L : net->layers) L->bns[static_cast<size_t>(L->chosen)]->options.momentum(0.1);
    net->set_observer_values(obs);
  }

  // ---- evaluation
  SearchResult r;
  double exported_total_pj = 0;
  r.config = cfg;
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
  if (write) {
    save_export(cfg.out_dir + "/network.enos.json", r.exported);
    nlohmann::json rep = r.report();
    rep["energy_table_fingerprint"] = table.fingerprint();
    atomic_write_json(cfg.out_dir + "/report.json", rep);
  }
  return r;
}

ProgressFn make_progress_printer() {
  const bool tty = isatty(2) != 0;
  auto last = std::make_shared<double>(0.0);
  auto last_decile = std::make_shared<int>(-1);
  return [tty, last, last_decile](const Progress& p) {
    char line[256];
    std::snprintf(line, sizeof line, "[%s %d/%d] step %lld/%lld  loss %.4f  acc %.1f%%  E %.4g pJ", p.phase.c_str(),
                  p.epoch, p.epochs, static_cast<long long>(p.step), static_cast<long long>(p.steps), p.loss,
                  100.0 * p.acc, p.expected_energy_pj);
    const bool end = p.step == p.steps;
    if (tty) {
      const double t = now_s();
      if (end || t - *last > 0.2) {
        std::fprintf(stderr, "\r%-100s%s", line, end ? "\n" : "");
        std::fflush(stderr);
        *last = t;
      }
    } else {
      const int decile = static_cast<int>(10 * p.step / std::max<int64_t>(1, p.steps));
      if (end || decile != *last_decile) {
        std::fprintf(stderr, "%s\n", line);
        *last_decile = end ? -1 : decile;
      }
    }
  };
}

// ---------------------------------------------------------------------------------------------------------
// Pareto sweeps

bool write_pareto(const std::vector<SweepPoint>& pts, const std::string& csv_path, const std::string& png_path,
                  const std::string& title) {
  std::ostringstream csv;
  csv << "label,kind,lambda,energy_pj,accuracy,seconds\n";
  for (const auto& p : pts)
    csv << p.label << ',' << p.kind << ',' << p.lambda << ',' << p.energy_pj << ',' << p.acc << ',' << p.sec << '\n';
  atomic_write(csv_path, csv.str());
  if (png_path.empty()) return true;
  const fs::path dir = fs::temp_directory_path() / ("cimsim-pareto-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto dat = [&](const std::string& kind) {
    const std::string f = (dir / (kind + ".dat")).string();
    std::ofstream o(f);
    std::vector<SweepPoint> v;
    for (const auto& p : pts)
      if (p.kind == kind) v.push_back(p);
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.energy_pj < b.energy_pj; });
    for (const auto& p : v) o << p.energy_pj << ' ' << 100.0 * p.acc << " \"" << p.label << "\"\n";
    if (v.empty()) o << "nan nan \"\"\n";
    return f;
  };
  const std::string uni = dat("uni"), mp = dat("mixed-precision"), enos = dat("enos");
  const std::string tmp_png = png_path + ".tmp.png";
  const std::string script = (dir / "plot.gp").string();
  {
    std::ofstream g(script);
    g << "set terminal pngcairo size 900,600\nset output '" << tmp_png << "'\n"
      << "set title '" << title << "' noenhanced\nset xlabel 'energy per image (pJ)'\n"
      << "set ylabel 'test accuracy (%), integer inference'\nset grid\nset key bottom right\n"
      << "plot '" << uni << "' using 1:2 with points pt 7 ps 1.2 title 'uni-operator', \\\n"
      << "     '" << uni << "' using 1:2:3 with labels offset 0,0.8 font ',8' notitle, \\\n"
      << "     '" << mp << "' using 1:2 with linespoints pt 5 title 'mixed-precision (mac8/mac4)', \\\n"
      << "     '" << enos << "' using 1:2 with linespoints pt 9 ps 1.4 lw 2 title 'ENOS'\n";
  }
  const std::string cmd = "gnuplot '" + script + "' 2>" + (dir / "err.txt").string();
  const int rc = std::system(cmd.c_str());
  bool ok = rc == 0 && fs::exists(tmp_png);
  if (ok) {
    std::error_code ec;
    fs::rename(tmp_png, png_path, ec);
    ok = !ec;
  } else {
    std::cerr << "cimsim: gnuplot failed (rc " << rc << "); the CSV is at " << csv_path << "\n";
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return ok;
}

std::vector<SweepPoint> run_sweep(const SweepConfig& sc, const ProgressFn& progress) {
  std::vector<SweepPoint> pts;
  auto run = [&](SearchConfig c, const std::string& label, const std::string& kind) {
    if (!sc.out_dir.empty()) c.out_dir = sc.out_dir + "/runs/" + label;
    c.tag = label;
    std::cerr << "cimsim: run " << label << "\n";
    const SearchResult r = run_search(c, progress);
    SweepPoint p;
    p.label = label;
    p.kind = kind;
    p.lambda = c.lambda;
    p.energy_pj = r.energy_pj;
    p.acc = r.test_acc_int;
    p.sec = r.total_sec;
    p.report = r.report();
    pts.push_back(p);
    if (!sc.out_dir.empty()) {
      nlohmann::json all = nlohmann::json::array();
      for (const auto& q : pts)
        all.push_back({{"label", q.label}, {"kind", q.kind}, {"lambda", q.lambda}, {"energy_pj", q.energy_pj},
                       {"accuracy", q.acc}, {"seconds", q.sec}});
      atomic_write_json(sc.out_dir + "/sweep.json", all);
    }
  };
  if (sc.baselines)
    for (const auto& cand : all_candidates()) {
      SearchConfig c = sc.base;
      c.mode = "fixed";
      c.candidates = {cand};
      c.lambda = 0;
      c.budget_pj = 0;
      run(c, "uni-" + candidate_name(cand), "uni");
    }
  for (double lam : sc.lambdas) {
    SearchConfig c = sc.base;
    c.lambda = lam;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s-lambda%g", c.mode.c_str(), lam);
    run(c, buf, "enos");
    if (sc.mixed_precision) {
      c.candidates = {parse_candidate("mac8"), parse_candidate("mac4")};
      std::snprintf(buf, sizeof buf, "mp-%s-lambda%g", c.mode.c_str(), lam);
      run(c, buf, "mixed-precision");
    }
  }
  if (!sc.out_dir.empty())
    write_pareto(pts, sc.out_dir + "/pareto.csv", sc.out_dir + "/pareto.png",
                 "ENOS " + sc.base.net + " (" + sc.base.mode + "), " + sc.base.dataset);
  return pts;
}

}  // namespace cimsim::enos::search
