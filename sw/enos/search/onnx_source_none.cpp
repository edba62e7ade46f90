// The search's ONNX source when cimsim is built without libonnx-dev: a clear error.
#include "cimsim/core/error.hpp"
#include "cimsim/enos/search/builtin_nets.hpp"

namespace cimsim::enos::search {

ModelGraph import_onnx_graph(const std::string& path, const std::vector<int>&) {
  throw ConfigError("--onnx " + path + ": this cimsim was built without ONNX import (install libonnx-dev and "
                    "reconfigure)");
}

}  // namespace cimsim::enos::search
