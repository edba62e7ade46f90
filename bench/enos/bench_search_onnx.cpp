// Search epoch cost of an imported network against the same network built in-tree (issue 20: within 10 %).
// Each round runs, on the same images with one torch thread, one search epoch (mode --mode, all 11 candidates)
// of the built-in SqueezeNet and one of bench/enos/data/squeezenet_fmnist.onnx (the same network exported from
// PyTorch by make_squeezenet_onnx.py and read by the ONNX importer), and reports the ratio of their process CPU
// seconds per step, side by side (the machine is shared: only ratios taken in one process mean anything), the
// order alternating between rounds. Both runs use the same seed; the sampled paths differ (other weights), so a
// search mode's ratio also carries which candidates were drawn: --mode fixed (one MAC8 training epoch) isolates
// the graph path's own cost.
//   bench_search_onnx [--onnx FILE] [--net squeezenet] [--mode sampling|fixed|...] [--images 2048] [--rounds 4] [--json out]
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cimsim/core/io.hpp"
#include "cimsim/enos/search/search.hpp"

using namespace cimsim::enos::search;

namespace {
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ENOS search epoch cost: an imported ONNX network vs the same network built in-tree"};
  std::string onnx = CIMSIM_BENCH_ONNX, net = "squeezenet", mode = "sampling", json_path;
  int images = 2048, rounds = 4;
  app.add_option("--onnx", onnx, "the imported network")->capture_default_str();
  app.add_option("--net", net, "the built-in network it equals")->capture_default_str();
  app.add_option("--mode", mode, "search mode")->capture_default_str();
  app.add_option("--images", images)->capture_default_str();
  app.add_option("--rounds", rounds)->capture_default_str();
  app.add_option("--json", json_path);
  CLI11_PARSE(app, argc, argv);

  SearchConfig base;
  base.mode = mode;
  base.train_subset = images;
  base.test_subset = 64;
  base.batch = 64;
  base.progress = false;
  base.bn_recal_batches = 0;
  base.threads = 1;
  base.lambda = 1.0;
  base.warmup_epochs = base.finetune_epochs = base.pretrain_epochs = 0;
  base.epochs = 1;
  if (mode == "fixed") base.candidates = parse_candidates("mac8");
  auto per_step = [&](const SearchResult& r) {
    const double steps = std::max(1.0, static_cast<double>(images) / base.batch);
    double cpu = 0;
    for (const auto& h : r.history) cpu += h.at("cpu_sec").get<double>();
    return cpu / steps;
  };
  std::vector<double> ratio, t_tree, t_onnx;
  size_t layers_tree = 0, layers_onnx = 0;
  for (int r = 0; r < rounds; ++r) {
    SearchConfig a = base, b = base;
    a.net = net;
    b.onnx_path = onnx;
    a.seed = b.seed = static_cast<uint64_t>(r + 1);
    // alternate which runs first (ABBA), so that warm caches and the allocator's state favour neither
    SearchResult ra, rb;
    if (r % 2 == 0) {
      ra = run_search(a);
      rb = run_search(b);
    } else {
      rb = run_search(b);
      ra = run_search(a);
    }
    layers_tree = ra.layers.size(), layers_onnx = rb.layers.size();
    const double ta = per_step(ra), tb = per_step(rb);
    t_tree.push_back(ta), t_onnx.push_back(tb), ratio.push_back(tb / ta);
    std::printf("round %d  in-tree %s %8.4f s/step   onnx %8.4f s/step   ratio %.3f\n", r + 1, net.c_str(), ta, tb,
                tb / ta);
    std::fflush(stdout);
  }
  std::printf("search epoch cost, imported / in-tree (%s, %zu vs %zu searchable layers, %d images, mode %s): "
              "median %.3f (min %.3f, max %.3f)\n",
              net.c_str(), layers_onnx, layers_tree, images, mode.c_str(), median(ratio),
              *std::min_element(ratio.begin(), ratio.end()), *std::max_element(ratio.begin(), ratio.end()));
  if (!json_path.empty())
    cimsim::atomic_write_json(json_path, {{"net", net}, {"onnx", onnx}, {"mode", mode}, {"images", images},
                                          {"rounds", rounds}, {"ratio", ratio}, {"median_ratio", median(ratio)},
                                          {"in_tree_sec_per_step", t_tree}, {"onnx_sec_per_step", t_onnx}});
  return 0;
}
