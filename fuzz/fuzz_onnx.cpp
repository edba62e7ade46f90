// Fuzz target: the ONNX importer (onnx::import_model), then post-training quantisation of whatever imported
// (a graph the importer accepts must quantise, or be refused with a ConfigError naming the node). Seeds: the
// test models of tests/onnx/models/.
#include "cimsim/enos/ptq.hpp"
#include "cimsim/onnx/import.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::as_file(data, size, ".onnx");
  cimsim::fuzz::expect_clean([&] {
    const cimsim::enos::ModelGraph g = cimsim::onnx::import_model(path);
    int64_t elems = 0;
    for (const auto& t : g.tensors) elems += t.elems();
    if (elems > (int64_t{1} << 20)) return;  // keep each run fast
    cimsim::enos::PtqOptions o;
    o.random_images = 1;
    (void)cimsim::enos::quantize(g, o);
  });
  return 0;
}
