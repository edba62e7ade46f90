#pragma once
// The accelerator's plain-C++ datapath (no SystemC): operator terms, the CIM ADC model, requantization, whole
// layers, and the packed weight format. Both SystemC abstraction levels, the host runtime and the ENOS search's
// integer inference call these, so they cannot disagree. Semantics: include/cimsim/accel/layer.hpp and
// docs/accelerator-numerics.md (normative, including the random streams and the packing).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cimsim/accel/layer.hpp"

namespace cimsim::accel {

/// One operator term, digital (x: int8 input element, w: the integer weight; w must be valid for `op`).
int32_t op_term(Op op, int8_t x, int8_t w);

/// Number of CIM chunks (ADC conversions per output) of a reduction of length K: ceil(K / rows).
int64_t cim_num_chunks(const CimParams& c, int64_t K);

/// ADC code of one CIM chunk. `partial`: the chunk's exact partial sum; `oc`: output channel (gain column);
/// `out_index`: linear NCHW index of the output element over the whole layer call (n included); `chunk`: j,
/// the chunk's index within the output, in [0, num_chunks); `num_chunks` = cim_num_chunks(c, K). The noise
/// counter is out_index * num_chunks + chunk (docs/accelerator-numerics.md, "Random streams").
int32_t cim_code(const CimParams& c, int64_t partial, int oc, uint64_t out_index, int64_t chunk, int64_t num_chunks);

/// Per-column gain 1 + gain_sigma * CounterRng(seed, 2).gauss(oc); exactly 1.0 when gain_sigma == 0.
double cim_gain(const CimParams& c, int oc);

/// y = clamp(floor((acc * mult + bias + 2^(shift-1)) / 2^shift), relu ? 0 : -128, 127), exact (128-bit
/// intermediate); shift 0 has no rounding term. mult >= 0, shift in [0, 62]; bias in units of 2^-shift.
int8_t requantize(int32_t acc, int32_t mult, int32_t shift, int64_t bias, bool relu);

/// Whole layer: `in` NCHW int8 (shape.input_elems()), `out` NCHW int8 (shape.outputs()), batch shape.n.
/// Throws ConfigError with p.check()'s message if the parameters are inconsistent.
void run_layer(const LayerParams& p, const int8_t* in, int8_t* out);

/// Vector-unit op (p.shape.kind MaxPool .. Add; semantics in layer.hpp): `in` NCHW (shape.input_elems()),
/// `in2` the second input of Add (same size; ignored otherwise), `out` NCHW (shape.outputs()). Throws
/// ConfigError with p.check()'s message, or if the kind is not a vector kind.
void run_vector(const LayerParams& p, const int8_t* in, const int8_t* in2, int8_t* out);
/// rescale(x, m, s) = floor((x*m + 2^(s-1)) / 2^s) for s > 0, x*m for s == 0 (no clamp; exact).
int64_t rescale(int64_t x, int32_t mult, int32_t shift);

/// Pre-requantization accumulators (NCHW, shape.outputs() values). Throws like run_layer.
std::vector<int32_t> layer_accumulators(const LayerParams& p, const int8_t* in);

/// Bytes of one output channel's packed weights: ceil(K * weight_bits(op) / 8).
size_t packed_row_bytes(Op op, int64_t K);
/// Packs `cout` rows of K weights (OIHW order) LSB-first at weight_bits(op) bits each, each row padded to a
/// whole byte. Throws ConfigError on a size mismatch or a value not valid for `op`.
std::vector<uint8_t> pack_weights(Op op, const std::vector<int8_t>& w, int cout, int64_t K);
/// Inverse of pack_weights. Throws ConfigError if `bytes` < cout * packed_row_bytes(op, K) or a code is invalid
/// (an 8-bit -128, a 4-bit MAC4 -8, or a DEEPSHIFT code with e = 7 and the sign bit set).
std::vector<int8_t> unpack_weights(Op op, const uint8_t* data, size_t bytes, int cout, int64_t K);

}  // namespace cimsim::accel
