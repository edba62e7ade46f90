// bench_onnx: the cost of bringing an ONNX model onto the accelerator against the cost of simulating it, side by
// side in one process (docs/performance.md, "ONNX import"). Per round: import (parse + fold + map), quantise
// (post-training, calibration on N random images), compile (program graph + plan), then the LT simulation of
// one image (SimRuntime::run, steady state: the constants were loaded by a warm-up run).
//   bench_onnx [--onnx FILE] [--rounds R] [--calib-images N] [--json out.json]
#include <algorithm>
#include <chrono>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <systemc>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/enos/graph.hpp"
#include "cimsim/enos/ptq.hpp"
#include "cimsim/enos/sim_runtime.hpp"
#include "cimsim/onnx/import.hpp"

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
struct Stat {
  std::vector<double> v;
  double min() const { return *std::min_element(v.begin(), v.end()); }
  double med() const {
    auto s = v;
    std::sort(s.begin(), s.end());
    return s[s.size() / 2];
  }
  double max() const { return *std::max_element(v.begin(), v.end()); }
};
}  // namespace

int sc_main(int argc, char** argv) {
  CLI::App app{"ONNX import + quantise + compile vs LT simulation of one image"};
  std::string path = "build/onnx-torchvision/resnet18.onnx", json_out;
  int rounds = 5, calib = 1;
  app.add_option("--onnx", path, "ONNX model (tools/onnx/torchvision_check.sh exports ResNet-18 there)")->capture_default_str();
  app.add_option("--rounds", rounds, "Rounds")->capture_default_str()->check(CLI::Range(1, 100));
  app.add_option("--calib-images", calib, "Random calibration images per quantisation")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--json", json_out, "Write the figures as JSON");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto table = cimsim::EnergyTable::load_default();
    cimsim::enos::PtqOptions po;
    po.random_images = calib;
    Stat t_imp, t_q, t_c, t_lt, ratio, ratio_nocal;
    cimsim::enos::NetworkExport e;
    for (int r = 0; r < rounds; ++r) {
      double t0 = now();
      const auto g = cimsim::onnx::import_model(path);
      double t1 = now();
      e = cimsim::enos::quantize(g, po);
      double t2 = now();
      const auto eg = cimsim::enos::to_graph(e);
      (void)cimsim::enos::predict_energy(e, eg, table);
      double t3 = now();
      t_imp.v.push_back(t1 - t0);
      t_q.v.push_back(t2 - t1);
      t_c.v.push_back(t3 - t2);
    }
    cimsim::enos::SimRuntime sim(e, table);
    std::vector<std::vector<int8_t>> img = {std::vector<int8_t>(static_cast<size_t>(e.input.elems()), 3)};
    (void)sim.run(img);  // warm-up: loads the pinned constants
    for (int r = 0; r < rounds; ++r) {
      const double t0 = now();
      (void)sim.run(img);
      t_lt.v.push_back(now() - t0);
    }
    for (int r = 0; r < rounds; ++r) {
      ratio.v.push_back((t_imp.v[r] + t_q.v[r] + t_c.v[r]) / t_lt.v[r]);
      ratio_nocal.v.push_back((t_imp.v[r] + t_c.v[r]) / t_lt.v[r]);
    }
    std::printf("bench_onnx: %s, %d rounds, calibration on %d random image(s)\n", path.c_str(), rounds, calib);
    std::printf("%-34s %9s %9s %9s\n", "", "min", "median", "max");
    auto row = [](const char* n, const Stat& s, const char* unit) {
      std::printf("%-34s %9.3f %9.3f %9.3f %s\n", n, s.min(), s.med(), s.max(), unit);
    };
    row("import (parse, fold, map)", t_imp, "s");
    row("quantise (calibrate + codes)", t_q, "s");
    row("compile (graph + plan)", t_c, "s");
    row("LT simulation of one image", t_lt, "s");
    row("(import+quantise+compile) / LT", ratio, "x");
    row("(import+compile) / LT", ratio_nocal, "x");
    if (!json_out.empty()) {
      nlohmann::json j;
      j["onnx"] = path;
      j["rounds"] = rounds;
      j["calib_images"] = calib;
      auto js = [](const Stat& s) { return nlohmann::json{{"min", s.min()}, {"median", s.med()}, {"max", s.max()}}; };
      j["import_s"] = js(t_imp);
      j["quantise_s"] = js(t_q);
      j["compile_s"] = js(t_c);
      j["lt_one_image_s"] = js(t_lt);
      j["ratio"] = js(ratio);
      j["ratio_without_calibration"] = js(ratio_nocal);
      cimsim::atomic_write_json(json_out, j);
    }
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "bench_onnx: %s\n", ex.what());
    return 2;
  }
  return 0;
}
