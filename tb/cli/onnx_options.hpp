#pragma once
// The --onnx options shared by `cimsim run` and `cimsim infer` (logic in sw/onnx/onnx_run.cpp; docs/onnx.md).
#include <string>

#include <CLI/CLI.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/onnx/onnx_run.hpp"

namespace cimsim::cli {

struct OnnxCli {
  onnx::OnnxRunOptions run;
  std::string save_export;  ///< --save-export FILE: also write the quantised export
  // infer only (run has its own --op/--mode/--assignment/--adc-bits/--cim-rows):
  std::string op = "mac8", mode = "digital", assignment, test_data;
  int adc_bits = 5, cim_rows = 64;
};

inline void add_onnx_options(CLI::App* sub, OnnxCli& o) {
  namespace h = onnx::help;
  sub->add_option("--onnx", o.run.path, h::onnx);
  sub->add_option("--input-shape", o.run.input_shape, h::input_shape);
  sub->add_option("--input-mean", o.run.input_mean, h::input_mean);
  sub->add_option("--input-std", o.run.input_std, h::input_std);
  sub->add_option("--calib-data", o.run.calib_data, h::calib_data);
  sub->add_option("--calib-images", o.run.calib_images, h::calib_images)->capture_default_str()->check(CLI::Range(1, 100000));
  sub->add_option("--save-export", o.save_export, "With --onnx: also write the quantised ENOS export (.enos.json) here");
}

/// infer's extra ONNX options: the operator choice and the labelled test images.
inline void add_onnx_infer_options(CLI::App* sub, OnnxCli& o) {
  sub->add_option("--op", o.op, "With --onnx: operator of every conv/fc node (mac8, mac4, bwn, xnor, mf, deepshift, adder)")
      ->capture_default_str();
  sub->add_option("--mode", o.mode, "With --onnx: computing mode of every conv/fc node: digital or cim")->capture_default_str();
  sub->add_option("--adc-bits", o.adc_bits, "With --onnx and --mode cim: ADC bits")->capture_default_str()->check(CLI::Range(1, 16));
  sub->add_option("--cim-rows", o.cim_rows, "With --onnx and --mode cim: rows per conversion")->capture_default_str()
      ->check(CLI::Range(1, 4096));
  sub->add_option("--assignment", o.assignment, "With --onnx: per-node operator/mode file (node names as printed)");
  sub->add_option("--data", o.test_data,
                  "With --onnx: labelled test images, IDX (labels file beside it) or CIFAR binary (default: Fashion-MNIST "
                  "test set for 1x28x28 inputs)");
}

/// Sets the uniform operator choice from op/mode text (as `run` does for topologies).
inline void set_choice(onnx::OnnxRunOptions& r, const std::string& op, const std::string& mode, int adc_bits, int cim_rows) {
  const auto o = accel::parse_op(op);
  if (!o) throw ConfigError("--op '" + op + "' is not an operator (mac8, mac4, bwn, xnor, mf, deepshift, adder)");
  const auto m = accel::parse_mode(mode);
  if (!m) throw ConfigError("--mode must be digital or cim, got '" + mode + "'");
  if (*m == accel::Mode::Cim && !accel::cim_supported(*o))
    throw ConfigError("--op " + op + " is not supported in CIM mode (mac4, bwn, xnor, mf)");
  r.uniform.op = *o;
  r.uniform.mode = *m;
  r.uniform.cim.adc_bits = adc_bits;
  r.uniform.cim.rows = cim_rows;
  r.uniform.cim.adc_range = 1 << (adc_bits - 1);
}

/// Builds the export, printing the warnings and the import/quantisation times; writes --save-export.
inline onnx::OnnxBuild build_onnx(const OnnxCli& o) {
  onnx::OnnxBuild b = onnx::build_onnx_export(o.run);
  for (const auto& w : b.warnings) std::printf("warning: %s\n", w.c_str());
  int accel_nodes = 0;
  for (const auto& n : b.exp.nodes) accel_nodes += n.kind == enos::NodeKind::Accel;
  std::printf("onnx: %s imported in %.3f s (%zu nodes, %d conv/fc), quantised in %.3f s (input scale %.6g)\n",
              o.run.path.c_str(), b.import_s, b.exp.nodes.size(), accel_nodes, b.quantize_s, b.exp.input.scale);
  if (!o.save_export.empty()) {
    enos::save_export(o.save_export, b.exp);
    std::printf("export: %s\n", o.save_export.c_str());
  }
  return b;
}

}  // namespace cimsim::cli
