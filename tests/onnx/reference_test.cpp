// An independent integer reference for imported networks: written here from the normative integer semantics
// of include/cimsim/enos/export.hpp (image quantisation, host-node kinds) and include/cimsim/accel/layer.hpp
// (operator terms, requantisation), without the importer's quantiser, the host runtime or the datapath. It
// must reproduce the simulator's logits bit-exactly at LT and cycle level on networks imported from ONNX and
// quantised by PTQ. One SystemC elaboration per test (ctest runs each test in its own process).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/rng.hpp"
#include "cimsim/enos/ptq.hpp"
#include "cimsim/enos/sim_runtime.hpp"
#include "cimsim/onnx/import.hpp"

namespace enos = cimsim::enos;
using cimsim::accel::Op;

namespace {

using T = std::vector<int64_t>;  // an int8 tensor held wide

int64_t fdiv(int64_t a, int64_t b) {  // floor division, b > 0
  int64_t q = a / b;
  if ((a % b != 0) && (a < 0)) --q;
  return q;
}
int64_t clampv(int64_t v, int64_t lo, int64_t hi) { return std::min(std::max(v, lo), hi); }
int64_t rescale(int64_t x, int64_t m, int64_t s) { return s == 0 ? x * m : fdiv(x * m + (int64_t{1} << (s - 1)), int64_t{1} << s); }
int sgn(int64_t v) { return (v > 0) - (v < 0); }

int64_t term(Op op, int64_t x, int64_t w) {
  switch (op) {
    case Op::MAC8: return x * w;
    case Op::MAC4: return clampv(fdiv(x + 8, 16), -8, 7) * w;
    case Op::BWN: return w > 0 ? x : -x;
    case Op::XNOR: return (x > 0 ? 1 : -1) * w;
    case Op::MF: return sgn(x) * std::llabs(w) + sgn(w) * std::llabs(x);
    case Op::DEEPSHIFT: return x * w;  // sign(w) * (x << e) with |w| = 2^e
    case Op::ADDER: return -std::llabs(x - w);
  }
  return 0;
}

struct Shape {
  int c, h, w;
};

T conv(const enos::Node& n, const T& x, Shape in) {
  const auto& L = n.layer;
  const auto& s = L.shape;
  EXPECT_EQ(L.mode, cimsim::accel::Mode::Digital);
  const int G = s.groups, cpg = s.cin / G, opg = s.cout / G, k = s.kh;
  const int oh = (in.h + 2 * s.pad - k) / s.stride + 1, ow = (in.w + 2 * s.pad - k) / s.stride + 1;
  T y(static_cast<size_t>(s.cout) * oh * ow);
  for (int oc = 0; oc < s.cout; ++oc) {
    const int g = oc / opg;
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        int64_t acc = 0;
        for (int ci = 0; ci < cpg; ++ci)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx) {
              const int iy = oy * s.stride + ky - s.pad, ix = ox * s.stride + kx - s.pad;
              const int64_t xv = (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w)
                                     ? 0 : x[static_cast<size_t>(((g * cpg + ci) * in.h + iy) * in.w + ix)];
              acc += term(L.op, xv, L.weights[static_cast<size_t>(((oc * cpg + ci) * k + ky) * k + kx)]);
            }
        const __int128 p = static_cast<__int128>(acc) * L.rq.mult[static_cast<size_t>(oc)] + L.rq.bias[static_cast<size_t>(oc)];
        const int sh = L.rq.shift[static_cast<size_t>(oc)];
        __int128 q = p;
        if (sh > 0) {
          const __int128 num = p + (static_cast<__int128>(1) << (sh - 1)), den = static_cast<__int128>(1) << sh;
          q = num / den - ((num % den != 0 && num < 0) ? 1 : 0);
        }
        const __int128 lo = L.rq.relu ? 0 : -128;
        y[static_cast<size_t>((oc * oh + oy) * ow + ox)] = static_cast<int64_t>(q < lo ? lo : (q > 127 ? 127 : q));
      }
  }
  return y;
}

// The logits of one image of uint8 pixels, straight from the export's integer semantics.
std::vector<int8_t> reference(const enos::NetworkExport& e, const std::vector<uint8_t>& px) {
  std::map<std::string, std::pair<T, Shape>> v;
  T x(px.size());
  const int hw = e.input.h * e.input.w;
  for (int c = 0; c < e.input.c; ++c) {
    const double m = e.input_mean.empty() ? 0.0 : e.input_mean[static_cast<size_t>(c)];
    const double s = e.input_std.empty() ? 1.0 : e.input_std[static_cast<size_t>(c)];
    for (int i = 0; i < hw; ++i) {
      const double val = ((px[static_cast<size_t>(c * hw + i)] / 255.0) - m) / s / e.input.scale;
      x[static_cast<size_t>(c * hw + i)] = clampv(static_cast<int64_t>(std::round(val)), -128, 127);
    }
  }
  v[e.input.name] = {x, {e.input.c, e.input.h, e.input.w}};
  for (const auto& n : e.nodes) {
    const auto& [a, s] = v.at(n.inputs[0]);
    const int64_t ahw = static_cast<int64_t>(s.h) * s.w;
    T y;
    Shape o = s;
    switch (n.kind) {
      case enos::NodeKind::Accel:
        y = conv(n, a, s);
        o = {n.layer.shape.cout, n.layer.shape.out_h(), n.layer.shape.out_w()};
        break;
      case enos::NodeKind::MaxPool:
      case enos::NodeKind::AvgPool: {
        o = {s.c, (s.h + 2 * n.pad - n.kernel) / n.stride + 1, (s.w + 2 * n.pad - n.kernel) / n.stride + 1};
        const int64_t cnt = static_cast<int64_t>(n.kernel) * n.kernel;
        for (int c = 0; c < s.c; ++c)
          for (int oy = 0; oy < o.h; ++oy)
            for (int ox = 0; ox < o.w; ++ox) {
              int64_t mx = -128, sum = 0;
              for (int ky = 0; ky < n.kernel; ++ky)
                for (int kx = 0; kx < n.kernel; ++kx) {
                  const int iy = oy * n.stride + ky - n.pad, ix = ox * n.stride + kx - n.pad;
                  const int64_t e2 = (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) ? -128 : a[static_cast<size_t>(c * ahw + iy * s.w + ix)];
                  mx = std::max(mx, e2);
                  sum += e2;
                }
              y.push_back(n.kind == enos::NodeKind::MaxPool ? mx : fdiv(2 * sum + cnt, 2 * cnt));
            }
        break;
      }
      case enos::NodeKind::GlobalAvgPool:
        o = {s.c, 1, 1};
        for (int c = 0; c < s.c; ++c) {
          int64_t sum = 0;
          for (int64_t i = 0; i < ahw; ++i) sum += a[static_cast<size_t>(c * ahw + i)];
          y.push_back(fdiv(2 * sum + ahw, 2 * ahw));
        }
        break;
      case enos::NodeKind::ChannelShuffle: {
        const int g = n.groups, G = s.c / g;
        y.resize(a.size());
        for (int i = 0; i < g; ++i)
          for (int j = 0; j < G; ++j)
            std::copy_n(a.begin() + (i * G + j) * ahw, ahw, y.begin() + (j * g + i) * ahw);
        break;
      }
      case enos::NodeKind::Split:
        o = {n.end - n.begin, s.h, s.w};
        y.assign(a.begin() + n.begin * ahw, a.begin() + n.end * ahw);
        break;
      case enos::NodeKind::Flatten:
        o = {static_cast<int>(a.size()), 1, 1};
        y = a;
        break;
      case enos::NodeKind::Concat:
        o.c = 0;
        for (size_t k = 0; k < n.inputs.size(); ++k) {
          const auto& [b, bs] = v.at(n.inputs[k]);
          for (int64_t e2 : b) y.push_back(clampv(rescale(e2, n.in_mult[k], n.in_shift[k]), -128, 127));
          o.c += bs.c;
        }
        break;
      case enos::NodeKind::Add:
        y.assign(a.size(), 0);
        for (size_t k = 0; k < n.inputs.size(); ++k) {
          const auto& b = v.at(n.inputs[k]).first;
          for (size_t i = 0; i < y.size(); ++i) y[i] += rescale(b[i], n.in_mult[k], n.in_shift[k]);
        }
        for (auto& e2 : y) e2 = clampv(e2, n.relu ? 0 : -128, 127);
        break;
    }
    v[n.output] = {std::move(y), o};
  }
  const T& out = v.at(e.output).first;
  return std::vector<int8_t>(out.begin(), out.end());
}

void expect_bit_exact(const std::string& name, cimsim::accel::Level level, Op op = Op::MAC8) {
  const auto g = cimsim::onnx::import_model(std::string(CIMSIM_ONNX_MODELS) + "/" + name + ".onnx");
  enos::PtqOptions po;
  po.random_images = 2;
  po.uniform.op = op;
  const enos::NetworkExport e = enos::quantize(g, po);
  cimsim::SplitMix64 rng(7);
  std::vector<std::vector<uint8_t>> px(4, std::vector<uint8_t>(static_cast<size_t>(e.input.elems())));
  std::vector<std::vector<int8_t>> q;
  for (auto& p : px) {
    for (auto& b : p) b = static_cast<uint8_t>(rng.below(256));
    q.push_back(enos::quantize_image(e, p.data()));
  }
  const auto table = cimsim::EnergyTable::load_default();
  enos::SimOptions so;
  so.level = level;
  enos::SimRuntime sim(e, table, so);
  const auto r = sim.run(q);
  ASSERT_EQ(r.results.size(), px.size());
  std::set<std::vector<int8_t>> distinct;
  for (size_t i = 0; i < px.size(); ++i) {
    const auto want = reference(e, px[i]);
    EXPECT_EQ(r.results[i].logits, want) << name << " image " << i;
    distinct.insert(want);
  }
  EXPECT_GE(distinct.size(), 2u) << "all images give the same logits: the comparison would be weak";
  // Prediction == simulation: the plan's steady-state energy equals the simulated one, node by node.
  for (const auto& l : r.layers) EXPECT_NEAR(l.energy_pj_per_image(), l.predicted_pj, 1e-6 * (1 + l.predicted_pj)) << l.node;
}

}  // namespace

TEST(OnnxReference, SmallCnnLt) { expect_bit_exact("small_cnn", cimsim::accel::Level::Lt); }
TEST(OnnxReference, SmallCnnCycle) { expect_bit_exact("small_cnn", cimsim::accel::Level::Cycle); }
TEST(OnnxReference, ShuffleFireLt) { expect_bit_exact("shuffle_fire", cimsim::accel::Level::Lt); }
TEST(OnnxReference, ShuffleFireCycle) { expect_bit_exact("shuffle_fire", cimsim::accel::Level::Cycle); }
TEST(OnnxReference, MlpLt) {
  expect_bit_exact("mlp_matmul", cimsim::accel::Level::Lt);
}
TEST(OnnxReference, QdqCycle) { expect_bit_exact("qdq_conv", cimsim::accel::Level::Cycle); }
TEST(OnnxReference, SmallCnnOtherOperatorsLt) { expect_bit_exact("small_cnn", cimsim::accel::Level::Lt, Op::MAC4); }
TEST(OnnxReference, ShuffleFireBwnCycle) { expect_bit_exact("shuffle_fire", cimsim::accel::Level::Cycle, Op::BWN); }
