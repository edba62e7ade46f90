// The search's ONNX source: the importer (sw/onnx) when cimsim is built with libonnx-dev.
#include "cimsim/enos/search/builtin_nets.hpp"
#include "cimsim/onnx/import.hpp"

namespace cimsim::enos::search {

ModelGraph import_onnx_graph(const std::string& path, const std::vector<int>& input_shape) {
  onnx::ImportOptions o;
  o.input_shape = input_shape;
  return onnx::import_model(path, o);
}

}  // namespace cimsim::enos::search
