// ENOS search, internal: the SearchRun class (one search or fixed-mode training run) shared by the files
// that implement its concerns: search_run.cpp (data, network, schedule, epochs), checkpoint.cpp, modes.cpp (one
// weight step per phase and search mode), knapsack.cpp (path evaluation, supernet report, knapsack control),
// bn_recal.cpp (BatchNorm re-estimation), finish.cpp (evaluation, export, report). See docs/enos.md.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cimsim/data/datasets.hpp"
#include "cimsim/enos/search/torch_impl.hpp"
#include "search_config.hpp"

namespace cimsim::enos::search::detail {

using torch::Tensor;

struct DataT {
  Tensor x, y;
  int64_t n() const { return x.size(0); }
};

DataT to_tensors(const data::ImageSet& s, const SearchNetImpl& net);

/// Drops every gradient tensor of `opt`'s parameters (an optimizer skips a parameter without one).
void clear_grads(torch::optim::Optimizer& opt);
/// 1 for every parameter of `opt` that holds a gradient tensor, 0 otherwise (checkpointed, see checkpoint.cpp).
Tensor grad_mask(torch::optim::Optimizer& opt);
void restore_grad_mask(torch::optim::Optimizer& opt, const Tensor& mask);
double entropy_of(const Tensor& alpha);

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

}  // namespace cimsim::enos::search::detail
