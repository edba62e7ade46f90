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
#include <limits>
#include <memory>
#include <ctime>
#include <sstream>

#include "cimsim/accel/arch.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/data/datasets.hpp"
#include "cimsim/enos/search/builtin_nets.hpp"
#include "cimsim/enos/checkpoint_guard.hpp"
#include "cimsim/enos/search/torch_impl.hpp"
#include "cimsim/enos/graph.hpp"

namespace cimsim::enos::search {

using torch::Tensor;
namespace fs = std::filesystem;

namespace {

double cpu_s() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

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

DataT to_tensors(const data::ImageSet& s, const SearchNetImpl& net) {
  DataT d;
  d.x = quantize_images(s.pixels.data(), s.n, s.c, s.h, s.w, net.input_scale, net.input_mean, net.input_std);
  std::vector<int64_t> l(s.labels.begin(), s.labels.end());
  d.y = torch::tensor(l, torch::kInt64);
  return d;
}

void validate(const SearchConfig& c) {
  static const char* modes[] = {"single", "bilevel", "sequential", "sampling", "knapsack", "fixed"};
  bool ok = false;
  for (const char* m : modes) ok = ok || c.mode == m;
  if (!ok)
    throw ConfigError("unknown search mode '" + c.mode + "' (single, bilevel, sequential, sampling, knapsack, fixed)");
  if (c.onnx_path.empty() && (!c.input_shape.empty() || !c.input_mean.empty() || !c.input_std.empty()))
    throw ConfigError("--input-shape, --input-mean and --input-std describe an ONNX model's input: they need --onnx");
  if (c.onnx_path.empty() && c.net != "squeezenet" && c.net != "shufflenet")
    throw ConfigError("unknown network '" + c.net + "' (squeezenet, shufflenet)");
  if (c.dataset != "fashion-mnist" && c.dataset != "cifar10" && c.dataset != "cifar100")
    throw ConfigError("unknown dataset '" + c.dataset + "' (fashion-mnist, cifar10, cifar100)");
  if (c.epochs < 0 || c.finetune_epochs < 0 || c.warmup_epochs < 0 || c.pretrain_epochs < 0 ||
      c.pretrain_epochs + c.warmup_epochs + c.epochs + c.finetune_epochs < 1)
    throw ConfigError("epochs must be >= 0 with at least one epoch in total");
  if (c.sandwich_paths < 0 || c.alpha_samples < 2 || c.alpha_every < 1)
    throw ConfigError("--sandwich-paths must be >= 0, --alpha-samples >= 2 and --alpha-every >= 1");
  if (!(c.adder_lr > 0) || !(c.adder_eta > 0) || !(c.lr > 0) || !(c.alpha_lr >= 0))
    throw ConfigError("learning rates must be > 0 (alpha: >= 0)");
  if (c.mode == "knapsack" && !(c.budget_pj > 0) && !(c.target_ratio > 0))
    throw ConfigError("knapsack mode needs an energy budget: --budget-pj or --target-ratio");
  if (c.target_ratio < 0 || c.sensitivity_images < 1) throw ConfigError("--target-ratio must be >= 0");
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
          {"pretrain_epochs", c.pretrain_epochs},
          {"warmup_epochs", c.warmup_epochs},
          {"sandwich_paths", c.sandwich_paths},
          {"alpha_samples", c.alpha_samples},
          {"alpha_every", c.alpha_every},
          {"adder_lr", c.adder_lr},
          {"adder_eta", c.adder_eta},
          {"target_ratio", c.target_ratio},
          {"sensitivity_images", c.sensitivity_images},
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
  // Only when given: the reports and exports of earlier searches (and of default runs) keep their bytes.
  if (!c.onnx_path.empty()) {
    j["onnx"] = c.onnx_path;
    j.erase("net");
    if (!c.input_shape.empty()) j["input_shape"] = c.input_shape;
    if (!c.input_mean.empty()) j["input_mean"] = c.input_mean;
    if (!c.input_std.empty()) j["input_std"] = c.input_std;
  }
  if (!c.arch_path.empty()) j["arch"] = c.arch_path;
  if (!c.tech_path.empty()) j["tech"] = c.tech_path;
  if (!c.assignment.empty()) {  // only then: earlier reports and checkpoints keep their keys
    nlohmann::json a = nlohmann::json::array();
    for (const auto& e : c.assignment) a.push_back({{"name", e.layer}, {"candidate", candidate_name(e.choice)}});
    j["assignment"] = a;
  }
  return j;
}

/// The fields that must agree for a checkpoint to be resumed (the hardware is compared by fingerprint, see
/// Hardware::key: a copy of an architecture file under another name resumes).
nlohmann::json resume_key(const SearchConfig& c) {
  nlohmann::json j = config_json(c);
  j.erase("tag");
  j.erase("arch");
  j.erase("tech");
  return j;
}

/// 64-bit FNV-1a of every hardware parameter of an ArrayConfig (the architecture's fingerprint).
uint64_t array_fingerprint(const accel::ArrayConfig& a) {
  std::ostringstream o;
  o.precision(17);
  o << a.rows << ' ' << a.cols << ' ' << a.cim_rows << ' ' << a.cim_cols << ' ' << a.weight_buffer_bytes << ' '
    << a.act_buffer_bytes << ' ' << a.dma_bytes_per_cycle << ' ' << a.adc_cycles_per_bit << ' ' << a.vector_lanes
    << ' ' << (a.double_buffer ? 1 : 0) << ' ' << a.clock_hz;
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : o.str()) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return h;
}

/// The hardware a search prices its energies on: `--arch` (the loader of `cimsim run --arch`) and `--tech`
/// (else the architecture's `tech:`, else the default table). Loaded before any data.
struct Hardware {
  accel::ArrayConfig array;        ///< ArrayConfig{} without --arch
  std::string arch_name = "built-in defaults", arch_origin;
  EnergyTable table;
  explicit Hardware(const SearchConfig& c) : table(load(c, array, arch_name, arch_origin)) {}
  uint64_t arch_fingerprint() const { return array_fingerprint(array); }
  /// Recorded in checkpoints, reports and export meta.
  nlohmann::json key() const {
    return {{"arch", arch_origin.empty() ? arch_name : arch_origin},
            {"arch_name", arch_name},
            {"arch_fingerprint", arch_fingerprint()},
            {"tech", table.origin()},
            {"tech_fingerprint", table.fingerprint()}};
  }

 private:
  static EnergyTable load(const SearchConfig& c, accel::ArrayConfig& a, std::string& name, std::string& origin) {
    std::string tech = c.tech_path;
    if (!c.arch_path.empty()) {
      const accel::Architecture ar = accel::load_architecture(c.arch_path);
      a = ar.array;
      name = ar.name;
      origin = c.arch_path;
      if (tech.empty()) tech = ar.tech_path;
    }
    return tech.empty() ? EnergyTable::load_default() : EnergyTable::load(tech);
  }
};

/// Drops every gradient tensor of `opt`'s parameters (an optimizer skips a parameter without one).
void clear_grads(torch::optim::Optimizer& opt) {
  for (auto& g : opt.param_groups())
    for (auto& p : g.params()) p.mutable_grad() = Tensor();
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
          {"operator_energy_pj", operator_energy_pj},
          {"ref_operator_energy_pj", ref_operator_energy_pj},
          {"operator_energy_ratio", ref_operator_energy_pj > 0 ? operator_energy_pj / ref_operator_energy_pj : 0.0},
          {"expected_energy_pj", expected_energy_pj},
          {"posterior_entropy", posterior_entropy},
          {"search_sec_per_epoch", search_sec_per_epoch},
          {"warmup_sec_per_epoch", warmup_sec_per_epoch},
          {"pretrain_sec_per_epoch", pretrain_sec_per_epoch},
          {"search_cpu_sec_per_epoch", search_cpu_sec_per_epoch},
          {"warmup_cpu_sec_per_epoch", warmup_cpu_sec_per_epoch},
          {"pretrain_cpu_sec_per_epoch", pretrain_cpu_sec_per_epoch},
          {"finetune_cpu_sec_per_epoch", finetune_cpu_sec_per_epoch},
          {"supernet", supernet},
          {"sensitivity", sensitivity},
          {"finetune_sec_per_epoch", finetune_sec_per_epoch},
          {"total_sec", total_sec},
          {"peak_rss_bytes", peak_rss_bytes},
          {"history", history},
          {"hardware", hardware}};
}

namespace {

/// One search (or fixed-mode training) run: the data, the network, the optimizers and the state a checkpoint
/// holds, with one method per phase and per search mode. run_search() is `SearchRun(cfg).run()`.
class SearchRun {
 public:
  SearchRun(const SearchConfig& cfg_in, const ProgressFn& progress);
  SearchResult run();

 private:
  /// What one training step produced: the logits of the batch (for the accuracy), the loss and, for a search
  /// step, the expected energy.
  struct StepOut {
    Tensor logits, loss;
    double energy = std::numeric_limits<double>::quiet_NaN();
  };
  struct Batch {
    Tensor x, y;
    double s_out = 1.0;  ///< the logits' scale at the start of the step
    int64_t gstep = 0;   ///< step within the search
    bool alpha_on = false;
  };
  /// Sandwich-rule counters of one epoch (training accuracy of the cheapest and the random path).
  struct SandwichAcc {
    int64_t small = 0, rand = 0;
  };

  void load_data();
  void build();
  void resume();
  void save_ckpt(int epochs_done);
  void step_w();
  void zero_w();
  Tensor energy_term(const Tensor& E) const;
  void set_paths(const std::vector<int>& p);
  Tensor probs_of(int l) const { return torch::softmax(net->layers[static_cast<size_t>(l)]->alpha.detach(), 0); }
  void draw_pairs();
  std::pair<double, double> eval_path(const std::vector<int>& p, int64_t n);
  nlohmann::json supernet_report();
  nlohmann::json knapsack();
  void train_epoch(int epoch);
  // one weight step of each phase / mode
  StepOut step_path(const Batch& b, const std::vector<int>& p);  // pre-training (the MAC8 path)
  StepOut step_sandwich(const Batch& b, double f, SandwichAcc& acc);
  StepOut step_fixed(const Batch& b);
  StepOut step_single(const Batch& b);
  StepOut step_bilevel(const Batch& b);
  StepOut step_sequential(const Batch& b);
  StepOut step_sampling(const Batch& b);
  void recalibrate_bn();
  SearchResult finish();

  SearchConfig cfg;
  ProgressFn progress;
  double t_start = 0;
  bool fixed = false, write = false;
  std::string ckpt;
  data::ImageSet train, test, wtrain, val;
  DataT Dtr, Dte, Dval;
  SearchNet net{nullptr};
  ModelGraph graph;  ///< --onnx: the imported network
  Hardware hw;
  const EnergyTable& table;
  const accel::ArrayConfig& arr;
  double Eref = 0;
  int nl = 0;
  std::unique_ptr<torch::optim::Adam> opt_w, opt_a;
  std::unique_ptr<torch::optim::SGD> opt_d;
  bool has_adder = false;
  // ---- checkpointed state (see resume())
  int64_t val_pos = 0;  ///< bilevel: position in the validation permutation (carried across epochs)
  int start_epoch = 0;
  bool discretized = false;
  std::vector<nlohmann::json> history;
  nlohmann::json supernet_j = nlohmann::json::object();     ///< per-path accuracies after the warm-up
  nlohmann::json sensitivity_j = nlohmann::json::object();  ///< knapsack: the measured drops
  // ---- schedule. Epochs: [0, P) MAC8 pre-training, [P, W) supernet warm-up, [W, W + epochs) search, then
  // fine-tuning of the discretized network (fixed mode: every epoch trains the one assignment).
  int P = 0, W = 0, total_epochs = 0;
  int64_t steps = 1, warmup_steps = 0;
  std::vector<int> val_perm, eval_perm;
  /// Per layer: the MAC8 path (the supernet's largest; the most expensive candidate if MAC8 is not offered) and
  /// the candidates ordered by energy, most expensive first (the order of progressive introduction).
  std::vector<int> big;
  std::vector<std::vector<int>> by_energy;
  // ---- cost per phase
  double search_sec = 0, tune_sec = 0, warmup_sec = 0, pre_sec = 0;
  double search_cpu = 0, tune_cpu = 0, warmup_cpu = 0, pre_cpu = 0;
  int search_eps = 0, tune_eps = 0, warmup_eps = 0, pre_eps = 0;
};

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

// ---- checkpoint / resume. A checkpoint holds everything the next epoch depends on, so that a run killed at
// any point and resumed writes the same bytes as an uninterrupted one: weights, buffers, both optimizers,
// observers, chosen candidates, the bilevel validation cursor and which parameters hold a gradient tensor.
// The last matters for the alphas: zero_grad() zeroes existing gradients but leaves absent ones absent, and
// Adam steps a parameter with a zero gradient (its momentum still moves it) but skips one without, so a plain
// reload (no gradients) diverged from the uninterrupted run. (Weights drop their gradients before every step.)
void SearchRun::resume() {
  if (write) {
    std::error_code ec;
    fs::create_directories(cfg.out_dir, ec);
    if (ec) throw IoError("cannot create --out-dir " + cfg.out_dir + ": " + ec.message());
  }
  if (!(write && cfg.resume && fs::exists(ckpt))) return;
  try {
    torch::serialize::InputArchive ar;
    // A regular file within the checkpoint limit whose zip records match their CRC-32 (checkpoint_guard.cpp).
    std::istringstream ckpt_bytes(read_checkpoint(ckpt));
    try {
      ar.load_from(ckpt_bytes);
    } catch (const std::exception& e) {  // corrupt input: exit 2, nothing written (first line: no torch backtrace)
      const std::string what = e.what();
      throw ConfigError("checkpoint '" + ckpt + "' is corrupt or not a checkpoint (" + what.substr(0, what.find('\n')) +
                        "); remove it or use another --out-dir");
    }
    c10::IValue key, hist;
    ar.read("resume_key", key);
    nlohmann::json old = nlohmann::json::parse(key.toStringRef());
    // The hardware first, by name: a search resumed on other hardware would mix two energy models.
    const nlohmann::json now_hw = hw.key();
    const nlohmann::json old_hw =  // a checkpoint of an earlier cimsim: the default hardware
        old.contains("hardware") ? old["hardware"]
                                 : nlohmann::json{{"arch", "built-in defaults"},
                                                  {"arch_fingerprint", array_fingerprint(accel::ArrayConfig{})},
                                                  {"tech", "the default table"},
                                                  {"tech_fingerprint", EnergyTable::load_default().fingerprint()}};
    auto hw_field = [&](const char* k) { return old_hw.contains(k) ? old_hw[k] : nlohmann::json("built-in defaults"); };
    if (old_hw.value("arch_fingerprint", nlohmann::json()) != now_hw["arch_fingerprint"])
      throw ConfigError("checkpoint '" + ckpt + "' was made for another architecture (--arch): " +
                        hw_field("arch").dump() + " (fingerprint " + hw_field("arch_fingerprint").dump() +
                        "), this run uses " + now_hw["arch"].dump() + " (fingerprint " +
                        now_hw["arch_fingerprint"].dump() + "); use the same --arch or another --out-dir");
    if (old_hw.value("tech_fingerprint", nlohmann::json()) != now_hw["tech_fingerprint"])
      throw ConfigError("checkpoint '" + ckpt + "' was made for another energy table (--tech): " +
                        hw_field("tech").dump() + " (fingerprint " + hw_field("tech_fingerprint").dump() +
                        "), this run uses " + now_hw["tech"].dump() + " (fingerprint " +
                        now_hw["tech_fingerprint"].dump() + "); use the same --tech or another --out-dir");
    old.erase("hardware");
    if (const std::string d = config_difference(old, resume_key(cfg)); !d.empty())
      throw ConfigError("checkpoint '" + ckpt + "' was written by a different configuration: " + d +
                        "; resume with the checkpoint's settings, or use --force or another --out-dir");
    net->load(ar);
    torch::serialize::InputArchive aw, aa, ad;
    ar.read("opt_w", aw);
    ar.read("opt_a", aa);
    ar.read("opt_d", ad);
    opt_w->load(aw);
    opt_a->load(aa);
    opt_d->load(ad);
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
    restore_grad_mask(*opt_w, gw);
    restore_grad_mask(*opt_a, ga);
    Tensor gd;
    ar.read("grad_defined_d", gd);
    restore_grad_mask(*opt_d, gd);
    ar.read("history", hist);
    for (auto& h : nlohmann::json::parse(hist.toStringRef())) history.push_back(h);
    // The uninterrupted run discretizes at the start of the first epoch after the search, i.e. after the
    // checkpoint of the last search epoch was written: a run resumed from that checkpoint must still do it.
    discretized = fixed || start_epoch > cfg.pretrain_epochs + cfg.warmup_epochs + cfg.epochs;
    c10::IValue sj;
    ar.read("supernet", sj);
    supernet_j = nlohmann::json::parse(sj.toStringRef());
    ar.read("sensitivity", sj);
    sensitivity_j = nlohmann::json::parse(sj.toStringRef());
  } catch (const c10::Error& e) {
    throw ConfigError("checkpoint '" + ckpt + "' cannot be resumed (damaged, or written by an older cimsim): " +
                      e.what_without_backtrace());
  }
}

void SearchRun::save_ckpt(int epochs_done) {
  torch::serialize::OutputArchive ar;
  net->save(ar);
  torch::serialize::OutputArchive aw, aa, ad;
  opt_w->save(aw);
  opt_a->save(aa);
  opt_d->save(ad);
  ar.write("opt_w", aw);
  ar.write("opt_a", aa);
  ar.write("opt_d", ad);
  ar.write("observers", torch::tensor(net->observer_values(), torch::kFloat64));
  std::vector<int64_t> ch;
  for (auto& L : net->layers) ch.push_back(L->chosen);
  ar.write("chosen", torch::tensor(ch, torch::kInt64));
  ar.write("epochs_done", torch::tensor(static_cast<int64_t>(epochs_done)));
  ar.write("val_pos", torch::tensor(val_pos));
  ar.write("grad_defined_w", grad_mask(*opt_w));
  ar.write("grad_defined_a", grad_mask(*opt_a));
  ar.write("grad_defined_d", grad_mask(*opt_d));
  ar.write("supernet", c10::IValue(supernet_j.dump()));
  ar.write("sensitivity", c10::IValue(sensitivity_j.dump()));
  nlohmann::json key = resume_key(cfg);
  key["hardware"] = hw.key();
  ar.write("resume_key", c10::IValue(key.dump()));
  ar.write("history", c10::IValue(nlohmann::json(history).dump()));
  const std::string tmp = ckpt + ".tmp";
  ar.save_to(tmp);
  std::error_code ec;
  fs::rename(tmp, ckpt, ec);
  if (ec) throw IoError("cannot write checkpoint '" + ckpt + "': " + ec.message());
  atomic_write_json(cfg.out_dir + "/checkpoint.json",
                    {{"epochs_done", epochs_done},
                     {"epochs_total", cfg.pretrain_epochs + cfg.warmup_epochs + cfg.epochs + cfg.finetune_epochs},
                     {"discretized", discretized}, {"config", config_json(cfg)}, {"history", history}});
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

// Evaluates the network with every layer on `p` (BatchNorm on batch statistics, running statistics and
// observers left as they are) over the first `n` images of a fixed permutation of the training set.
std::pair<double, double> SearchRun::eval_path(const std::vector<int>& p, int64_t n) {
  torch::NoGradGuard ng;
  const std::vector<double> obs = net->observer_values();
  std::vector<c10::optional<double>> mom;
  for (auto& L : net->layers)
    for (auto& bn : L->bns) {
      mom.push_back(bn->options.momentum());
      bn->options.momentum(0.0);
    }
  net->train();
  set_paths(p);
  n = std::min<int64_t>(n, Dtr.n());
  int64_t correct = 0;
  double loss = 0;
  for (int64_t b = 0; b < n; b += 500) {
    const int64_t e = std::min<int64_t>(n, b + 500);
    if (e - b < 2) break;
    std::vector<int64_t> ix(eval_perm.begin() + b, eval_perm.begin() + e);
    const Tensor idx = torch::tensor(ix, torch::kInt64);
    const Tensor yb = Dtr.y.index_select(0, idx);
    const Tensor lg = net->forward(Dtr.x.index_select(0, idx), Combine::Path) * net->layers.back()->out_obs->scale();
    correct += lg.argmax(1).eq(yb).sum().item<int64_t>();
    loss += torch::cross_entropy_loss(lg, yb, {}, at::Reduction::Sum).item<double>();
  }
  size_t i = 0;
  for (auto& L : net->layers)
    for (auto& bn : L->bns) bn->options.momentum(mom[i++]);
  net->set_observer_values(obs);
  return {static_cast<double>(correct) / static_cast<double>(n), loss / static_cast<double>(n)};
}

// The per-candidate uni paths of the trained supernet (a layer without the candidate keeps its MAC8 path).
nlohmann::json SearchRun::supernet_report() {
  nlohmann::json j = nlohmann::json::object();
  for (const Candidate& c : cfg.candidates) {
    std::vector<int> p = big;
    for (int l = 0; l < nl; ++l) {
      const auto& cs = net->layers[static_cast<size_t>(l)]->cands;
      for (size_t k = 0; k < cs.size(); ++k)
        if (cs[k].op == c.op && cs[k].mode == c.mode) p[static_cast<size_t>(l)] = static_cast<int>(k);
    }
    j[candidate_name(c)] = eval_path(p, 2000).first;
  }
  return j;
}

// Knapsack control: per-layer sensitivities on the supernet (only layer l leaves its MAC8 path), then the
// assignment of least total loss increase whose energy fits the budget (DP over 4000 energy units; every
// cost rounded up, so the result is within the budget).
nlohmann::json SearchRun::knapsack() {
  const int64_t n = cfg.sensitivity_images;
  const auto [acc0, loss0] = eval_path(big, n);
  std::vector<std::vector<double>> dl(static_cast<size_t>(nl));
  nlohmann::json lj = nlohmann::json::array();
  for (int l = 0; l < nl; ++l) {
    auto& L = net->layers[static_cast<size_t>(l)];
    nlohmann::json cj = nlohmann::json::array();
    for (int k = 0; k < static_cast<int>(L->cands.size()); ++k) {
      std::pair<double, double> m{acc0, loss0};
      if (k != big[static_cast<size_t>(l)]) {
        std::vector<int> p = big;
        p[static_cast<size_t>(l)] = k;
        m = eval_path(p, n);
      }
      dl[static_cast<size_t>(l)].push_back(m.second - loss0);
      cj.push_back({{"candidate", candidate_name(L->cands[static_cast<size_t>(k)])}, {"acc", m.first}, {"loss", m.second},
                    {"energy_pj", L->energy_pj[static_cast<size_t>(k)]}});
    }
    lj.push_back({{"name", L->name}, {"candidates", cj}});
  }
  const double budget = cfg.budget_pj > 0 ? cfg.budget_pj : cfg.target_ratio * Eref;
  const double B = budget - net->vector_energy_pj();
  constexpr int U = 4000;
  const double INF = std::numeric_limits<double>::infinity();
  bool feasible = B > 0;
  if (feasible) {
    const double unit = B / U;
    // cost of every (layer, candidate) in units, rounded up; the DP and the backtrack use the same table
    std::vector<std::vector<int>> cost(static_cast<size_t>(nl));
    for (int l = 0; l < nl; ++l)
      for (double e : net->layers[static_cast<size_t>(l)]->energy_pj) {
        const double c = std::ceil(e / unit - 1e-9);
        cost[static_cast<size_t>(l)].push_back(c > U ? U + 1 : static_cast<int>(c));
      }
    std::vector<double> dp(U + 1, INF), nd(U + 1);
    dp[0] = 0;
    std::vector<std::vector<int>> pick(static_cast<size_t>(nl), std::vector<int>(U + 1, -1));
    for (int l = 0; l < nl; ++l) {
      std::fill(nd.begin(), nd.end(), INF);
      const auto& cl = cost[static_cast<size_t>(l)];
      const auto& dll = dl[static_cast<size_t>(l)];
      for (size_t k = 0; k < cl.size(); ++k) {
        const int ci = cl[k];
        if (ci > U) continue;
        for (int u = 0; u + ci <= U; ++u)
          if (dp[static_cast<size_t>(u)] < INF && dp[static_cast<size_t>(u)] + dll[k] < nd[static_cast<size_t>(u + ci)]) {
            nd[static_cast<size_t>(u + ci)] = dp[static_cast<size_t>(u)] + dll[k];
            pick[static_cast<size_t>(l)][static_cast<size_t>(u + ci)] = static_cast<int>(k);
          }
      }
      dp.swap(nd);
    }
    int best = -1;
    for (int u = 0; u <= U; ++u)
      if (dp[static_cast<size_t>(u)] < INF && (best < 0 || dp[static_cast<size_t>(u)] < dp[static_cast<size_t>(best)])) best = u;
    feasible = best >= 0;
    for (int l = nl - 1; feasible && l >= 0; --l) {  // backtrack
      const int k = pick[static_cast<size_t>(l)][static_cast<size_t>(best)];
      net->layers[static_cast<size_t>(l)]->chosen = k;
      best -= cost[static_cast<size_t>(l)][static_cast<size_t>(k)];
    }
  }
  if (!feasible)  // below the cheapest network: every layer on its cheapest candidate
    for (int l = 0; l < nl; ++l) net->layers[static_cast<size_t>(l)]->chosen = by_energy[static_cast<size_t>(l)].back();
  return nlohmann::json{{"base_acc", acc0}, {"base_loss", loss0}, {"budget_pj", budget}, {"feasible", feasible},
                        {"images", n}, {"layers", lj}};
}

SearchRun::StepOut SearchRun::step_path(const Batch& b, const std::vector<int>& p) {
  StepOut o;
  set_paths(p);
  o.logits = net->forward(b.x, Combine::Path) * b.s_out;
  o.loss = torch::cross_entropy_loss(o.logits, b.y);
  o.loss.backward();
  step_w();
  return o;
}

// Sandwich rule: the MAC8 path on the labels, then the cheapest and `sandwich_paths` random paths among the
// candidates introduced so far (`f`: warm-up progress), each distilled from the MAC8 path's predictions
// (soft-target cross entropy); one step.
SearchRun::StepOut SearchRun::step_sandwich(const Batch& b, double f, SandwichAcc& acc) {
  std::vector<int> small(static_cast<size_t>(nl)), rnd(static_cast<size_t>(nl));
  std::vector<int64_t> allowed(static_cast<size_t>(nl));
  for (int l = 0; l < nl; ++l) {
    const auto& o = by_energy[static_cast<size_t>(l)];
    const int64_t K = static_cast<int64_t>(o.size());
    allowed[static_cast<size_t>(l)] = 1 + static_cast<int64_t>(std::ceil(static_cast<double>(K - 1) * f));
    small[static_cast<size_t>(l)] = o[static_cast<size_t>(allowed[static_cast<size_t>(l)] - 1)];
  }
  auto distill = [](const Tensor& logits, const Tensor& soft) {
    return -(soft * torch::log_softmax(logits, 1)).sum(1).mean();
  };
  StepOut o;
  set_paths(big);
  o.logits = net->forward(b.x, Combine::Path) * b.s_out;
  o.loss = torch::cross_entropy_loss(o.logits, b.y);
  o.loss.backward();
  const Tensor soft = torch::softmax(o.logits.detach(), 1);
  set_paths(small);
  const Tensor ls = net->forward(b.x, Combine::Path) * net->layers.back()->out_obs->scale();
  distill(ls, soft).backward();
  acc.small += ls.argmax(1).eq(b.y).sum().item<int64_t>();
  for (int r = 0; r < cfg.sandwich_paths; ++r) {
    for (int l = 0; l < nl; ++l) {
      const int64_t j = torch::randint(allowed[static_cast<size_t>(l)], {1}).item<int64_t>();
      rnd[static_cast<size_t>(l)] = by_energy[static_cast<size_t>(l)][static_cast<size_t>(j)];
    }
    set_paths(rnd);
    const Tensor lr = net->forward(b.x, Combine::Path) * net->layers.back()->out_obs->scale();
    distill(lr, soft).backward();
    if (r == 0) acc.rand += lr.argmax(1).eq(b.y).sum().item<int64_t>();
  }
  step_w();
  return o;
}

SearchRun::StepOut SearchRun::step_fixed(const Batch& b) {
  StepOut o;
  o.logits = net->forward(b.x, Combine::Fixed) * b.s_out;
  o.loss = torch::cross_entropy_loss(o.logits, b.y);
  o.loss.backward();
  step_w();
  return o;
}

// Binary gates (docs/enos.md): per layer two candidates drawn from the posterior, one active; one forward and
// backward trains the active path and moves alpha (the energy term uses the full posterior).
SearchRun::StepOut SearchRun::step_single(const Batch& b) {
  StepOut o;
  draw_pairs();
  o.logits = net->forward(b.x, Combine::TwoPath) * b.s_out;
  const Tensor E = net->expected_energy();
  o.loss = torch::cross_entropy_loss(o.logits, b.y) + energy_term(E);
  o.loss.backward();
  step_w();
  if (b.alpha_on) opt_a->step();
  o.energy = E.item<double>();
  return o;
}

// Weights: one path drawn from the posterior on a training batch. Alpha (every `alpha_every` steps): binary
// gates on a validation batch with the weights frozen (no weight gradients computed).
SearchRun::StepOut SearchRun::step_bilevel(const Batch& b) {
  std::vector<int> p(static_cast<size_t>(nl));
  for (int l = 0; l < nl; ++l) p[static_cast<size_t>(l)] = static_cast<int>(torch::multinomial(probs_of(l), 1).item<int64_t>());
  StepOut o = step_path(b, p);
  if (b.alpha_on && b.gstep % cfg.alpha_every == 0) {
    std::vector<int64_t> vix;
    for (int i = 0; i < cfg.batch; ++i)
      vix.push_back(val_perm[static_cast<size_t>(val_pos++ % static_cast<int64_t>(val_perm.size()))]);
    const Tensor vi = torch::tensor(vix, torch::kInt64);
    draw_pairs();
    opt_a->zero_grad();
    const Tensor vl = net->forward(Dval.x.index_select(0, vi), Combine::TwoPath) * b.s_out;
    const Tensor E = net->expected_energy();
    const Tensor la = torch::cross_entropy_loss(vl, Dval.y.index_select(0, vi)) + energy_term(E);
    // gradients of the alphas only: autograd prunes the weight-gradient work (no weight is touched)
    const std::vector<Tensor> alphas = net->alpha_params();
    const auto ga = torch::autograd::grad({la}, alphas, {}, false, false, /*allow_unused=*/true);
    for (size_t i = 0; i < alphas.size(); ++i)
      if (ga[i].defined()) alphas[i].mutable_grad() = ga[i];
    opt_a->step();
    o.energy = E.item<double>();
  }
  return o;
}

// Layer l = gstep mod L on binary gates over all its candidates, every other layer on its argmax; only alpha_l
// moves, then layer l's choice is updated.
SearchRun::StepOut SearchRun::step_sequential(const Batch& b) {
  StepOut o;
  const int l = static_cast<int>(b.gstep % nl);
  o.logits = net->forward(b.x, Combine::Fixed, 1.0, l) * b.s_out;
  const Tensor E = net->expected_energy(l);
  o.loss = torch::cross_entropy_loss(o.logits, b.y) + energy_term(E);
  o.loss.backward();
  step_w();
  if (b.alpha_on) {
    for (int k = 0; k < nl; ++k)
      if (k != l) net->layers[static_cast<size_t>(k)]->alpha.mutable_grad() = Tensor();
    opt_a->step();
    auto& L = net->layers[static_cast<size_t>(l)];
    L->chosen = static_cast<int>(L->alpha.argmax().item<int64_t>());
  }
  o.energy = E.item<double>();
  return o;
}

// REINFORCE with a leave-one-out baseline over `alpha_samples` paths. The batch is split into M slices, each
// through its own path drawn from the posterior: every slice trains its path's weights (together one batch's
// forward and backward, the cost of one path) and gives the reward R_m (its mean cross entropy) for the
// score-function estimate.
SearchRun::StepOut SearchRun::step_sampling(const Batch& b) {
  const int M = static_cast<int>(std::min<int64_t>(cfg.alpha_samples, b.y.size(0) / 2));
  std::vector<std::vector<int>> paths(static_cast<size_t>(M), std::vector<int>(static_cast<size_t>(nl)));
  for (int l = 0; l < nl; ++l) {
    const Tensor draw = torch::multinomial(probs_of(l), M, true);
    for (int m = 0; m < M; ++m) paths[static_cast<size_t>(m)][static_cast<size_t>(l)] = static_cast<int>(draw[m].item<int64_t>());
  }
  std::vector<double> R(static_cast<size_t>(M));
  const int64_t nb = b.y.size(0);
  std::vector<Tensor> parts;
  Tensor lsum = torch::zeros({});
  for (int m = 0; m < M; ++m) {
    const int64_t b0 = nb * m / M, b1 = nb * (m + 1) / M;
    set_paths(paths[static_cast<size_t>(m)]);
    const Tensor lg = net->forward(b.x.slice(0, b0, b1), Combine::Path) * net->layers.back()->out_obs->scale();
    const Tensor lm = torch::cross_entropy_loss(lg, b.y.slice(0, b0, b1));
    (lm * (static_cast<double>(b1 - b0) / static_cast<double>(nb))).backward();
    R[static_cast<size_t>(m)] = lm.item<double>();
    lsum = lsum + lm.detach() * (static_cast<double>(b1 - b0) / static_cast<double>(nb));
    parts.push_back(lg.detach());
  }
  StepOut o;
  o.logits = torch::cat(parts, 0);
  o.loss = lsum;
  step_w();
  const Tensor E = net->expected_energy();
  if (b.alpha_on) {
    Tensor kl = torch::zeros({});
    for (auto& L : net->layers) {
      const Tensor p = torch::softmax(L->alpha, 0);
      kl = kl + (p * torch::log(p.clamp_min(1e-12))).sum() + std::log(static_cast<double>(p.size(0)));
    }
    (energy_term(E) + cfg.kl_weight * kl).backward();
    double sumR = 0;
    for (double v : R) sumR += v;
    for (int l = 0; l < nl; ++l) {
      auto& L = net->layers[static_cast<size_t>(l)];
      const Tensor pr = probs_of(l);
      Tensor g = torch::zeros_like(pr);
      for (int m = 0; m < M; ++m) {
        const double adv = M > 1 ? R[static_cast<size_t>(m)] - (sumR - R[static_cast<size_t>(m)]) / (M - 1) : 0.0;
        Tensor onehot = torch::zeros_like(pr);
        onehot[paths[static_cast<size_t>(m)][static_cast<size_t>(l)]] = 1.0;
        g = g + adv / M * (onehot - pr);
      }
      L->alpha.mutable_grad() = L->alpha.grad().defined() ? L->alpha.grad() + g : g;
    }
    opt_a->step();
  }
  o.energy = E.item<double>();
  return o;
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

// BatchNorm recalibration of the chosen candidates. The running statistics are an EMA (momentum 0.1) of batch
// statistics taken while the weights moved; for the adder (-sum|x - w| carries a per-channel offset -sum|w| that
// shifts with every weight step) they lagged so far behind that the eval-mode network was at chance while
// training accuracy was 70 %. Re-estimate them with the final weights: cumulative average over up to
// `bn_recal_batches` training batches (fixed order), no gradient, observers restored afterwards.
void SearchRun::recalibrate_bn() {
  if (cfg.bn_recal_batches <= 0) return;
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

SearchResult SearchRun::run() {
  for (int epoch = start_epoch; epoch < total_epochs; ++epoch) train_epoch(epoch);
  if (!discretized) {
    if (cfg.mode == "knapsack") sensitivity_j = knapsack();
    else net->discretize();
  }
  recalibrate_bn();
  return finish();
}

}  // namespace

SearchResult run_search(const SearchConfig& cfg, const ProgressFn& progress) {
  return SearchRun(cfg, progress).run();
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
                 "ENOS " + (sc.base.onnx_path.empty() ? sc.base.net : sc.base.onnx_path) + " (" + sc.base.mode + "), " + sc.base.dataset +
                     (sc.base.arch_path.empty() ? std::string() : ", arch " + sc.base.arch_path));
  return pts;
}

}  // namespace cimsim::enos::search
