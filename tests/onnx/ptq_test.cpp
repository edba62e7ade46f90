// Post-training quantisation: the multiplier encoding, the scale rules of docs/onnx.md (QDQ scales kept, ReLU6
// as the clamp, concat inputs produced at the concat's scale), and assignment errors.
#include <cmath>

#include <gtest/gtest.h>

#include "cimsim/core/error.hpp"
#include "cimsim/enos/ptq.hpp"
#include "cimsim/onnx/import.hpp"

namespace enos = cimsim::enos;
namespace onnx = cimsim::onnx;

namespace {
std::string model(const std::string& name) { return std::string(CIMSIM_ONNX_MODELS) + "/" + name + ".onnx"; }
const enos::TensorInfo& tensor_of(const enos::NetworkExport& e, const std::string& node) {
  for (const auto& n : e.nodes)
    if (n.name == node) return *e.find_tensor(n.output);
  throw std::runtime_error("no node " + node);
}
}  // namespace

TEST(OnnxPtq, RealToMultEncodesWithin2ToMinus30) {
  for (double m : {1.0, 0.75, 3.3e-3, 1.7e-7, 123.456, 2.0e9}) {
    int32_t mult = 0, shift = 0;
    enos::real_to_mult(m, mult, shift, "t");
    EXPECT_GE(shift, 0);
    EXPECT_LE(shift, 62);
    EXPECT_LT(mult, int64_t{1} << 31);
    EXPECT_NEAR(std::ldexp(static_cast<double>(mult), -shift), m, m * std::ldexp(1.0, -29)) << m;
  }
  int32_t mult = 5, shift = 5;
  enos::real_to_mult(0.0, mult, shift, "t");
  EXPECT_EQ(mult, 0);
  EXPECT_EQ(shift, 0);
  EXPECT_THROW(enos::real_to_mult(3.0e9, mult, shift, "t"), cimsim::ConfigError);
  EXPECT_THROW(enos::real_to_mult(NAN, mult, shift, "t"), cimsim::ConfigError);
}

TEST(OnnxPtq, QdqScalesAndWeightCodesAreKept) {
  const auto g = onnx::import_model(model("qdq_conv"));
  const auto e = enos::quantize(g);
  EXPECT_DOUBLE_EQ(e.input.scale, 1.0 / 64);
  EXPECT_NEAR(tensor_of(e, "conv").scale, 0.05, 1e-8);
  const auto& L = e.nodes[0].layer;
  ASSERT_EQ(L.weights.size(), 36u);
  // The stored int8 codes come back exactly: code * scale == the dequantised float weight.
  const auto& w = g.nodes[0].weight;
  for (size_t k = 0; k < w.size(); ++k)
    EXPECT_NEAR(L.weights[k] * g.nodes[0].weight_scale[k / 9], w[k], 1e-6) << k;
  EXPECT_TRUE(L.rq.relu);
  EXPECT_EQ(e.meta["calibration"], "random");  // the FC output has no QDQ scale: calibrated
  auto g2 = g;
  g2.nodes.back().out_scale = 0.1;  // now every scale comes from the source: no forward pass is needed
  const auto e2 = enos::quantize(g2);
  EXPECT_EQ(e2.meta["calibration"], "none (every scale from the source)");
  EXPECT_DOUBLE_EQ(e2.find_tensor(e2.output)->scale, 0.1);
}

TEST(OnnxPtq, Relu6OutputScaleMakesCode127TheClip) {
  const auto g = onnx::import_model(model("small_cnn"));
  enos::PtqOptions o;
  o.random_images = 2;
  const auto e = enos::quantize(g, o);
  EXPECT_EQ(e.check(), "");
  EXPECT_LE(tensor_of(e, "/c2/c2.0/Conv").scale * 127, 6.0 + 1e-9);
  EXPECT_TRUE(e.nodes[0].layer.rq.relu);
  // Input scale: the largest |normalised pixel| (1.0 with mean 0, std 1) maps to 127.
  EXPECT_DOUBLE_EQ(e.input.scale, 1.0 / 127);
  EXPECT_EQ(e.classes, 10);
}

TEST(OnnxPtq, ConcatInputsProducedAtTheConcatScaleAreIdentity) {
  const auto g = onnx::import_model(model("shuffle_fire"));
  const auto e = enos::quantize(g);
  bool seen = false;
  for (const auto& n : e.nodes) {
    if (n.kind != enos::NodeKind::Concat || n.name.find("Concat_1") == std::string::npos) continue;
    seen = true;  // the Fire concat: both inputs are single-use convs
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      EXPECT_EQ(n.in_mult[k], 1);
      EXPECT_EQ(n.in_shift[k], 0);
      EXPECT_DOUBLE_EQ(e.find_tensor(n.inputs[k])->scale, e.find_tensor(n.output)->scale);
    }
  }
  EXPECT_TRUE(seen);
}

TEST(OnnxPtq, AssignmentChoosesOperatorsAndRefusesUnknownNodes) {
  const auto g = onnx::import_model(model("small_cnn"));
  enos::PtqOptions o;
  o.random_images = 1;
  cimsim::accel::LayerChoice c;
  c.layer = "/c2/c2.0/Conv";
  c.op = cimsim::accel::Op::DEEPSHIFT;
  c.origin = "a.csv";
  c.row = 2;
  o.assignment = {c};
  const auto e = enos::quantize(g, o);
  for (const auto& n : e.nodes)
    if (n.name == c.layer) {
      EXPECT_EQ(n.layer.op, cimsim::accel::Op::DEEPSHIFT);
      for (int8_t w : n.layer.weights) EXPECT_TRUE(cimsim::accel::weight_valid(cimsim::accel::Op::DEEPSHIFT, w));
    }
  o.assignment[0].layer = "nope";
  try {
    (void)enos::quantize(g, o);
    FAIL();
  } catch (const cimsim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("a.csv:2: layer 'nope' is not a node of 'small_cnn'"), std::string::npos) << e.what();
  }
}
