// A Fashion-MNIST CNN trained in PyTorch (tools/onnx/train_fmnist_cnn.py, committed as
// tests/onnx/models/fmnist_cnn.onnx) keeps its float top-1 accuracy within 1 point after import and
// post-training quantisation, on the first 500 test images: float (the imported graph's float forward, itself
// checked against PyTorch in import_test.cpp) against the integer export (host runtime, which the simulator
// reproduces bit-exactly: reference_test.cpp, `cimsim infer`). The full 10 000-image figure is in docs/onnx.md.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "cimsim/data/datasets.hpp"
#include "cimsim/enos/ptq.hpp"
#include "cimsim/enos/runtime.hpp"
#include "cimsim/onnx/import.hpp"

namespace enos = cimsim::enos;

TEST(OnnxAccuracy, FashionMnistCnnKeepsFloatTop1WithinOnePoint) {
  const std::string dir = cimsim::data::fashion_mnist_dir();
  if (!std::filesystem::exists(dir + "/t10k-images-idx3-ubyte.gz")) GTEST_SKIP() << "Fashion-MNIST not installed";
  enos::ModelGraph g = cimsim::onnx::import_model(std::string(CIMSIM_ONNX_MODELS) + "/fmnist_cnn.onnx");
  g.input_mean = {0.2860};  // what tools/onnx/train_fmnist_cnn.py trains with
  g.input_std = {0.3530};
  const auto train = cimsim::data::take(cimsim::data::load_fashion_mnist(dir, true), 100);
  const auto test = cimsim::data::take(cimsim::data::load_fashion_mnist(dir, false), 500);
  enos::PtqOptions po;
  for (int i = 0; i < train.n; ++i) po.calib_images.emplace_back(train.image(i), train.image(i) + train.image_elems());
  const enos::NetworkExport e = enos::quantize(g, po);
  enos::HostRuntime host(e);
  int float_ok = 0, int_ok = 0;
  for (int i = 0; i < test.n; ++i) {
    const std::vector<uint8_t> px(test.image(i), test.image(i) + test.image_elems());
    const auto v = enos::float_forward(g, px);
    const auto& l = v[static_cast<size_t>(g.output)];
    float_ok += static_cast<int>(std::max_element(l.begin(), l.end()) - l.begin()) == test.labels[static_cast<size_t>(i)];
    int_ok += host.infer(enos::quantize_image(e, test.image(i)).data()).prediction == test.labels[static_cast<size_t>(i)];
  }
  const double fa = 100.0 * float_ok / test.n, ia = 100.0 * int_ok / test.n;
  std::printf("float top-1 %.2f%%, int8 (PTQ) top-1 %.2f%% on %d test images\n", fa, ia, test.n);
  EXPECT_GT(fa, 80.0) << "the committed model is not a trained one";
  EXPECT_LE(std::fabs(fa - ia), 1.0);
}
