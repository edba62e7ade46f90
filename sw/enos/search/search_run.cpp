// ENOS search run: data, network and optimizers, the schedule of epochs (pre-training, warm-up, search,
// fine-tuning) and run_search(). See docs/enos.md.
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/enos/graph.hpp"
#include "cimsim/enos/search/builtin_nets.hpp"

#include "search_run.hpp"

namespace cimsim::enos::search::detail {

namespace fs = std::filesystem;

DataT to_tensors(const data::ImageSet& s, const SearchNetImpl& net) {
  DataT d;
  d.x = quantize_images(s.pixels.data(), s.n, s.c, s.h, s.w, net.input_scale, net.input_mean, net.input_std);
  std::vector<int64_t> l(s.labels.begin(), s.labels.end());
  d.y = torch::tensor(l, torch::kInt64);
  return d;
}

/// Drops every gradient tensor of `opt`'s parameters (an optimizer skips a parameter without one).
void clear_grads(torch::optim::Optimizer& opt) {
  for (auto& g : opt.param_groups())
    for (auto& p : g.params()) p.mutable_grad() = Tensor();
}

SearchRun::SearchRun(const SearchConfig& cfg_in, const ProgressFn& progress_in)
    : cfg((validate(cfg_in), cfg_in)), progress(progress_in), hw(cfg), table(hw.table), arr(hw.array) {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  torch::set_num_threads(std::max(1, cfg.threads));
  t_start = now_s();
  fixed = cfg.mode == "fixed";
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
  for (const auto& c : cfg.candidates)
    if (c.mode == accel::Mode::Cim && cim_params_for(c.op, cfg.adc_bits).rows > arr.cim_rows)
      throw ConfigError("--arch " + cfg.arch_path + ": cim.rows " + std::to_string(arr.cim_rows) + " is smaller than the " +
                        std::to_string(cim_params_for(c.op, cfg.adc_bits).rows) + " rows the CIM candidate '" +
                        candidate_name(c) + "' uses; drop the CIM candidates (--candidates) or use a larger macro");
  if (!cfg.onnx_path.empty()) {
    if (!cfg.input_shape.empty() && cfg.input_shape.size() != 3)
      throw ConfigError("--input-shape takes C,H,W (3 numbers), got " + std::to_string(cfg.input_shape.size()));
    graph = import_onnx_graph(cfg.onnx_path, cfg.input_shape);
    const ModelTensor& in = graph.tensors.at(0);
    auto per_channel = [&](std::vector<double> v, const char* opt, bool positive) {
      if (v.size() == 1) v.assign(static_cast<size_t>(in.c), v[0]);
      if (static_cast<int>(v.size()) != in.c)
        throw ConfigError(std::string(opt) + ": " + std::to_string(v.size()) + " values for the " +
                          std::to_string(in.c) + " channels of input '" + in.name + "' of " + cfg.onnx_path);
      for (double x : v)
        if (!std::isfinite(x) || (positive && !(x > 0)))
          throw ConfigError(std::string(opt) + ": values must be finite" + (positive ? " and > 0" : ""));
      return v;
    };
    if (!cfg.input_mean.empty()) graph.input_mean = per_channel(cfg.input_mean, "--input-mean", false);
    if (!cfg.input_std.empty()) graph.input_std = per_channel(cfg.input_std, "--input-std", true);
    for (const auto& n : graph.notes) std::cerr << "cimsim: " << cfg.onnx_path << ": " << n << "\n";
  }
  load_data();
  build();
  resume();
}

void SearchRun::load_data() {
  std::error_code ec;
  if (cfg.dataset == "fashion-mnist" && !cfg.data_path.empty() && fs::is_regular_file(cfg.data_path, ec)) {
    // Data set files the user names: IDX image files with their labels beside them (or CIFAR binaries).
    if (cfg.test_path.empty())
      throw ConfigError("--data " + cfg.data_path + " is a file: name the test images with --test-data FILE");
    train = data::load_image_file(cfg.data_path);
    test = data::load_image_file(cfg.test_path);
    for (const data::ImageSet* s : {&train, &test})
      if (!s->labeled)
        throw ConfigError("data set file '" + s->name + "' has no labels (an IDX image file needs its labels file " +
                          "beside it: the name with images-idx3 replaced by labels-idx1)");
    train.classes = test.classes = std::max(train.classes, test.classes);
  } else if (cfg.dataset == "fashion-mnist") {
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
  wtrain = train;
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
}

void SearchRun::build() {
  torch::manual_seed(cfg.seed);
  if (cfg.onnx_path.empty()) {
    net = SearchNet(cfg.net, train.c, train.h, train.w, train.classes, cfg.candidates, cfg.adc_bits);
  } else {
    // The data must fit the network: image shape and at most as many classes as it has logits.
    const ModelTensor& in = graph.tensors.at(0);
    const std::string data_file = cfg.dataset == "fashion-mnist"
                                      ? (cfg.data_path.empty() ? data::fashion_mnist_dir() : cfg.data_path)
                                      : cfg.data_path;
    const std::string shape = std::to_string(in.c) + "x" + std::to_string(in.h) + "x" + std::to_string(in.w);
    for (const data::ImageSet* s : {&train, &test})
      if (s->c != in.c || s->h != in.h || s->w != in.w)
        throw ConfigError((s == &test && !cfg.test_path.empty() ? cfg.test_path : data_file) + ": " + s->name +
                          " images are " + std::to_string(s->c) + "x" + std::to_string(s->h) + "x" +
                          std::to_string(s->w) + " but the input '" + in.name + "' of " + cfg.onnx_path + " is " +
                          shape + " (C x H x W; --input-shape sets a dynamic input's shape)");
    const int64_t logits = graph.tensors.at(static_cast<size_t>(graph.output)).elems();
    if (train.classes > logits)
      throw ConfigError(data_file + ": the data set has " + std::to_string(train.classes) + " classes but " +
                        cfg.onnx_path + " has " + std::to_string(logits) + " logits");
    net = SearchNet(graph, cfg.candidates, cfg.adc_bits, cfg.onnx_path);
  }
  Dtr = to_tensors(wtrain, *net);
  Dte = to_tensors(test, *net);
  if (val.n > 0) Dval = to_tensors(val, *net);
  net->set_energies(arr, table);
  if (!cfg.assignment.empty()) net->assign(cfg.assignment, cfg.assignment_file);
  for (auto& L : net->layers) L->train_noise_lsb = cfg.train_noise_lsb;
  Eref = net->ref_energy();
  nl = static_cast<int>(net->layers.size());

  opt_w = std::make_unique<torch::optim::Adam>(net->weight_params(), torch::optim::AdamOptions(cfg.lr));
  opt_a = std::make_unique<torch::optim::Adam>(net->alpha_params(),
                                                torch::optim::AdamOptions(cfg.alpha_lr).betas({0.5, 0.999}));
  // Adder weights: SGD with AdderNet's adaptive per-layer rate (Adam would undo the rescaling). An optimizer needs
  // at least one parameter: a placeholder stands in when no layer offers the adder.
  std::vector<Tensor> adder_w = net->adder_params();
  has_adder = !adder_w.empty();
  if (!has_adder) adder_w.push_back(torch::zeros({1}, torch::requires_grad()));
  opt_d = std::make_unique<torch::optim::SGD>(adder_w, torch::optim::SGDOptions(cfg.adder_lr).momentum(0.9));

  write = !cfg.out_dir.empty();
  ckpt = write ? cfg.out_dir + "/checkpoint.pt" : "";
  discretized = fixed;
  P = fixed ? 0 : cfg.pretrain_epochs;
  W = fixed ? 0 : cfg.pretrain_epochs + cfg.warmup_epochs;
  total_epochs = cfg.pretrain_epochs + cfg.warmup_epochs + cfg.epochs + cfg.finetune_epochs;
  steps = std::max<int64_t>(1, Dtr.n() / cfg.batch);
  const int64_t search_steps_total = fixed ? 0 : steps * cfg.epochs;
  warmup_steps = static_cast<int64_t>(cfg.warmup_frac * static_cast<double>(search_steps_total));
  if (Dval.x.defined()) val_perm = data::permutation(static_cast<int>(Dval.n()), cfg.seed * 31 + 7);
  eval_perm = data::permutation(static_cast<int>(Dtr.n()), 0xe7a1);
  big.assign(static_cast<size_t>(nl), 0);
  by_energy.assign(static_cast<size_t>(nl), {});
  for (int l = 0; l < nl; ++l) {
    auto& L = net->layers[static_cast<size_t>(l)];
    auto& o = by_energy[static_cast<size_t>(l)];
    for (int k = 0; k < static_cast<int>(L->cands.size()); ++k) o.push_back(k);
    std::stable_sort(o.begin(), o.end(), [&](int a, int b) { return L->energy_pj[static_cast<size_t>(a)] > L->energy_pj[static_cast<size_t>(b)]; });
    big[static_cast<size_t>(l)] = o.front();
    for (int k = 0; k < static_cast<int>(L->cands.size()); ++k)
      if (L->cands[static_cast<size_t>(k)].op == accel::Op::MAC8 && L->cands[static_cast<size_t>(k)].mode == accel::Mode::Digital)
        big[static_cast<size_t>(l)] = k;
  }
  // An imported network's float weights: its MAC8 path starts as the float network on the first training images
  // (BatchNorms from their batch statistics, observers from its activation ranges; docs/enos.md).
  if (!cfg.onnx_path.empty() && graph.has_weights())
    net->calibrate_from_weights(Dtr.x.slice(0, 0, std::min<int64_t>(Dtr.n(), 256)), big);
}

void SearchRun::step_w() {
  opt_w->step();
  if (!has_adder) return;
  torch::NoGradGuard ng;
  for (auto& w : net->adder_params()) {
    if (!w.grad().defined()) continue;
    const double n = w.grad().norm().item<double>();
    if (n > 0) w.mutable_grad().mul_(cfg.adder_eta * std::sqrt(static_cast<double>(w.numel())) / n);
  }
  opt_d->step();
}

// Gradients are dropped, not zeroed, before each step (PyTorch's zero_grad(set_to_none=True)): Adam then skips
// the candidates the step did not use instead of moving them on stale momentum, and a supernet step no longer
// pays an optimizer update for each of its ~11 x 26 unused BatchNorms (bench_search_cost: the largest search
// overhead).
void SearchRun::zero_w() {
  clear_grads(*opt_w);
  clear_grads(*opt_d);
}

Tensor SearchRun::energy_term(const Tensor& E) const {
  if (cfg.budget_pj > 0) return cfg.lambda_budget * torch::relu(E / cfg.budget_pj - 1.0);
  return cfg.lambda * E / Eref;
}

void SearchRun::set_paths(const std::vector<int>& p) {
  for (int l = 0; l < nl; ++l) net->layers[static_cast<size_t>(l)]->path = p[static_cast<size_t>(l)];
}

// Binary gates: per layer two distinct candidates drawn from the posterior (a layer with one candidate: it twice).
void SearchRun::draw_pairs() {
  for (int l = 0; l < nl; ++l) {
    auto& L = net->layers[static_cast<size_t>(l)];
    const Tensor pr = probs_of(l);
    if (pr.size(0) < 2) {
      L->pair[0] = L->pair[1] = 0;
      continue;
    }
    const Tensor two = torch::multinomial(pr, 2, false);
    L->pair[0] = static_cast<int>(two[0].item<int64_t>());
    L->pair[1] = static_cast<int>(two[1].item<int64_t>());
  }
}

void SearchRun::train_epoch(int epoch) {
  const bool pretraining = !fixed && epoch < P;
  const bool warming = !fixed && epoch >= P && epoch < W;
  const bool searching = !fixed && epoch >= W && epoch < W + cfg.epochs;
  const bool sandwich = warming || (searching && cfg.mode == "knapsack");  // knapsack: search epochs = warm-up
  if (!searching && !warming && !pretraining && !discretized) {
    if (cfg.mode == "knapsack") {
      sensitivity_j = knapsack();
    } else {
      net->discretize();
    }
    discretized = true;
  }
  if (!fixed && epoch == P && epoch < W) {  // leaving pre-training: MF starts from the trained correlation filter
    torch::NoGradGuard ng;
    for (auto& L : net->layers)
      if (L->weight_mf.defined()) L->weight_mf.copy_(L->weight);
  }
  const std::string phase = fixed ? "train"
                                  : pretraining ? "pretrain"
                                                : warming ? "warmup" : (searching ? "search" : "finetune");
  torch::manual_seed(cfg.seed * 1000003ull + static_cast<uint64_t>(epoch));
  const std::vector<int> perm = data::permutation(static_cast<int>(Dtr.n()), cfg.seed * 7919ull + epoch);
  net->train();
  const double t0 = now_s(), c0 = cpu_s();
  double loss_sum = 0, energy_last = net->chosen_energy();
  int64_t correct = 0, seen = 0;
  SandwichAcc sw;
  const int64_t wsteps = std::max<int64_t>(1, steps * std::max(1, W - P + (cfg.mode == "knapsack" ? cfg.epochs : 0)));
  for (int64_t s = 0; s < steps; ++s) {
    Batch b;
    b.gstep = static_cast<int64_t>(epoch - W) * steps + s;
    b.alpha_on = searching && b.gstep >= warmup_steps && cfg.mode != "knapsack";
    std::vector<int64_t> ix(perm.begin() + s * cfg.batch, perm.begin() + (s + 1) * cfg.batch);
    const Tensor idx = torch::tensor(ix, torch::kInt64);
    b.x = Dtr.x.index_select(0, idx);
    b.y = Dtr.y.index_select(0, idx);
    b.s_out = net->layers.back()->out_obs->scale();
    zero_w();
    opt_a->zero_grad();
    StepOut o;
    if (pretraining) {
      o = step_path(b, big);  // the all-MAC8 path
    } else if (sandwich) {
      const int64_t ws = static_cast<int64_t>(epoch - P) * steps + s;
      o = step_sandwich(b, std::min(1.0, 2.0 * static_cast<double>(ws) / static_cast<double>(wsteps)), sw);
    } else if (!searching) {
      o = step_fixed(b);
    } else if (cfg.mode == "single") {
      o = step_single(b);
    } else if (cfg.mode == "bilevel") {
      o = step_bilevel(b);
    } else if (cfg.mode == "sequential") {
      o = step_sequential(b);
    } else {
      o = step_sampling(b);
    }
    if (!std::isnan(o.energy)) energy_last = o.energy;
    for (auto& L : net->layers) L->clamp_gamma();
    loss_sum += o.loss.item<double>();
    correct += o.logits.argmax(1).eq(b.y).sum().item<int64_t>();
    seen += b.y.size(0);
    if (!searching && !warming && !pretraining) energy_last = net->chosen_energy();
    if (progress)
      progress({phase, epoch + 1, total_epochs, s + 1, steps, loss_sum / static_cast<double>(s + 1),
                static_cast<double>(correct) / static_cast<double>(seen), energy_last});
  }
  const double dt = now_s() - t0, dc = cpu_s() - c0;
  if (pretraining) {
    pre_sec += dt, pre_cpu += dc, ++pre_eps;
  } else if (warming) {
    warmup_sec += dt, warmup_cpu += dc, ++warmup_eps;
  } else if (searching) {
    search_sec += dt, search_cpu += dc, ++search_eps;
  } else {
    tune_sec += dt, tune_cpu += dc, ++tune_eps;
  }
  double H = 0;
  nlohmann::json probs = nlohmann::json::array();
  for (auto& L : net->layers) {
    H += entropy_of(L->alpha);
    const Tensor p = torch::softmax(L->alpha.detach(), 0).to(torch::kFloat64).contiguous();
    probs.push_back(std::vector<double>(p.data_ptr<double>(), p.data_ptr<double>() + p.numel()));
  }
  const double sn = static_cast<double>(std::max<int64_t>(seen, 1));
  nlohmann::json h = {{"phase", phase},
                      {"epoch", epoch + 1},
                      {"loss", loss_sum / static_cast<double>(steps)},
                      {"train_acc", static_cast<double>(correct) / sn},
                      {"expected_energy_pj", energy_last},
                      {"posterior_entropy", H / nl},
                      {"sec", dt},
                      {"cpu_sec", dc}};
  if (!fixed) h["probs"] = probs;
  if (sandwich) {
    h["train_acc_paths"] = {{"mac8", static_cast<double>(correct) / sn},
                            {"cheapest_introduced", static_cast<double>(sw.small) / sn},
                            {"random", cfg.sandwich_paths > 0 ? static_cast<double>(sw.rand) / sn : 0.0}};
    if (epoch + 1 == W || (cfg.mode == "knapsack" && epoch + 1 == W + cfg.epochs)) supernet_j = supernet_report();
  }
  history.push_back(h);
  if (write) save_ckpt(epoch + 1);
}

SearchResult SearchRun::run() {
  for (int epoch = start_epoch; epoch < total_epochs; ++epoch) train_epoch(epoch);
  if (!discretized) {
    if (cfg.mode == "knapsack") sensitivity_j = knapsack();
    else net->discretize();
  }
  recalibrate_bn();
  return finish();
}

}  // namespace cimsim::enos::search::detail

namespace cimsim::enos::search {

SearchResult run_search(const SearchConfig& cfg, const ProgressFn& progress) {
  return detail::SearchRun(cfg, progress).run();
}

}  // namespace cimsim::enos::search
