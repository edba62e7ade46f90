#pragma once
// Independent reference for the accelerator datapath, written from docs/accelerator-numerics.md and the
// comments of include/cimsim/accel/layer.hpp. It shares no code with models/accel/datapath: plain nested loops
// over (n, oc, oy, ox, ci, ky, kx), its own operator terms, requantization, packing and Box-Muller. Only the
// spec'd random source (cimsim::CounterRng's uniform stream) and the layer.hpp types are used.
#include <cstdint>
#include <vector>

#include "cimsim/accel/layer.hpp"

namespace cimsim::accel::ref {

/// One operator term, literally as written in layer.hpp.
int64_t term(Op op, int x, int w);
/// Standard normal for (seed, stream, index), Box-Muller on CounterRng uniforms 2*index, 2*index+1.
double normal(uint64_t seed, uint64_t stream, uint64_t index);
/// Pre-requantization accumulators, NCHW.
std::vector<int64_t> accumulators(const LayerParams& p, const std::vector<int8_t>& in);
/// Requantization of one accumulator.
int requant(int64_t acc, int64_t mult, int shift, int64_t bias, bool relu);
/// The whole layer.
std::vector<int8_t> layer(const LayerParams& p, const std::vector<int8_t>& in);
/// Packed weights per the documented format (bit by bit).
std::vector<uint8_t> pack(Op op, const std::vector<int8_t>& w, int cout, int64_t K);
std::vector<int8_t> unpack(Op op, const std::vector<uint8_t>& bytes, int cout, int64_t K);

}  // namespace cimsim::accel::ref
