// ENOS search: configuration checks, the configuration's JSON (reports, exports, checkpoint keys), the report
// of a finished run, clocks and the progress printer. See docs/enos.md.
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <sstream>

#include "cimsim/core/error.hpp"
#include "search_config.hpp"

namespace cimsim::enos::search {

namespace detail {

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

nlohmann::json resume_key(const SearchConfig& c) {
  nlohmann::json j = config_json(c);
  j.erase("tag");
  j.erase("arch");
  j.erase("tech");
  return j;
}

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

}  // namespace detail

using namespace detail;

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

}  // namespace cimsim::enos::search
