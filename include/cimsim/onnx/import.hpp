#pragma once
// ONNX import: an .onnx file (opsets 11-17, float or QDQ-quantised) -> enos::ModelGraph, the float network
// graph that post-training quantisation (include/cimsim/enos/ptq.hpp) and the ENOS search take.
// Supported operators, the patterns recognised and what is refused: docs/onnx.md.
#include <string>
#include <vector>

#include "cimsim/enos/model_graph.hpp"

namespace cimsim::onnx {

/// Largest accepted .onnx file (checked before reading).
constexpr long long kMaxOnnxFileBytes = 1LL << 30;

struct ImportOptions {
  /// C, H, W of one input image; required when the model's input is dynamic (beyond the batch), else it
  /// must equal the model's own input shape.
  std::vector<int> input_shape;
};

/// Parses, folds constant shape sub-graphs, maps supported ops to ModelGraph. Throws cimsim::ConfigError
/// naming the file and node (op type + supported list) on anything unsupported; IoError when unreadable.
enos::ModelGraph import_model(const std::string& path, const ImportOptions& opt = {});

/// The ONNX operator types the importer accepts, comma separated (for messages and --help).
const char* supported_ops();

}  // namespace cimsim::onnx
