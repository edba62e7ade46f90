// Built instead of the importer when libonnx-dev is not installed: every import says so.
#include "cimsim/core/error.hpp"
#include "cimsim/onnx/import.hpp"

namespace cimsim::onnx {

const char* supported_ops() { return "(none: built without libonnx-dev)"; }

enos::ModelGraph import_model(const std::string& path, const ImportOptions&) {
  throw ConfigError(path + ": this cimsim was built without ONNX support (install libonnx-dev and rebuild)");
}

}  // namespace cimsim::onnx
