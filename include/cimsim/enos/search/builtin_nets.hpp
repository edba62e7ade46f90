#pragma once
// The ENOS search's built-in networks as float network graphs (enos::ModelGraph, no weights): the same path an
// imported ONNX model takes into the supernet (SearchNetImpl(const ModelGraph&, ...)). No libtorch.
//   squeezenet: conv1 3x3/24, maxpool 2, fire2 (8, 16+16), fire3 (8, 16+16), maxpool 2, fire4 (12, 24+24), GAP, fc.
//   shufflenet: conv1 3x3/16, maxpool 2, stage s2 (32 ch, 2 units), stage s3 (64 ch, 2 units), GAP, fc.
// Every node's output tensor carries the node's name (the names of the search's reports and exports).
#include <string>
#include <vector>

#include "cimsim/enos/model_graph.hpp"

namespace cimsim::enos::search {

/// The names builtin_graph accepts, for messages: "squeezenet, shufflenet".
const char* builtin_net_names();
/// `net` for an input of c x h x w with `classes` outputs. Throws ConfigError for an unknown name or a shape the
/// network cannot take (the check names the node).
ModelGraph builtin_graph(const std::string& net, int c, int h, int w, int classes);

/// The graph of an ONNX model (cimsim::onnx::import_model with `input_shape` = C,H,W or empty). Throws what the
/// importer throws (ConfigError / IoError naming the file and node), or a ConfigError when this cimsim was built
/// without ONNX import (libonnx-dev missing at configure time).
ModelGraph import_onnx_graph(const std::string& path, const std::vector<int>& input_shape);

}  // namespace cimsim::enos::search
