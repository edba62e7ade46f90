// `cimsim search` (one ENOS search, or a uni-operator training with --mode fixed) and `cimsim search-pareto`
// (uni-operator + mixed-precision baselines and a lambda sweep -> CSV + PNG). See docs/enos.md.
#include <iostream>
#include <memory>
#include <sstream>

#include "cli/command_registry.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/enos/checkpoint_guard.hpp"
#include "cimsim/enos/search/search.hpp"

namespace {

using cimsim::enos::search::SearchConfig;

struct Common {
  SearchConfig cfg;
  std::string candidates = "all";
  bool no_progress = false;
  CLI::Option* net = nullptr;
};

void add_common(CLI::App* sub, Common& o) {
  auto& c = o.cfg;
  o.net = sub->add_option("--net", c.net, "built-in network: squeezenet | shufflenet")->capture_default_str();
  sub->add_option("--onnx", c.onnx_path,
                  "search this ONNX model instead of a built-in network: one searchable layer per Conv/Gemm, its "
                  "float weights initialise the layers; the data set (--dataset, --data) must match its input");
  sub->add_option("--input-shape", c.input_shape, "--onnx: C,H,W of one image when the model's input is dynamic")
      ->delimiter(',')->expected(3);
  sub->add_option("--input-mean", c.input_mean,
                  "--onnx: input mean per channel on pixels/255 the model was trained with (one value or C values)")
      ->delimiter(',');
  sub->add_option("--input-std", c.input_std, "--onnx: input standard deviation per channel on pixels/255")
      ->delimiter(',');
  sub->add_option("--mode", c.mode,
                  "single | bilevel | sequential | sampling | knapsack (sensitivity control) | fixed (uni-operator "
                  "training)")->capture_default_str();
  sub->add_option("--pretrain-epochs", c.pretrain_epochs,
                  "all-MAC8 epochs before the supernet warm-up (fixed mode: extra training epochs)")->capture_default_str();
  sub->add_option("--sandwich-paths", c.sandwich_paths, "random paths per supernet warm-up step")->capture_default_str();
  sub->add_option("--alpha-samples", c.alpha_samples, "sampling: paths per step (REINFORCE, leave-one-out baseline)")
      ->capture_default_str();
  sub->add_option("--alpha-every", c.alpha_every, "bilevel: one alpha step every N weight steps")->capture_default_str();
  sub->add_option("--adder-lr", c.adder_lr, "adder weights: SGD learning rate (AdderNet adaptive scaling)")
      ->capture_default_str();
  sub->add_option("--adder-eta", c.adder_eta, "AdderNet's eta (per-layer gradient rescaling)")->capture_default_str();
  sub->add_option("--target-ratio", c.target_ratio, "knapsack: energy budget as a share of the all-MAC8 network")
      ->capture_default_str();
  sub->add_option("--sensitivity-images", c.sensitivity_images, "knapsack: images per sensitivity measurement")
      ->capture_default_str();
  sub->add_option("--candidates", o.candidates,
                  "comma-separated candidates, e.g. mac8,mac4,bwn-cim (default all 11; fixed mode uses the first)")
      ->capture_default_str();
  c.warmup_epochs = 1;
  sub->add_option("--warmup-epochs", c.warmup_epochs,
                  "supernet warm-up epochs before the search (alpha frozen; sandwich rule with in-place distillation; "
                  "fixed mode: extra training epochs)")->capture_default_str();
  sub->add_option("--epochs", c.epochs, "search epochs (fixed mode: training epochs)")->capture_default_str();
  sub->add_option("--finetune-epochs", c.finetune_epochs, "epochs after discretization")->capture_default_str();
  sub->add_option("--train-subset", c.train_subset, "training images used (<= 0: all)")->capture_default_str();
  sub->add_option("--test-subset", c.test_subset, "test images evaluated (<= 0: all)")->capture_default_str();
  sub->add_option("--batch", c.batch, "batch size")->capture_default_str();
  sub->add_option("--seed", c.seed, "seed (init, data order, sampling)")->capture_default_str();
  sub->add_option("--lr", c.lr, "weight learning rate (Adam)")->capture_default_str();
  sub->add_option("--alpha-lr", c.alpha_lr, "architecture learning rate (Adam)")->capture_default_str();
  sub->add_option("--val-fraction", c.val_fraction, "bilevel: share of the subset held out for alpha")
      ->capture_default_str();
  sub->add_option("--adc-bits", c.adc_bits, "CIM ADC resolution")->capture_default_str();
  sub->add_option("--train-noise", c.train_noise_lsb, "CIM: ADC noise (LSB) injected in training")
      ->capture_default_str();
  sub->add_option("--dataset", c.dataset, "fashion-mnist | cifar10 | cifar100")->capture_default_str();
  sub->add_option("--data", c.data_path,
                  "training images: Fashion-MNIST directory, an IDX image file (labels file beside it), or a CIFAR "
                  "training file");
  sub->add_option("--test-data", c.test_path, "test images: the IDX image file or CIFAR test file");
  sub->add_option("--threads", c.threads, "torch threads")->capture_default_str();
  sub->add_option("--arch", c.arch_path,
                  "architecture file (YAML, data/arch/*.yaml, as for `cimsim run --arch`): every energy the search "
                  "sees (layers, vector ops, budget, export) is priced on it (default: built-in defaults)");
  sub->add_option("--tech", c.tech_path,
                  "energy table (default: the architecture's tech:, $CIMSIM_TECH or data/tech/45nm.json)");
  sub->add_flag("--no-progress", o.no_progress, "no progress display");
}

void finish_common(Common& o) {
  if (!o.cfg.onnx_path.empty() && o.net->count() > 0)
    throw cimsim::ConfigError("--onnx " + o.cfg.onnx_path + " and --net " + o.cfg.net +
                              " both name the network to search: give one");  o.cfg.candidates = cimsim::enos::search::parse_candidates(o.candidates);
  o.cfg.progress = !o.no_progress;
}

cimsim::cli::Registrar reg_search("search", [](CLI::App& app) -> cimsim::cli::Runner {
  auto* sub = app.add_subcommand("search", "ENOS: per-layer operator/computing-mode search (libtorch)");
  auto o = std::make_shared<Common>();
  add_common(sub, *o);
  auto* lam = sub->add_option("--lambda", o->cfg.lambda, "energy weight: loss = CE + lambda * E / E_mac8")
                  ->capture_default_str();
  sub->add_option("--budget-pj", o->cfg.budget_pj, "energy budget per image: loss = CE + mu * max(0, E/B - 1)")
      ->excludes(lam);
  sub->add_option("--budget-weight", o->cfg.lambda_budget, "mu of the budget form")->capture_default_str();
  sub->add_option("--out-dir", o->cfg.out_dir, "checkpoints, report.json, network.enos.json");
  sub->add_flag("--resume", o->cfg.resume, "continue from <out-dir>/checkpoint.pt");
  auto force = std::make_shared<bool>(false);
  sub->add_flag("--force", *force, "replace the run already in --out-dir (without it or --resume, such a folder is refused)");
  auto* asg = sub->add_option("--assignment", o->cfg.assignment_file,
                              "train this per-layer assignment (a search's report.json, or {\"layers\": [{\"name\", "
                              "\"candidate\"}]}) with the fixed-mode schedule (implies --mode fixed)");
  return [sub, o, asg, force]() -> int {
    if (!sub->parsed()) return -1;
    finish_common(*o);
    if (asg->count() > 0) {
      if (sub->get_option("--mode")->count() > 0 && o->cfg.mode != "fixed")
        throw cimsim::ConfigError("--assignment trains a fixed assignment: it cannot be combined with --mode " +
                                  o->cfg.mode);
      o->cfg.mode = "fixed";
      o->cfg.assignment = cimsim::enos::search::load_assignment(o->cfg.assignment_file);
    }
    if (o->cfg.resume && o->cfg.out_dir.empty()) throw cimsim::ConfigError("--resume needs --out-dir");
    if (*force && o->cfg.out_dir.empty()) throw cimsim::ConfigError("--force needs --out-dir");
    cimsim::enos::check_search_out_dir(o->cfg.out_dir, o->cfg.resume, *force);
    auto pf = o->cfg.progress ? cimsim::enos::search::make_progress_printer() : cimsim::enos::search::ProgressFn{};
    const auto r = cimsim::enos::search::run_search(o->cfg, pf);
    std::cout << "network " << (o->cfg.onnx_path.empty() ? o->cfg.net : o->cfg.onnx_path) << ", mode " << o->cfg.mode
              << (o->cfg.arch_path.empty() ? std::string() : ", architecture " + o->cfg.arch_path) << "\n";
    for (const auto& l : r.layers)
      std::cout << "  " << l.name << ": " << cimsim::enos::search::candidate_name(l.choice) << "  (" << l.energy_pj
                << " pJ)\n";
    std::cout << "test accuracy (integer inference): " << 100.0 * r.test_acc_int << " %  (float "
              << 100.0 * r.test_acc_float << " %)\n"
              << "energy per image: " << r.energy_pj << " pJ (" << 100.0 * r.energy_pj / r.ref_energy_pj
              << " % of all-MAC8 " << r.ref_energy_pj << " pJ)\n"
              << "posterior entropy: " << r.posterior_entropy << " nats/layer\n"
              << "seconds per epoch: search " << r.search_sec_per_epoch << ", fine-tune/train "
              << r.finetune_sec_per_epoch << "; peak RSS " << r.peak_rss_bytes / (1 << 20) << " MiB\n";
    if (!o->cfg.out_dir.empty())
      std::cout << "wrote " << o->cfg.out_dir << "/report.json and " << o->cfg.out_dir << "/network.enos.json\n";
    return 0;
  };
});

cimsim::cli::Registrar reg_pareto("search-pareto", [](CLI::App& app) -> cimsim::cli::Runner {
  auto* sub = app.add_subcommand(
      "search-pareto", "ENOS lambda sweep + uni-operator and mixed-precision baselines -> pareto.csv, pareto.png");
  auto o = std::make_shared<Common>();
  auto lambdas = std::make_shared<std::vector<double>>(std::vector<double>{0.0, 0.5, 2.0});
  auto out = std::make_shared<std::string>();
  auto no_base = std::make_shared<bool>(false), no_mp = std::make_shared<bool>(false);
  add_common(sub, *o);
  sub->add_option("--lambdas", *lambdas, "lambda values (comma-separated)")->delimiter(',')->capture_default_str();
  sub->add_option("--out-dir", *out, "output directory")->required();
  sub->add_flag("--no-baselines", *no_base, "skip the 11 uni-operator runs");
  sub->add_flag("--no-mixed-precision", *no_mp, "skip the MAC8/MAC4 mixed-precision searches");
  return [sub, o, lambdas, out, no_base, no_mp]() -> int {
    if (!sub->parsed()) return -1;
    finish_common(*o);
    cimsim::enos::search::SweepConfig sc;
    sc.base = o->cfg;
    sc.lambdas = *lambdas;
    sc.baselines = !*no_base;
    sc.mixed_precision = !*no_mp;
    sc.out_dir = *out;
    auto pf = o->cfg.progress ? cimsim::enos::search::make_progress_printer() : cimsim::enos::search::ProgressFn{};
    const auto pts = cimsim::enos::search::run_sweep(sc, pf);
    std::cout << "label,kind,energy_pj,accuracy\n";
    for (const auto& p : pts) std::cout << p.label << ',' << p.kind << ',' << p.energy_pj << ',' << p.acc << "\n";
    std::cout << "wrote " << *out << "/pareto.csv, " << *out << "/pareto.png\n";
    return 0;
  };
});

}  // namespace
