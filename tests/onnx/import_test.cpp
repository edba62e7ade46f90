// ONNX importer: per-operator structure, float semantics against PyTorch's own logits (saved beside each
// model by tools/onnx/make_test_models.py), QDQ scales, and every refusal (file, node, op type named).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/enos/ptq.hpp"
#include "cimsim/onnx/import.hpp"

namespace enos = cimsim::enos;
namespace onnx = cimsim::onnx;
using enos::ModelOp;

namespace {

std::string model(const std::string& name) { return std::string(CIMSIM_ONNX_MODELS) + "/" + name + ".onnx"; }

const enos::ModelNode* find_op(const enos::ModelGraph& g, ModelOp op, int nth = 0) {
  for (const auto& n : g.nodes)
    if (n.op == op && nth-- == 0) return &n;
  return nullptr;
}
int count_op(const enos::ModelGraph& g, ModelOp op) {
  int k = 0;
  for (const auto& n : g.nodes) k += n.op == op;
  return k;
}

// Float forward of the imported graph equals PyTorch's logits for the saved image.
void expect_float_semantics(const std::string& name, const onnx::ImportOptions& opt = {}) {
  const enos::ModelGraph g = onnx::import_model(model(name), opt);
  std::ifstream f(std::string(CIMSIM_ONNX_MODELS) + "/" + name + ".expect.json");
  ASSERT_TRUE(f.good());
  const auto j = nlohmann::json::parse(f);
  const std::vector<uint8_t> px = j["pixels"].get<std::vector<uint8_t>>();
  const std::vector<double> want = j["logits"].get<std::vector<double>>();
  const auto v = enos::float_forward(g, px);
  const auto& got = v[static_cast<size_t>(g.output)];
  ASSERT_EQ(got.size(), want.size());
  double spread = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-4 * (1 + std::fabs(want[i]))) << name << " logit " << i;
    spread = std::max(spread, std::fabs(want[i] - want[0]));
  }
  EXPECT_GT(spread, 1e-3) << "the logits do not differ: the comparison would be vacuous";
}

void expect_refused(const std::string& file, const std::string& node, const std::string& op, const std::string& what,
                    const onnx::ImportOptions& opt = {}) {
  try {
    (void)onnx::import_model(file, opt);
    FAIL() << file << " was accepted";
  } catch (const cimsim::ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(file), std::string::npos) << m;
    if (!node.empty()) EXPECT_NE(m.find("node '" + node + "' (" + op + ")"), std::string::npos) << m;
    EXPECT_NE(m.find(what), std::string::npos) << m;
  }
}

}  // namespace

TEST(OnnxImport, SmallCnnStructure) {
  const auto g = onnx::import_model(model("small_cnn"));
  ASSERT_EQ(g.check(), "");
  EXPECT_TRUE(g.has_weights());
  EXPECT_EQ(g.tensors[0].c, 1);
  EXPECT_EQ(g.tensors[0].h, 16);
  // Conv+BN+ReLU, MaxPool, Conv+BN+ReLU6, depthwise Conv+BN, Add+ReLU, AvgPool (zero Pad dropped), Flatten, Gemm.
  EXPECT_EQ(count_op(g, ModelOp::Conv), 4);
  EXPECT_EQ(g.nodes.size(), 8u);
  const auto* c2 = find_op(g, ModelOp::Conv, 1);
  ASSERT_TRUE(c2);
  EXPECT_EQ(c2->act, enos::Activation::Clip);
  EXPECT_FLOAT_EQ(c2->clip_max, 6.0f);
  EXPECT_EQ(c2->stride, 2);
  const auto* dw = find_op(g, ModelOp::Conv, 2);
  EXPECT_EQ(dw->groups, 16);
  EXPECT_EQ(dw->act, enos::Activation::None);
  EXPECT_FALSE(dw->bias.empty());  // BN folded into a bias-less conv
  const auto* add = find_op(g, ModelOp::Add);
  ASSERT_TRUE(add);
  EXPECT_EQ(add->act, enos::Activation::Relu);
  ASSERT_TRUE(find_op(g, ModelOp::AvgPool));
  const auto* fl = find_op(g, ModelOp::Flatten);
  ASSERT_TRUE(fl);
  EXPECT_EQ(g.tensors[static_cast<size_t>(fl->output)].c, 64);  // 16 x 2 x 2: FC after a flatten with spatial > 1
  const auto* fc = find_op(g, ModelOp::Conv, 3);
  EXPECT_TRUE(fc->fc);
  EXPECT_EQ(fc->cout, 10);
  EXPECT_EQ(g.tensors[static_cast<size_t>(g.output)].c, 10);
}

TEST(OnnxImport, SmallCnnFloatMatchesPyTorch) { expect_float_semantics("small_cnn"); }

TEST(OnnxImport, ShuffleFireStructureAndFloat) {
  const auto g = onnx::import_model(model("shuffle_fire"));
  // chunk -> 2 Splits (Slice with shape arithmetic folded), Concat, Reshape-Transpose-Reshape -> shuffle g2,
  // Fire concat, MaxPool with ceil_mode (same size here), ReduceMean -> GAP, Gemm.
  EXPECT_EQ(count_op(g, ModelOp::Split), 2);
  const auto* s0 = find_op(g, ModelOp::Split, 0);
  const auto* s1 = find_op(g, ModelOp::Split, 1);
  EXPECT_EQ(std::min(s0->begin, s1->begin), 0);
  EXPECT_EQ(std::max(s0->end, s1->end), 8);
  const auto* sh = find_op(g, ModelOp::ChannelShuffle);
  ASSERT_TRUE(sh);
  EXPECT_EQ(sh->groups, 2);
  EXPECT_EQ(count_op(g, ModelOp::Concat), 2);
  EXPECT_EQ(count_op(g, ModelOp::GlobalAvgPool), 1);
  const auto* mp = find_op(g, ModelOp::MaxPool);
  EXPECT_EQ(g.tensors[static_cast<size_t>(mp->output)].h, 6);
  expect_float_semantics("shuffle_fire");
}

TEST(OnnxImport, MatMulWithAddBiasIsAFullyConnectedLayer) {
  const auto g = onnx::import_model(model("mlp_matmul"));
  ASSERT_EQ(count_op(g, ModelOp::Conv), 2);
  const auto* fc1 = find_op(g, ModelOp::Conv, 0);
  EXPECT_TRUE(fc1->fc);
  EXPECT_EQ(fc1->cout, 12);
  EXPECT_EQ(fc1->act, enos::Activation::Relu);
  EXPECT_EQ(fc1->bias.size(), 12u);  // the Add folded into the bias
  expect_float_semantics("mlp_matmul");
}

TEST(OnnxImport, DynamicInputNeedsInputShape) {
  expect_refused(model("small_cnn_dynamic"), "", "", "dynamic shape [N,1,H,W]; give the image size with --input-shape");
  onnx::ImportOptions o;
  o.input_shape = {1, 16, 16};
  expect_float_semantics("small_cnn_dynamic", o);
  o.input_shape = {3, 16, 16};  // contradicts the model's 1 channel
  expect_refused(model("small_cnn_dynamic"), "", "", "contradicts the model's input", o);
  o.input_shape = {1, 20, 20};  // a static model must get its own shape
  expect_refused(model("small_cnn"), "", "", "contradicts the model's input", o);
}

TEST(OnnxImport, QdqScalesAreKept) {
  const auto g = onnx::import_model(model("qdq_conv"));
  EXPECT_DOUBLE_EQ(g.input_scale, 1.0 / 64);
  const auto* c = find_op(g, ModelOp::Conv, 0);
  ASSERT_TRUE(c);
  EXPECT_NEAR(c->out_scale, 0.05, 1e-8);
  ASSERT_EQ(c->weight_scale.size(), 4u);
  EXPECT_NEAR(c->weight_scale[1], 0.02, 1e-8);
  EXPECT_EQ(c->act, enos::Activation::Relu);
}

TEST(OnnxImport, RefusesUnsupportedOperatorsNamingNodeAndList) {
  expect_refused(model("refuse_softmax"), "the_softmax", "Softmax", "op type 'Softmax' is not supported; supported: Conv,");
  expect_refused(model("refuse_mul_activation"), "square", "Mul", "'Mul' on an activation is not supported");
}

TEST(OnnxImport, RefusesWhatTheHardwareCannotRepresent) {
  expect_refused(model("refuse_asym_pads"), "asym_conv", "Conv", "asymmetric pads [0,0,1,1]");
  expect_refused(model("refuse_relu_after_pool"), "relu_after_pool", "Relu", "must directly follow a Conv, Gemm or Add");
  expect_refused(model("refuse_clip_negative"), "clip_neg", "Clip", "only Clip with min 0");
  expect_refused(model("refuse_missing_init"), "conv_missing", "Conv", "input 'w_missing' is not a graph input, an initializer");
  expect_refused(model("refuse_opset9"), "", "", "opset 9 of the default domain is not supported");
}

TEST(OnnxImport, RefusesBadFiles) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("cimsim-onnx-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  // Truncated: the first 60 % of a valid model.
  {
    std::ifstream in(model("small_cnn"), std::ios::binary);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream((dir / "trunc.onnx").string(), std::ios::binary) << all.substr(0, all.size() * 6 / 10);
  }
  std::ofstream((dir / "text.onnx").string()) << "this is not a protobuf\n";
  std::ofstream((dir / "empty.onnx").string()).close();
  expect_refused((dir / "trunc.onnx").string(), "", "", "not an ONNX model");
  expect_refused((dir / "text.onnx").string(), "", "", "not an ONNX model");
  expect_refused((dir / "empty.onnx").string(), "", "", "not an ONNX model");
  expect_refused(dir.string(), "", "", "not a regular file");
  EXPECT_THROW((void)onnx::import_model((dir / "missing.onnx").string()), cimsim::IoError);
  fs::remove_all(dir);
}
