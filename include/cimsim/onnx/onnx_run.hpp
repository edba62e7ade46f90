#pragma once
// ONNX model -> ENOS export for the CLI (`cimsim run --onnx`, `cimsim infer --onnx`): import, input
// normalisation, calibration data, per-node operator choice, post-training quantisation. docs/onnx.md.
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/topology.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/enos/model_graph.hpp"

namespace cimsim::onnx {

struct OnnxRunOptions {
  std::string path;          ///< the .onnx file
  std::string input_shape;   ///< "C,H,W" (--input-shape); empty: the model's own
  std::string input_mean;    ///< "m" or "m1,m2,m3" (--input-mean), on pixels scaled to [0,1]; empty: 0
  std::string input_std;     ///< the same for the standard deviation; empty: 1
  std::string calib_data;    ///< IDX or CIFAR binary file (--calib-data); empty: random images
  int calib_images = 200;    ///< how many calibration images (the first N of the file)
  int random_images = 4;     ///< without --calib-data
  uint64_t seed = 1;
  accel::LayerChoice uniform;  ///< --op / --mode (and CIM parameters) for every conv/fc node
  std::string assignment;      ///< --assignment FILE: per-node choices by node name
  accel::ArrayConfig array;    ///< the accelerator the export targets
  std::string dataset;         ///< recorded in the export; empty: "fashion-mnist" for 1x28x28 inputs, else "none"
};

struct OnnxBuild {
  enos::ModelGraph graph;
  enos::NetworkExport exp;
  std::vector<std::string> warnings;  ///< to print (random calibration, importer notes)
  double import_s = 0, quantize_s = 0;
};

/// Imports, quantises and validates. Throws ConfigError / IoError naming the file, node or option.
OnnxBuild build_onnx_export(const OnnxRunOptions& o);

/// The option descriptions shared by `run` and `infer` (for --help).
namespace help {
constexpr const char* onnx = "ONNX model (float or QDQ; opsets 11-17; docs/onnx.md), quantised post-training";
constexpr const char* input_shape = "C,H,W of the ONNX model's input (required when it is dynamic)";
constexpr const char* input_mean = "Per-channel input mean on pixels/255 (one value or C values; ONNX has none)";
constexpr const char* input_std = "Per-channel input std on pixels/255 (one value or C values)";
constexpr const char* calib_data =
    "Calibration images for the activation scales: IDX (.gz or plain) or CIFAR binary file (default: random "
    "images, accuracy then meaningless)";
constexpr const char* calib_images = "Number of calibration images (the first N of --calib-data)";
}  // namespace help

}  // namespace cimsim::onnx
