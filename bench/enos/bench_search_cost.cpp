// ENOS search cost (docs/enos.md, "Cost"): process CPU seconds per weight step of each search phase and mode,
// as ratios against a plain MAC8 training step measured in the same process and round (the machine is shared:
// only ratios taken side by side mean anything). Each round runs, in turn: one plain MAC8 epoch (fixed mode),
// one MAC8 pre-training epoch, one supernet warm-up epoch (sandwich rule) and one search epoch of every mode,
// all on the same images with one torch thread; then the uni-operator epochs of every candidate once (what a
// step through that operator costs to simulate, for reading the ratios).
//   bench_search_cost [--net squeezenet] [--images 2048] [--rounds 3] [--json out.json]
//   bench_search_cost --profile trace.json --profile-candidates mac4-cim [--profile-mode fixed]
//     one epoch under libtorch's profiler (Chrome trace: chrome://tracing, or tools/enos/op_profile.py)
#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>

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
  CLI::App app{"ENOS search cost per step, relative to a plain MAC8 step"};
  std::string net = "squeezenet", json_path;
  int images = 2048, rounds = 3;
  app.add_option("--net", net)->capture_default_str();
  app.add_option("--images", images)->capture_default_str();
  app.add_option("--rounds", rounds)->capture_default_str();
  app.add_option("--json", json_path);
  std::string profile_path, profile_cands = "mac8", profile_mode = "fixed";
  app.add_option("--profile", profile_path, "write one epoch's op trace (Chrome trace JSON) and stop");
  app.add_option("--profile-candidates", profile_cands)->capture_default_str();
  app.add_option("--profile-mode", profile_mode)->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  SearchConfig base;
  base.net = net;
  base.train_subset = images;
  base.test_subset = 64;
  base.batch = 64;
  base.progress = false;
  base.bn_recal_batches = 0;
  base.threads = 1;
  base.lambda = 1.0;
  base.target_ratio = 0.9;
  base.sensitivity_images = 64;
  base.warmup_epochs = base.epochs = base.finetune_epochs = base.pretrain_epochs = 0;
  if (!profile_path.empty()) {
    SearchConfig c = base;
    c.mode = profile_mode;
    c.candidates = parse_candidates(profile_cands);
    c.epochs = 1;
    {
      torch::autograd::profiler::RecordProfile guard(profile_path);
      run_search(c);
    }
    std::printf("wrote %s\n", profile_path.c_str());
    return 0;
  }
  // per-step CPU seconds of the phase that ran (bilevel trains on 1 - val_fraction of the images)
  auto per_step = [&](const SearchConfig& c, const SearchResult& r) {
    const double n = c.mode == "bilevel" ? static_cast<double>(images) * (1.0 - c.val_fraction) : images;
    const double steps = std::max(1.0, n / c.batch);
    double cpu = 0;
    for (const auto& h : r.history) cpu += h.at("cpu_sec").get<double>();
    return cpu / steps;
  };
  struct Case {
    std::string name;
    SearchConfig cfg;
  };
  std::vector<Case> cases;
  {
    SearchConfig c = base;
    c.mode = "fixed";
    c.candidates = parse_candidates("mac8");
    c.epochs = 1;
    cases.push_back({"plain-mac8", c});
    SearchConfig p = base;
    p.mode = "sampling";
    p.pretrain_epochs = 1;
    cases.push_back({"pretrain", p});
    SearchConfig w = base;
    w.mode = "sampling";
    w.warmup_epochs = 1;
    cases.push_back({"warmup-sandwich", w});
    for (const char* m : {"single", "bilevel", "sequential", "sampling"}) {
      SearchConfig s = base;
      s.mode = m;
      s.epochs = 1;
      cases.push_back({std::string("search-") + m, s});
    }
  }
  std::map<std::string, std::vector<double>> ratio, sec;
  for (int r = 0; r < rounds; ++r) {
    double plain = 0;
    for (const Case& k : cases) {
      SearchConfig c = k.cfg;
      c.seed = static_cast<uint64_t>(r + 1);
      const SearchResult res = run_search(c);
      const double t = per_step(c, res);
      if (k.name == "plain-mac8") plain = t;
      sec[k.name].push_back(t);
      ratio[k.name].push_back(plain > 0 ? t / plain : 0.0);
      std::printf("round %d  %-18s %8.4f s/step  %.2fx plain MAC8\n", r + 1, k.name.c_str(), t, plain > 0 ? t / plain : 0.0);
      std::fflush(stdout);
    }
  }
  nlohmann::json out = {{"net", net}, {"images", images}, {"rounds", rounds}, {"modes", nlohmann::json::object()},
                        {"uni", nlohmann::json::object()}};
  std::printf("\n%-18s %10s %10s %10s\n", "phase/mode", "min", "median", "max");
  for (const Case& k : cases) {
    const auto& v = ratio[k.name];
    std::printf("%-18s %9.2fx %9.2fx %9.2fx\n", k.name.c_str(), *std::min_element(v.begin(), v.end()), median(v),
                *std::max_element(v.begin(), v.end()));
    out["modes"][k.name] = {{"ratio", v}, {"sec_per_step", sec[k.name]}, {"median_ratio", median(v)}};
  }
  // what one step through each operator costs to simulate (uni-operator networks), same units
  std::printf("\nuni-operator steps (one round):\n");
  double plain = 0;
  for (const Candidate& cand : all_candidates()) {
    SearchConfig c = base;
    c.mode = "fixed";
    c.candidates = {cand};
    c.epochs = 1;
    const double t = per_step(c, run_search(c));
    if (cand.op == cimsim::accel::Op::MAC8 && cand.mode == cimsim::accel::Mode::Digital) plain = t;
    const double rr = plain > 0 ? t / plain : 0.0;
    std::printf("  %-10s %8.4f s/step  %.2fx\n", candidate_name(cand).c_str(), t, rr);
    out["uni"][candidate_name(cand)] = {{"sec_per_step", t}, {"ratio", rr}};
  }
  if (!json_path.empty()) cimsim::atomic_write_json(json_path, out);
  return 0;
}
