#pragma once
// Shared helpers of the datapath tests: random layers with valid weights for an operator.
#include <cstdint>
#include <vector>

#include "cimsim/accel/layer.hpp"
#include "cimsim/core/rng.hpp"

namespace cimsim::accel::testutil {

inline int rand_int(SplitMix64& g, int lo, int hi) {
  return lo + static_cast<int>(g.below(static_cast<uint64_t>(hi - lo + 1)));
}

inline int8_t rand_weight(SplitMix64& g, Op op) {
  switch (op) {
    case Op::MAC8:
    case Op::MF:
    case Op::ADDER: return static_cast<int8_t>(rand_int(g, -127, 127));
    case Op::MAC4: return static_cast<int8_t>(rand_int(g, -7, 7));
    case Op::BWN:
    case Op::XNOR: return static_cast<int8_t>(g.below(2) ? 1 : -1);
    case Op::DEEPSHIFT: {
      const int e = rand_int(g, -1, 6);
      if (e < 0) return 0;
      return static_cast<int8_t>((g.below(2) ? -1 : 1) * (1 << e));
    }
  }
  return 0;
}

inline std::vector<int8_t> rand_input(SplitMix64& g, int64_t n) {
  std::vector<int8_t> v(static_cast<size_t>(n));
  for (auto& x : v) x = static_cast<int8_t>(rand_int(g, -128, 127));
  return v;
}

/// A conv layer with random weights and requant parameters that keep outputs mostly unsaturated.
inline LayerParams rand_layer(SplitMix64& g, const LayerShape& s, Op op, Mode mode) {
  LayerParams p;
  p.shape = s;
  p.op = op;
  p.mode = mode;
  p.weights.resize(static_cast<size_t>(s.weight_elems()));
  for (auto& w : p.weights) w = rand_weight(g, op);
  const int co = s.cout;
  p.rq.mult.resize(co);
  p.rq.shift.resize(co);
  p.rq.bias.resize(co);
  for (int i = 0; i < co; ++i) {
    p.rq.mult[i] = rand_int(g, 1, 1 << 16);
    p.rq.shift[i] = rand_int(g, 8, 24);
    p.rq.bias[i] = int64_t{rand_int(g, -2000, 2000)} * p.rq.mult[i] + rand_int(g, -(1 << 20), 1 << 20);
  }
  p.rq.relu = g.below(2) == 1;
  return p;
}

inline LayerShape conv(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int groups) {
  return LayerShape::conv(n, cin, h, w, cout, k, stride, pad, groups);
}

inline LayerShape fc(int n, int cin, int cout) { return LayerShape::fc(n, cin, cout); }

/// The shapes every operator x mode is checked on.
inline std::vector<LayerShape> test_shapes() {
  return {
      conv(1, 3, 9, 11, 5, 3, 1, 1, 1),      // odd sizes, padding
      conv(2, 4, 8, 8, 6, 1, 1, 0, 1),       // 1x1, batch 2
      conv(1, 6, 7, 7, 6, 3, 1, 1, 6),       // depthwise
      conv(2, 8, 10, 9, 12, 3, 2, 1, 4),     // grouped, stride 2, batch 2
      conv(1, 5, 13, 6, 7, 5, 2, 2, 1),      // 5x5 stride 2 pad 2, cout 7
      conv(1, 3, 6, 6, 17, 2, 1, 0, 1),      // even kernel, cout not multiple of 16
      conv(1, 19, 5, 5, 21, 3, 1, 0, 1),     // K = 171, spans several CIM chunks
      conv(1, 2, 4, 5, 3, 4, 3, 3, 1),       // pad 3 > some patches entirely in padding, stride 3
      conv(2, 5, 17, 19, 5, 3, 2, 1, 5),     // depthwise, stride 2, wide enough for the direct path
      conv(1, 2, 12, 20, 4, 4, 3, 3, 1),     // direct path, stride 3, pad 3 (K = 32)
      conv(1, 4, 9, 16, 4, 5, 1, 2, 4),      // depthwise 5x5, pad 2
      fc(3, 100, 13),                        // FC, batch 3
      fc(1, 37, 1),                          // FC, single output
  };
}

inline CimParams cim_params(int rows, int bits, int32_t range, double noise, double gain, uint64_t seed) {
  CimParams c;
  c.rows = rows;
  c.adc_bits = bits;
  c.adc_range = range;
  c.noise_lsb = noise;
  c.gain_sigma = gain;
  c.seed = seed;
  return c;
}

}  // namespace cimsim::accel::testutil
