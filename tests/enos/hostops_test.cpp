// Host-node integer semantics (docs/enos-export.md) against hand-computed values, image quantization, and a
// tiny graph run by the host reference runtime.
#include <vector>

#include <gtest/gtest.h>

#include "cimsim/core/error.hpp"
#include "cimsim/enos/runtime.hpp"

namespace enos = cimsim::enos;
namespace hostop = cimsim::enos::hostop;
using V = std::vector<int8_t>;

TEST(EnosHostOps, RescaleFloorsWithHalfUpRounding) {
  EXPECT_EQ(hostop::rescale(5, 3, 1), 8);     // 15/2 = 7.5 -> 8
  EXPECT_EQ(hostop::rescale(-5, 3, 1), -7);   // -7.5 -> -7 (half up)
  EXPECT_EQ(hostop::rescale(-3, 1, 1), -1);   // -1.5 -> -1
  EXPECT_EQ(hostop::rescale(3, 1, 1), 2);     // 1.5 -> 2
  EXPECT_EQ(hostop::rescale(-4, 1, 2), -1);   // -1 exactly
  EXPECT_EQ(hostop::rescale(-7, 1, 2), -2);   // -1.75 -> -2
  EXPECT_EQ(hostop::rescale(100, 1 << 30, 30), 100);
  EXPECT_EQ(hostop::rescale(-128, 5, 0), -640);  // shift 0: plain product, no clamp
}

TEST(EnosHostOps, AverageRoundsHalfUp) {
  EXPECT_EQ(hostop::avg_round(2, 4), 1);    // 0.5 -> 1
  EXPECT_EQ(hostop::avg_round(-2, 4), 0);   // -0.5 -> 0
  EXPECT_EQ(hostop::avg_round(-6, 4), -1);  // -1.5 -> -1
  EXPECT_EQ(hostop::avg_round(-3, 2), -1);  // -1.5 -> -1
  EXPECT_EQ(hostop::avg_round(3, 2), 2);    // 1.5 -> 2
  EXPECT_EQ(hostop::avg_round(5, 4), 1);    // 1.25 -> 1
  EXPECT_EQ(hostop::avg_round(-5, 4), -1);  // -1.25 -> -1
  EXPECT_EQ(hostop::avg_round(-7, 4), -2);  // -1.75 -> -2
  EXPECT_EQ(hostop::avg_round(508, 4), 127);
  EXPECT_EQ(hostop::avg_round(-512, 4), -128);
}

TEST(EnosHostOps, MaxPool) {
  const V in = {1, -5, 3, 4, 2, -7, -9, 6, 0};  // 1x3x3
  V out(4);
  hostop::max_pool(in.data(), 1, 3, 3, 2, 1, 0, out.data());
  EXPECT_EQ(out, (V{4, 3, 6, 6}));
  hostop::max_pool(in.data(), 1, 3, 3, 2, 2, 1, out.data());  // OH = (3+2-2)/2+1 = 2
  EXPECT_EQ(out, (V{1, 3, 4, 6}));
  // Padding counts as -128, not 0: an all-negative corner keeps its value.
  const V neg = {-100, -50, -60, -70};
  hostop::max_pool(neg.data(), 1, 2, 2, 2, 2, 1, out.data());
  EXPECT_EQ(out, (V{-100, -50, -60, -70}));
}

TEST(EnosHostOps, AvgPoolAndGlobal) {
  const V in = {1, 2, -3, -4, 0, 0, -1, 0};  // 1x2x4, kernel 2 stride 2 -> 1x1x2
  V out(2);
  hostop::avg_pool(in.data(), 1, 2, 4, 2, 2, out.data());
  EXPECT_EQ(out, (V{1, -2}));  // 3/4 -> 1; -8/4 = -2
  const V g = {1, 1, 2, -1, -1, -2};  // 2x1x3
  hostop::global_avg_pool(g.data(), 2, 1, 3, out.data());
  EXPECT_EQ(out, (V{1, -1}));  // 4/3 -> 1; -4/3 -> -1
}

TEST(EnosHostOps, ChannelShuffle) {
  const V in = {0, 1, 2, 3, 4, 5};  // 6x1x1, groups 2
  V out(6);
  hostop::channel_shuffle(in.data(), 6, 1, 1, 2, out.data());
  EXPECT_EQ(out, (V{0, 3, 1, 4, 2, 5}));
  const V in2 = {0, 0, 1, 1, 2, 2, 3, 3};  // 4x1x2, groups 2: planes move whole
  V out2(8);
  hostop::channel_shuffle(in2.data(), 4, 1, 2, 2, out2.data());
  EXPECT_EQ(out2, (V{0, 0, 2, 2, 1, 1, 3, 3}));
}

namespace {
enos::Node host_node(enos::NodeKind k, std::vector<std::string> in) {
  enos::Node n;
  n.name = "n";
  n.kind = k;
  n.inputs = std::move(in);
  n.output = "y";
  return n;
}
}  // namespace

TEST(EnosHostOps, ConcatRescalesAndClampsEachInput) {
  auto n = host_node(enos::NodeKind::Concat, {"a", "b"});
  n.in_mult = {3, 1};
  n.in_shift = {1, 1};
  const V a = {100, -100}, b = {50, -51};
  V out;
  enos::run_host_node(n, {&a, &b}, {{1, 1, 2}, {1, 1, 2}}, out);
  EXPECT_EQ(out, (V{127, -128, 25, -25}));  // 150 -> 127, -149.5 -> -150 -> -128, 25.5 -> 25, -25.5 -> -25
}

TEST(EnosHostOps, AddSumsThenClampsOnce) {
  auto n = host_node(enos::NodeKind::Add, {"a", "b"});
  n.in_mult = {1, 1};
  n.in_shift = {1, 1};
  const V a = {100, -100, 10}, b = {100, -100, -30};
  V out;
  enos::run_host_node(n, {&a, &b}, {{3, 1, 1}, {3, 1, 1}}, out);
  EXPECT_EQ(out, (V{100, -100, -10}));
  n.relu = true;
  enos::run_host_node(n, {&a, &b}, {{3, 1, 1}, {3, 1, 1}}, out);
  EXPECT_EQ(out, (V{100, 0, 0}));
  n.relu = false;
  n.in_mult = {2, 1};
  n.in_shift = {0, 0};
  const V c = {127, 127}, d = {-128, 127};
  enos::run_host_node(n, {&c, &d}, {{2, 1, 1}, {2, 1, 1}}, out);
  EXPECT_EQ(out, (V{126, 127}));  // 254 - 128 = 126 (no per-input clamp); 381 -> 127
}

TEST(EnosHostOps, SplitAndFlatten) {
  auto n = host_node(enos::NodeKind::Split, {"a"});
  n.begin = 1;
  n.end = 3;
  const V a = {1, 2, 3, 4, 5, 6};  // 3x1x2
  V out;
  enos::run_host_node(n, {&a}, {{3, 1, 2}}, out);
  EXPECT_EQ(out, (V{3, 4, 5, 6}));
  auto f = host_node(enos::NodeKind::Flatten, {"a"});
  enos::run_host_node(f, {&a}, {{3, 1, 2}}, out);
  EXPECT_EQ(out, a);
}

TEST(EnosHostOps, ImageQuantization) {
  EXPECT_EQ(enos::quantize_pixel(255, 1.0 / 127), 127);
  EXPECT_EQ(enos::quantize_pixel(0, 1.0 / 127), 0);
  EXPECT_EQ(enos::quantize_pixel(128, 1.0 / 127), 64);  // 63.75 -> 64
  EXPECT_EQ(enos::quantize_pixel(1, 1.0 / 127), 0);     // 0.498 -> 0
  EXPECT_EQ(enos::quantize_pixel(0, 1.0, 0.375, 0.25), -2);  // -1.5 -> -2 (half away from zero)
  EXPECT_EQ(enos::quantize_pixel(0, 1.0, -0.375, 0.25), 2);  // 1.5 -> 2
  EXPECT_EQ(enos::quantize_pixel(255, 0.001), 127);
  EXPECT_EQ(enos::quantize_pixel(0, 0.001, 1.0, 1.0), -128);
}

TEST(EnosHostRuntime, TinyGraphByHand) {
  enos::NetworkExport e;
  e.network = "tiny";
  e.classes = 2;
  e.input = {"x", 1, 2, 2, 1.0 / 127};
  e.tensors = {{"f", 4, 1, 1, 0.1}, {"m", 4, 1, 1, 0.1}, {"logits", 2, 1, 1, 0.1}};
  enos::Node f;
  f.name = "flat", f.kind = enos::NodeKind::Flatten, f.inputs = {"x"}, f.output = "f";
  enos::Node m;
  m.name = "pool", m.kind = enos::NodeKind::MaxPool, m.inputs = {"f"}, m.output = "m", m.kernel = 1, m.stride = 1;
  enos::Node fc;
  fc.name = "fc", fc.kind = enos::NodeKind::Accel, fc.inputs = {"m"}, fc.output = "logits";
  auto& L = fc.layer;
  L.shape.kind = cimsim::accel::LayerKind::FullyConnected;
  L.shape.cin = 4, L.shape.cout = 2;
  L.op = cimsim::accel::Op::MAC8;
  L.weights = {1, 0, 0, 0, 0, 0, 0, 2};
  L.rq.mult = {1, 1}, L.rq.shift = {0, 1}, L.rq.bias = {0, 1};
  e.nodes = {f, m, fc};
  e.output = "logits";
  ASSERT_EQ(e.check(), "");
  enos::HostRuntime rt(e);
  const V img = {10, 20, 30, 40};
  const auto r = rt.infer(img.data());
  EXPECT_EQ(r.logits, (V{10, 41}));  // 10; (80 + 1) / 2 = 40.5 -> 41
  EXPECT_EQ(r.prediction, 1);
  const uint8_t px[4] = {255, 0, 0, 0};
  const auto r2 = rt.infer_pixels(px);
  EXPECT_EQ(r2.logits, (V{127, 1}));  // (0 + bias 1 + 1) / 2 = 1
  EXPECT_EQ(r2.prediction, 0);
}
