// ENOS export fidelity (not a test): for each uni-operator candidate, train the network (run_search, mode
// fixed), then compare on the same test subset the fake-quantized float accuracy with the integer accuracy of
//   (a) the export as written (requant bias in 2^-shift units, added after the multiply), and
//   (b) the same export with every bias rounded to whole accumulator units, bias = round(bias / mult) * mult:
//       the rounding the export did before format version 2 (ops.cpp rounded b / (A d) to an integer).
// Same trained network, same images: the difference between (a) and (b) is the export's alone.
//
//   enos_export_gap [--net squeezenet] [--candidates all] [--train-subset 2000] [--test-subset 1000]
//                   [--epochs 1] [--batch 64] [--seed 1]
#include <cmath>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/data/datasets.hpp"
#include "cimsim/enos/search/torch_impl.hpp"

using namespace cimsim;
using namespace cimsim::enos::search;

namespace {

enos::NetworkExport whole_unit_bias(enos::NetworkExport e) {
  for (auto& n : e.nodes) {
    if (n.kind != enos::NodeKind::Accel) continue;
    auto& rq = n.layer.rq;
    for (size_t i = 0; i < rq.bias.size(); ++i)
      if (rq.mult[i] > 0)
        rq.bias[i] = std::llround(static_cast<double>(rq.bias[i]) / rq.mult[i]) * static_cast<int64_t>(rq.mult[i]);
  }
  return e;
}

double int_accuracy(const enos::NetworkExport& e, const data::ImageSet& test) {
  const torch::Tensor x = quantize_images(test.pixels.data(), test.n, test.c, test.h, test.w, e.input.scale);
  std::vector<int64_t> l(test.labels.begin(), test.labels.end());
  const torch::Tensor y = torch::tensor(l, torch::kInt64);
  int64_t ok = 0;
  for (int64_t b = 0; b < test.n; b += 500) {
    const int64_t end = std::min<int64_t>(test.n, b + 500);
    ok += int_network_forward(e, x.slice(0, b, end)).argmax(1).eq(y.slice(0, b, end)).sum().item<int64_t>();
  }
  return static_cast<double>(ok) / static_cast<double>(std::max(1, test.n));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ENOS export fidelity: uni-operator float vs integer accuracy, fractional vs whole-unit bias"};
  SearchConfig base;
  base.mode = "fixed";
  base.train_subset = 2000;
  base.test_subset = 1000;
  base.epochs = 1;
  base.finetune_epochs = 0;
  base.progress = false;
  std::string cands = "all";
  app.add_option("--net", base.net)->capture_default_str();
  app.add_option("--candidates", cands)->capture_default_str();
  app.add_option("--train-subset", base.train_subset)->capture_default_str();
  app.add_option("--test-subset", base.test_subset)->capture_default_str();
  app.add_option("--epochs", base.epochs)->capture_default_str();
  app.add_option("--batch", base.batch)->capture_default_str();
  app.add_option("--seed", base.seed)->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    torch::set_num_threads(1);
    const data::ImageSet test =
        data::take(data::load_fashion_mnist(data::fashion_mnist_dir(), false), base.test_subset);
    std::printf("| candidate | float %% | int %% (fractional bias) | gap | int %% (whole-unit bias) | gap |\n");
    std::printf("|---|---:|---:|---:|---:|---:|\n");
    for (const Candidate& c : parse_candidates(cands)) {
      SearchConfig cfg = base;
      cfg.candidates = {c};
      const SearchResult r = run_search(cfg);
      const double now = int_accuracy(r.exported, test), old = int_accuracy(whole_unit_bias(r.exported), test);
      if (now != r.test_acc_int) throw ConfigError("integer accuracy differs from the search's own evaluation");
      std::printf("| %s | %.1f | %.1f | %+.1f | %.1f | %+.1f |\n", candidate_name(c).c_str(), 100 * r.test_acc_float,
                  100 * now, 100 * (now - r.test_acc_float), 100 * old, 100 * (old - r.test_acc_float));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "enos_export_gap: %s\n", e.what());
    return 2;
  }
  return 0;
}
