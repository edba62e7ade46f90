// Seeded random layers and the built-in demo network (include/cimsim/accel/random_network.hpp).
#include "cimsim/accel/random_network.hpp"

#include <algorithm>
#include <cmath>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/rng.hpp"

namespace cimsim::accel {

namespace {
int8_t rand_weight(SplitMix64& g, Op op) {
  auto uni = [&g](int lo, int hi) { return lo + static_cast<int>(g.below(static_cast<uint64_t>(hi - lo + 1))); };
  switch (op) {
    case Op::MAC8:
    case Op::MF:
    case Op::ADDER: return static_cast<int8_t>(uni(-127, 127));
    case Op::MAC4: return static_cast<int8_t>(uni(-7, 7));
    case Op::BWN:
    case Op::XNOR: return static_cast<int8_t>(g.below(2) ? 1 : -1);
    case Op::DEEPSHIFT: {
      const int e = uni(-1, 6);
      return e < 0 ? int8_t{0} : static_cast<int8_t>((g.below(2) ? -1 : 1) * (1 << e));
    }
  }
  return 0;
}
}  // namespace

std::vector<int8_t> random_tensor(int64_t n, uint64_t seed) {
  SplitMix64 g(seed);
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int8_t>(static_cast<int>(g.below(256)) - 128);
  return v;
}

LayerParams random_layer(const LayerShape& shape, Op op, Mode mode, uint64_t seed, bool relu,
                         const std::vector<int8_t>* input, const CimParams& cim) {
  SplitMix64 g(seed);
  LayerParams p;
  p.shape = shape;
  p.op = op;
  p.mode = mode;
  if (mode == Mode::Cim) p.cim = cim;
  p.weights.resize(static_cast<size_t>(shape.weight_elems()));
  for (auto& w : p.weights) w = rand_weight(g, op);
  const size_t co = static_cast<size_t>(shape.cout);
  p.rq.relu = relu;
  p.rq.bias.resize(co);
  p.rq.shift.assign(co, 16);
  p.rq.mult.assign(co, 1);
  // Calibrate: largest |accumulator| -> about 127.
  double amax = 0;
  if (input) {
    const std::vector<int32_t> acc = layer_accumulators(p, input->data());
    for (int32_t a : acc) amax = std::max(amax, std::fabs(static_cast<double>(a)));
  } else {
    amax = std::sqrt(static_cast<double>(shape.reduction())) * 64.0 * 4;
  }
  amax = std::max(amax, 1.0);
  for (size_t c = 0; c < co; ++c) {
    const int64_t b = static_cast<int64_t>(g.below(17)) - 8;  // accumulator units
    const double jitter = 0.75 + 0.5 * g.uniform();
    const double m = 127.0 * 65536.0 / amax * jitter * (relu ? 1.5 : 1.0);
    p.rq.mult[c] = static_cast<int32_t>(std::clamp(m, 1.0, 2147483647.0));
    p.rq.bias[c] = b * p.rq.mult[c];  // the requant bias is in units of 2^-shift (after the multiply)
  }
  return p;
}

std::vector<int8_t> builtin_input(uint64_t seed) { return random_tensor(8 * 16 * 16, seed ^ 0x1A2B3C4Dull); }

std::vector<LayerParams> builtin_network(uint64_t seed, const std::vector<int8_t>& input) {
  auto conv = [](int cin, int h, int cout, int k, int stride, int pad, int groups) {
    return LayerShape::conv(1, cin, h, h, cout, k, stride, pad, groups);
  };
  const LayerShape fc = LayerShape::fc(1, 32 * 4 * 4, 10);
  CimParams cim;
  cim.rows = 32;
  cim.adc_bits = 6;
  cim.adc_range = 96;
  cim.noise_lsb = 0.25;
  cim.gain_sigma = 0.02;
  cim.seed = seed ^ 0xC1Cull;
  struct Spec {
    LayerShape s;
    Op op;
    Mode mode;
    bool relu;
  };
  const Spec specs[] = {
      {conv(8, 16, 16, 3, 1, 1, 1), Op::MAC8, Mode::Digital, true},        // 16x16x16
      {conv(16, 16, 16, 3, 2, 1, 16), Op::DEEPSHIFT, Mode::Digital, true}, // depthwise, 16x8x8
      {conv(16, 8, 32, 1, 1, 0, 1), Op::MAC4, Mode::Cim, true},            // 1x1, 32x8x8
      {conv(32, 8, 32, 3, 1, 1, 1), Op::MF, Mode::Cim, true},              // 32x8x8
      {conv(32, 8, 32, 3, 2, 1, 1), Op::ADDER, Mode::Digital, true},       // stride 2, 32x4x4
      {conv(32, 4, 32, 1, 1, 0, 1), Op::BWN, Mode::Digital, true},         // 1x1, 32x4x4
      {fc, Op::XNOR, Mode::Cim, false},                                    // FC 512 -> 10
  };
  std::vector<LayerParams> net;
  std::vector<int8_t> x = input;
  uint64_t k = 0;
  for (const Spec& sp : specs) {
    LayerParams p = random_layer(sp.s, sp.op, sp.mode, mix64(seed + 0x100 * ++k), sp.relu, &x, cim);
    std::vector<int8_t> y(static_cast<size_t>(p.shape.outputs()));
    run_layer(p, x.data(), y.data());
    x = std::move(y);
    net.push_back(std::move(p));
  }
  return net;
}

std::vector<std::vector<int8_t>> run_chain(const std::vector<LayerParams>& layers, const std::vector<int8_t>& input) {
  std::vector<std::vector<int8_t>> outs;
  outs.reserve(layers.size());  // x points into outs
  const std::vector<int8_t>* x = &input;
  for (const auto& p : layers) {
    std::vector<int8_t> y(static_cast<size_t>(p.shape.outputs()));
    run_layer(p, x->data(), y.data());
    outs.push_back(std::move(y));
    x = &outs.back();
  }
  return outs;
}

Topology random_topology(uint64_t seed, int layers, std::vector<LayerChoice>& choice) {
  SplitMix64 g(seed);
  auto pick = [&g](int lo, int hi) { return lo + static_cast<int>(g.below(static_cast<uint64_t>(hi - lo + 1))); };
  Topology t;
  t.name = "random" + std::to_string(seed);
  t.origin = t.name;
  choice.clear();
  int c = pick(1, 8), h = pick(6, 20), w = pick(6, 20);
  for (int i = 0; i < layers; ++i) {
    TopologyLayer L;
    L.name = "r" + std::to_string(i);
    L.row = i + 2;
    const bool last = i + 1 == layers;
    if (last) {
      L.shape = LayerShape::fc(1, c * h * w, pick(2, 40));
    } else {
      const int kind = pick(0, 3);
      const int k = kind == 0 ? 1 : 3;
      const int stride = (h >= 8 && w >= 8 && pick(0, 2) == 0) ? 2 : 1;
      const int pad = k == 3 ? pick(0, 1) : 0;
      int groups = 1, cout = pick(1, 24);
      if (kind == 2) groups = c, cout = c;                        // depthwise
      if (kind == 3 && c % 2 == 0) groups = 2, cout = 2 * pick(1, 10);  // grouped
      L.shape = LayerShape::conv(1, c, h, w, cout, k, stride, pad, groups);
      if (L.shape.out_h() < 1 || L.shape.out_w() < 1 || k > h + 2 * pad || k > w + 2 * pad)
        L.shape = LayerShape::conv(1, c, h, w, cout, 1, 1, 0, groups);
    }
    LayerChoice ch;
    ch.layer = L.name;
    ch.op = kAllOps[pick(0, kNumOps - 1)];
    ch.mode = cim_supported(ch.op) && pick(0, 1) ? Mode::Cim : Mode::Digital;
    if (ch.mode == Mode::Cim) {
      ch.cim.rows = pick(8, 64);
      ch.cim.adc_bits = pick(3, 8);
      ch.cim.adc_range = 1 << (ch.cim.adc_bits - 1);
    }
    c = L.shape.cout;
    h = L.shape.out_h();
    w = L.shape.out_w();
    t.layers.push_back(std::move(L));
    choice.push_back(ch);
  }
  return t;
}

Graph topology_segment_graph(const std::vector<LayerParams>& layers, const std::vector<std::string>& names) {
  Graph g = Graph::chain(layers, false);
  for (size_t i = 0; i < g.nodes.size() && i < names.size(); ++i) g.nodes[i].name = names[i];
  return g;
}

std::vector<TopologySegment> random_topology_segments(const Topology& t, const std::vector<LayerChoice>& choice,
                                                      uint64_t seed) {
  std::vector<TopologySegment> segs;
  std::vector<LayerParams> cur;
  std::vector<int8_t> x, first_in;
  std::vector<std::string> names;
  auto flush = [&] {
    if (cur.empty()) return;
    TopologySegment s;
    s.graph = topology_segment_graph(cur, names);
    s.input = first_in;
    s.expect = {x};
    segs.push_back(std::move(s));
    cur.clear();
    names.clear();
  };
  const std::vector<size_t> starts = topology_segment_starts(t);
  size_t next_start = 0;
  for (size_t i = 0; i < t.layers.size(); ++i) {
    const LayerShape& sh = t.layers[i].shape;
    if (next_start < starts.size() && starts[next_start] == i) {
      ++next_start;
      flush();
      x = random_tensor(sh.input_elems(), seed * 1000003 + i);
      first_in = x;
    }
    const LayerChoice& c = choice.at(i);
    LayerParams p = random_layer(sh, c.op, c.mode, seed * 7919 + i, true, &x, c.cim);
    std::vector<int8_t> y(static_cast<size_t>(sh.outputs()));
    run_layer(p, x.data(), y.data());
    x = std::move(y);
    cur.push_back(std::move(p));
    names.push_back(t.layers[i].name);
  }
  flush();
  return segs;
}

}  // namespace cimsim::accel
