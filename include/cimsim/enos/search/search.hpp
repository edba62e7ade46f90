#pragma once
// ENOS search, public API (no libtorch in this header): per-layer operator x computing-mode search for small
// SqueezeNet/ShuffleNetV2-style networks, energy from the accelerator's cost model, four search modes,
// discretization + fine-tuning, uni-operator baselines, export for the simulator, Pareto sweeps.
// Design and formulas: docs/enos.md. Implementation: sw/enos/search/ (libtorch).
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cimsim/accel/layer.hpp"
#include "cimsim/enos/export.hpp"

namespace cimsim::enos::search {

/// One searchable choice for a layer: operator x computing mode (CIM only where accel::cim_supported).
struct Candidate {
  accel::Op op = accel::Op::MAC8;
  accel::Mode mode = accel::Mode::Digital;
};
/// "mac8", "mac4-cim", "xnor-digital", ... (the mode suffix defaults to digital).
std::string candidate_name(const Candidate& c);
/// Parses candidate_name's format; throws ConfigError naming the text for an unknown operator/mode or a CIM
/// mode on an operator the macro does not support.
Candidate parse_candidate(const std::string& s);
/// Parses a comma-separated list ("mac8,mac4,bwn-cim"); "all" = every valid pair (11).
std::vector<Candidate> parse_candidates(const std::string& list);
/// One layer's candidate in a per-layer assignment.
struct LayerAssignment {
  std::string layer;  ///< layer name as in the report ("conv1", "fire2.squeeze", ..., "fc")
  Candidate choice;
};
/// Reads a per-layer assignment: a JSON object with "layers": [{"name": ..., "candidate": "bwn-cim"}, ...]
/// (a search's report.json is one; "op" + "mode" may replace "candidate"). Throws IoError if unreadable,
/// ConfigError naming the file, the entry and the field for malformed JSON, a missing/unknown operator or mode,
/// or a layer named twice. Whether the names exist in the network is checked by run_search.
std::vector<LayerAssignment> load_assignment(const std::string& path);

/// The 11 pairs: 7 digital operators + CIM for MAC4, BWN, XNOR, MF.
std::vector<Candidate> all_candidates();
/// The CIM parameters used for an operator's CIM candidate (rows 64, `adc_bits`, per-operator ADC range).
accel::CimParams cim_params_for(accel::Op op, int adc_bits);
/// CIM parameters for a layer of reduction length K: the ADC full scale is sized to the partial sum of one
/// chunk of min(K, rows) terms of this operator (see docs/enos.md, "ADC full scale").
accel::CimParams cim_params_for(accel::Op op, int adc_bits, int64_t reduction);

struct SearchConfig {
  std::string net = "squeezenet";        ///< squeezenet | shufflenet (ignored when onnx_path is set)
  std::string onnx_path;                 ///< build the supernet from this ONNX model (cimsim::onnx::import_model)
  std::vector<int> input_shape;          ///< ONNX: C,H,W of one image when the model's input is dynamic
  /// ONNX: the input normalisation the model was trained with, per channel on pixels / 255 (one value or C);
  /// empty: mean 0, std 1. Recorded in the export (its input quantisation).
  std::vector<double> input_mean, input_std;
  /// The hardware every energy of the search is priced on: an architecture file (data/arch/*.yaml, the loader
  /// of `cimsim run --arch`) and an energy table. Empty arch: the built-in defaults (ArrayConfig{}). Empty tech:
  /// the architecture's `tech:`, else $CIMSIM_TECH, else data/tech/45nm.json.
  std::string arch_path;
  std::string tech_path;
  std::string dataset = "fashion-mnist"; ///< fashion-mnist | cifar10 | cifar100
  /// FMNIST directory, or CIFAR train file; empty = default FMNIST dir. With dataset fashion-mnist a regular
  /// file is an IDX image file (labels beside it, data::load_image_file) and test_path the test file.
  std::string data_path;
  std::string test_path;                 ///< CIFAR test file, or IDX test image file
  /// single | bilevel | sequential | sampling | knapsack | fixed (no search: every layer uses candidates[0];
  /// the uni-operator baseline). knapsack: the per-layer sensitivity control (after the supernet warm-up, each
  /// layer's accuracy drop per candidate is measured on the supernet and a DP picks the assignment of least total
  /// drop under the energy budget: budget_pj, or target_ratio x the all-MAC8 energy).
  std::string mode = "sampling";
  std::vector<Candidate> candidates;     ///< empty = all_candidates()
  /// fixed mode only: train this per-layer assignment (every layer named exactly once; `candidates` ignored).
  /// Empty: fixed mode trains candidates[0] in every layer.
  std::vector<LayerAssignment> assignment;
  std::string assignment_file;           ///< where `assignment` was read (for messages)
  double lambda = 0.0;                   ///< loss CE + lambda * E / E_ref   (used when budget_pj <= 0)
  double budget_pj = 0.0;                ///< > 0: loss CE + lambda_budget * max(0, E / budget - 1)
  double lambda_budget = 4.0;
  int pretrain_epochs = 0;               ///< before the warm-up: the all-MAC8 path only (the supernet starts from a
                                         ///< trained MAC8 network); fixed mode: extra training epochs
  int warmup_epochs = 0;                 ///< supernet training before the search, alpha frozen: sandwich rule (MAC8
                                         ///< path, cheapest path, `sandwich_paths` random paths, in-place
                                         ///< distillation from the MAC8 path), candidates introduced progressively
                                         ///< (most expensive first) over the first half; fixed mode: extra epochs
  int sandwich_paths = 1;                ///< random paths per warm-up step
  int alpha_samples = 2;                 ///< sampling: paths per step (one batch slice each) for the REINFORCE
                                         ///< leave-one-out estimate
  int alpha_every = 2;                   ///< bilevel: one alpha step every N weight steps
  double adder_lr = 0.02;                ///< adder weights: SGD (momentum 0.9) with AdderNet's adaptive rate
  double adder_eta = 0.1;                ///< AdderNet's eta: per layer, grad *= eta * sqrt(numel) / ||grad||
  double target_ratio = 0.0;             ///< knapsack: budget = target_ratio x all-MAC8 energy (if budget_pj = 0)
  int sensitivity_images = 2000;         ///< knapsack: training images the per-layer drops are measured on
  int epochs = 2;                        ///< search epochs (fixed mode: training epochs)
  int finetune_epochs = 1;               ///< after discretization (fixed mode: extra training epochs)
  int train_subset = 6000;               ///< first N training images (<= 0: all)
  int test_subset = 2000;                ///< first N test images (<= 0: all)
  double val_fraction = 0.2;             ///< bilevel: held-out share of the training subset for alpha
  int batch = 64;
  double lr = 2e-3;                      ///< weights (Adam)
  double alpha_lr = 0.05;                ///< architecture logits (Adam, betas 0.5/0.999)
  double warmup_frac = 0.0;              ///< share of search steps before alpha starts to move (on top of warmup_epochs)
  double tau_start = 4.0, tau_end = 0.5; ///< sampling: Gumbel-softmax temperature, annealed geometrically
  int bn_recal_batches = 20;             ///< after training: re-estimate the chosen candidates' BN statistics (0: off)
  double kl_weight = 1e-3;               ///< sampling: weight of KL(posterior || uniform prior) per layer
  int adc_bits = 5;
  double train_noise_lsb = 0.0;          ///< CIM: Gaussian noise (ADC LSB) injected during training
  uint64_t seed = 1;
  int threads = 1;                       ///< torch intra-op threads (1: OpenMP spin-waits collapse on a shared, loaded machine)
  std::string out_dir;                   ///< empty: nothing written
  bool resume = false;                   ///< continue from out_dir/checkpoint.* if present
  bool progress = true;                  ///< progress line on stderr
  std::string tag;                       ///< free text recorded in the report
};

struct LayerResult {
  std::string name;
  Candidate choice;
  double energy_pj = 0;                  ///< per image, chosen candidate
  std::vector<double> probs;             ///< softmax(alpha) at discretization (empty in fixed mode)
  std::vector<double> candidate_energy_pj;
};

struct SearchResult {
  SearchConfig config;
  std::vector<Candidate> candidates;
  std::vector<LayerResult> layers;
  double test_acc_int = 0;               ///< exported integer network (bit-exact path), on the test subset
  double test_acc_float = 0;             ///< fake-quantized float network (eval mode), same subset
  double energy_pj = 0;                  ///< per image, sum of chosen candidates' layer_energy_pj
  double ref_energy_pj = 0;              ///< the all-MAC8-digital network
  double operator_energy_pj = 0;         ///< compute + ADC + DAC only (the operators' share of energy_pj)
  double ref_operator_energy_pj = 0;     ///< the same for the all-MAC8-digital network
  double expected_energy_pj = 0;         ///< sum p*E at the end of the search
  double posterior_entropy = 0;          ///< mean over layers of H(softmax(alpha)) in nats
  double search_sec_per_epoch = 0;
  double warmup_sec_per_epoch = 0;
  double pretrain_sec_per_epoch = 0;
  double search_cpu_sec_per_epoch = 0;   ///< process CPU seconds (the cost ratios in docs/enos.md use these)
  double warmup_cpu_sec_per_epoch = 0;
  double pretrain_cpu_sec_per_epoch = 0;
  double finetune_cpu_sec_per_epoch = 0;
  nlohmann::json supernet;               ///< after the warm-up: accuracy of every uni-candidate path (train images)
  nlohmann::json sensitivity;            ///< knapsack: per layer and candidate, accuracy and loss when only that
                                         ///< layer leaves MAC8
  double finetune_sec_per_epoch = 0;
  double total_sec = 0;
  int64_t peak_rss_bytes = 0;
  std::vector<nlohmann::json> history;   ///< per epoch: phase, epoch, loss, train_acc, expected_energy, sec
  NetworkExport exported;
  /// The hardware the energies were priced on: arch (path or "built-in defaults"), arch_name, arch_fingerprint,
  /// tech (the energy table's origin), tech_fingerprint.
  nlohmann::json hardware;
  nlohmann::json report() const;
};

struct Progress {
  std::string phase;  ///< "search" | "finetune" | "train"
  int epoch = 0, epochs = 0;
  int64_t step = 0, steps = 0;
  double loss = 0, acc = 0, expected_energy_pj = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

/// Runs one search (or one fixed-assignment training) end to end: data, network, search, discretization,
/// fine-tuning, integer evaluation, export. With out_dir: writes checkpoint.pt/checkpoint.json each epoch
/// (atomically), report.json, network.enos.json (save_export). Throws ConfigError for bad configurations.
SearchResult run_search(const SearchConfig& cfg, const ProgressFn& progress = {});

/// A progress printer: a carriage-return line on a TTY, else one plain line per epoch (and every ~10%).
ProgressFn make_progress_printer();

/// Pareto sweep: the uni-operator baselines (one fixed run per candidate), the mixed-precision baseline
/// (search over {mac8, mac4}) and one search per lambda. Writes <out_dir>/pareto.csv, pareto.png (gnuplot,
/// atomic), sweep.json, and every run's report under <out_dir>/runs/<label>/.
struct SweepConfig {
  SearchConfig base;                     ///< net, mode, epochs, subsets, seed ... (lambda ignored)
  std::vector<double> lambdas = {0.0, 0.5, 2.0};
  bool baselines = true;
  bool mixed_precision = true;
  std::string out_dir;
};
struct SweepPoint {
  std::string label, kind;  ///< kind: "enos" | "uni" | "mixed-precision"
  double lambda = 0, energy_pj = 0, acc = 0, sec = 0;
  nlohmann::json report;
};
std::vector<SweepPoint> run_sweep(const SweepConfig& sc, const ProgressFn& progress = {});
/// Writes the CSV and renders the PNG (returns false, with a message on stderr, if gnuplot is missing).
bool write_pareto(const std::vector<SweepPoint>& pts, const std::string& csv_path, const std::string& png_path,
                  const std::string& title);

}  // namespace cimsim::enos::search
