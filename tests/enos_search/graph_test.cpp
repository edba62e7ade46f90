// The supernet built from a float network graph (SearchNetImpl(const ModelGraph&)): residual Add, AvgPool,
// Flatten, Clip (ReLU6) and graph weights, against the export's integer semantics (the host reference runtime,
// written separately) and the program plan; the built-in networks through the same path.
#include <gtest/gtest.h>

#include <cmath>

#include "cimsim/core/error.hpp"
#include "cimsim/core/rng.hpp"
#include "cimsim/enos/graph.hpp"
#include "cimsim/enos/runtime.hpp"
#include "cimsim/enos/search/builtin_nets.hpp"
#include "cimsim/enos/search/torch_impl.hpp"

using namespace cimsim;
using namespace cimsim::enos;
using namespace cimsim::enos::search;

namespace {

struct Threads {
  Threads() { torch::set_num_threads(1); }
} threads_once;

ModelNode node(const std::string& name, ModelOp op, std::vector<int> in, int out) {
  ModelNode n;
  n.name = name;
  n.op = op;
  n.inputs = std::move(in);
  n.output = out;
  return n;
}

/// input 1x12x12 -> conv a (8, 3x3, ReLU) -> conv b (8, 3x3, ReLU6) -> add(a, b, ReLU) -> avgpool 2 ->
/// conv c (8, 1x1 stride 2, none) -> flatten (8*3*3 = 72) -> fc (10). With weights when `weights`.
ModelGraph residual_graph(bool weights, uint64_t seed = 3) {
  ModelGraph g;
  g.name = "residual";
  g.tensors = {{"x", 1, 12, 12}, {"a", 8, 12, 12}, {"b", 8, 12, 12}, {"s", 8, 12, 12}, {"p", 8, 6, 6},
               {"c", 8, 3, 3},   {"f", 72, 1, 1},  {"y", 10, 1, 1}};
  ModelNode a = node("conv_a", ModelOp::Conv, {0}, 1);
  a.cout = 8, a.kernel = 3, a.pad = 1, a.act = Activation::Relu;
  ModelNode b = node("conv_b", ModelOp::Conv, {1}, 2);
  b.cout = 8, b.kernel = 3, b.pad = 1, b.act = Activation::Clip, b.clip_max = 6;
  ModelNode s = node("add", ModelOp::Add, {1, 2}, 3);
  s.act = Activation::Relu;
  ModelNode p = node("pool", ModelOp::AvgPool, {3}, 4);
  p.kernel = 2, p.stride = 2;
  ModelNode c = node("conv_c", ModelOp::Conv, {4}, 5);
  c.cout = 8, c.kernel = 1, c.stride = 2;
  ModelNode f = node("flat", ModelOp::Flatten, {5}, 6);
  ModelNode fc = node("fc", ModelOp::Conv, {6}, 7);
  fc.cout = 10, fc.fc = true;
  g.nodes = {a, b, s, p, c, f, fc};
  g.output = 7;
  if (weights) {
    SplitMix64 r(seed);
    for (auto& n : g.nodes) {
      if (n.op != ModelOp::Conv) continue;
      const int cin = g.tensors[static_cast<size_t>(n.inputs[0])].c;
      n.weight.resize(static_cast<size_t>(n.cout) * cin * n.kernel * n.kernel);
      for (auto& w : n.weight) w = static_cast<float>((static_cast<double>(r.below(2001)) - 1000.0) / 1000.0 * 0.3);
      n.bias.resize(static_cast<size_t>(n.cout));
      for (auto& w : n.bias) w = static_cast<float>((static_cast<double>(r.below(2001)) - 1000.0) / 10000.0);
    }
  }
  return g;
}

torch::Tensor random_images(int n, uint64_t seed) {
  SplitMix64 r(seed);
  std::vector<uint8_t> px(static_cast<size_t>(n) * 144);
  for (auto& p : px) p = static_cast<uint8_t>(r.below(256));
  return quantize_images(px.data(), n, 1, 12, 12, 1.0 / 127.0);
}

}  // namespace

TEST(GraphNet, BuiltinsComeFromTheirGraphs) {
  for (const std::string net : {"squeezenet", "shufflenet"}) {
    const ModelGraph g = builtin_graph(net, 1, 28, 28, 10);
    ASSERT_EQ(g.check(), "") << net;
    SearchNet a(net, 1, 28, 28, 10, all_candidates(), 5);
    EXPECT_EQ(a->layers.size(), net == "squeezenet" ? 11u : 18u);
    EXPECT_EQ(a->nodes.size(), g.nodes.size());
    for (size_t i = 0; i < g.nodes.size(); ++i) EXPECT_EQ(a->nodes[i].name, g.nodes[i].name);
  }
  // SqueezeNet's two expand layers of a Fire module share one scale (identity concat); ShuffleNet's stage shares one.
  SearchNet s(std::string("squeezenet"), 1, 28, 28, 10, all_candidates(), 5);
  EXPECT_EQ(s->layers[2]->out_obs, s->layers[3]->out_obs);
  EXPECT_NE(s->layers[1]->out_obs, s->layers[2]->out_obs);
  EXPECT_EQ(s->observers.size(), 8u);  // conv1, 3 x (sq, expand), fc
  EXPECT_THROW(builtin_graph("resnet", 1, 28, 28, 10), ConfigError);
}

TEST(GraphNet, ResidualAvgPoolFlattenClipExportMatchesTheHostRuntime) {
  for (const bool weights : {false, true}) {
    torch::manual_seed(1);
    SearchNet net(residual_graph(weights), all_candidates(), 5, "residual.onnx");
    ASSERT_EQ(net->layers.size(), 4u);
    const auto cfg = accel::ArrayConfig{};
    const EnergyTable table = EnergyTable::load_default();
    net->set_energies(cfg, table);
    EXPECT_TRUE(net->layers[1]->out_obs->fixed);  // ReLU6: scale 6 / 127
    EXPECT_DOUBLE_EQ(net->layers[1]->out_obs->scale(), 6.0 / 127.0);
    // a few training forwards (observers, BatchNorm statistics) on random paths, then a random assignment
    net->train();
    SplitMix64 r(11);
    for (int s = 0; s < 4; ++s) {
      for (auto& L : net->layers) L->path = static_cast<int>(r.below(L->cands.size()));
      torch::NoGradGuard ng;
      net->forward(random_images(16, 100 + s), Combine::Path);
    }
    for (auto& L : net->layers) L->chosen = static_cast<int>(r.below(L->cands.size()));
    net->eval();
    const NetworkExport e = net->export_network("fashion-mnist", cfg);
    ASSERT_EQ(e.check(), "");
    const Node* add = nullptr;
    for (const auto& n : e.nodes)
      if (n.kind == NodeKind::Add) add = &n;
    ASSERT_NE(add, nullptr);
    EXPECT_TRUE(add->relu);
    EXPECT_EQ(add->in_mult.size(), 2u);
    const torch::Tensor x = random_images(6, 77);
    const torch::Tensor mine = int_network_forward(e, x).to(torch::kInt64).contiguous();
    HostRuntime host(e);
    for (int i = 0; i < 6; ++i) {
      std::vector<int8_t> img(144);
      for (int j = 0; j < 144; ++j) img[static_cast<size_t>(j)] = static_cast<int8_t>(x[i].reshape({-1})[j].item<float>());
      const auto ref = host.infer(img.data());
      for (int k = 0; k < 10; ++k) ASSERT_EQ(mine[i][k].item<int64_t>(), ref.logits[static_cast<size_t>(k)]) << i;
    }
    // the float (fake-quantized) path agrees with the integer export on most logits' argmax
    const torch::Tensor fl = net->forward(x, Combine::Fixed);
    EXPECT_EQ(fl.size(1), 10);
    // the energy the search sees for the chosen network is the program plan's
    const PredictedEnergy pe = predict_energy(e, table);
    EXPECT_NEAR(net->chosen_energy(), pe.total_pj, 1e-6 * pe.total_pj);
  }
}

TEST(GraphNet, GraphWeightsInitialiseTheMac8Path) {
  const ModelGraph g = residual_graph(true);
  SearchNet net(g, all_candidates(), 5);
  for (size_t l = 0; l < net->layers.size(); ++l) {
    const auto& m = g.nodes[std::vector<size_t>{0, 1, 4, 6}[l]];
    const torch::Tensor w = net->layers[l]->weight.reshape({-1}).contiguous();
    ASSERT_EQ(static_cast<size_t>(w.numel()), m.weight.size());
    for (size_t i = 0; i < m.weight.size(); i += 7) EXPECT_EQ(w[static_cast<int64_t>(i)].item<float>(), m.weight[i]);
    EXPECT_EQ(net->layers[l]->bns[0]->bias[0].item<float>(), m.bias[0]);  // candidate 0 is MAC8
  }
  // eval mode, MAC8 everywhere: the first layer's real output is the float convolution (quantized operands)
  net->eval();
  torch::NoGradGuard ng;
  const torch::Tensor x = random_images(2, 5);
  auto& L = net->layers[0];
  const torch::Tensor got = L->candidate_out(0, x, net->input_scale);
  const torch::Tensor w = torch::from_blob(const_cast<float*>(g.nodes[0].weight.data()), {8, 1, 3, 3}).clone();
  const torch::Tensor bias = torch::from_blob(const_cast<float*>(g.nodes[0].bias.data()), {8}).clone();
  const torch::Tensor want = torch::conv2d(x * net->input_scale, w, bias, 1, 1);
  EXPECT_LT((got - want).abs().max().item<double>(), 0.02 * want.abs().max().item<double>());
  // after calibrate_from_weights, the MAC8 path computes the float layer in training mode too (batch statistics),
  // and the other correlation-family candidates share its BatchNorm
  net->calibrate_from_weights(x, std::vector<int>(net->layers.size(), 0));
  net->train();
  const torch::Tensor got_train = L->candidate_out(0, x, net->input_scale);
  EXPECT_LT((got_train - want).abs().max().item<double>(), 0.02 * want.abs().max().item<double>());
  EXPECT_TRUE(L->out_obs->init);
  for (size_t k = 1; k < L->cands.size(); ++k)
    if (family_of(L->cands[k].op) == Family::Correlation)
      EXPECT_TRUE(torch::equal(L->bns[k]->weight, L->bns[0]->weight)) << candidate_name(L->cands[k]);
}

TEST(GraphNet, UnrepresentableGraphsAreClearErrors) {
  ModelGraph g = residual_graph(false);
  g.nodes[1].clip_max = 0;
  try {
    SearchNet net(g, all_candidates(), 5, "m.onnx");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("m.onnx"), std::string::npos) << e.what();
  }
  // a concat of a ReLU6 output with a ReLU output cannot share one scale
  ModelGraph h = residual_graph(false);
  h.nodes[2].op = ModelOp::Concat;
  h.nodes[2].act = Activation::None;
  h.tensors[3].c = 16, h.tensors[4].c = 16;
  h.tensors[5].c = 8;
  try {
    SearchNet net(h, all_candidates(), 5, "m.onnx");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("conv_b"), std::string::npos) << e.what();
  }
}
