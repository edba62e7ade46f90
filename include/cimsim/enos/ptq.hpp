#pragma once
// Post-training quantisation: a float ModelGraph (e.g. from the ONNX importer) -> an int8 NetworkExport that
// runs on the accelerator (docs/onnx.md, "Quantisation", is the normative description):
//   - input: scale = the largest |normalised pixel| any pixel value can give, / 127 (or the source's QDQ
//     scale), so no image saturates;
//   - activations: one symmetric scale per tensor = max|x| over the calibration images / 127, after the fused
//     activation (or the source's QDQ scale where representable); pools, shuffle, split and flatten keep
//     their input's scale; a Concat takes the largest input scale and its single-use Conv/Add inputs produce
//     at that scale directly (so they are written in place); other inputs are rescaled;
//   - weights (MAC8): symmetric int8 per output channel, scale_w[oc] = max|w[oc]| / 127 (or the QDQ scale);
//     other operators chosen per node (--op/--assignment) use their own weight codes (docs/onnx.md);
//   - conv requantization: M[oc] = scale_in * scale_w[oc] / scale_out as mult * 2^-shift (mult in
//     [2^30, 2^31) where shift <= 62 allows), the float bias as the int64 requant bias in units of 2^-shift
//     output codes; fused ReLU clamps at 0; Clip(0, m) clamps at 0 and its output scale is at most m / 127, so
//     the clamp at code 127 is the clip;
//   - Add/Concat: each input rescaled by scale_in / scale_out (mult, shift); identity when equal.
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/accel/topology.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/enos/model_graph.hpp"

namespace cimsim::enos {

struct PtqOptions {
  /// Calibration images, each c*h*w uint8 pixels (CHW) of the graph's input shape. Empty: `random_images`
  /// random images (uniform pixels from `seed`); the caller warns that accuracy is then meaningless.
  std::vector<std::vector<uint8_t>> calib_images;
  int random_images = 4;
  uint64_t seed = 1;
  std::string dataset;        ///< recorded in the export
  accel::ArrayConfig array;   ///< the accelerator the export targets
  /// Operator/mode of every Conv node not named in `assignment` (default MAC8 digital).
  accel::LayerChoice uniform;
  /// Per-node choices by ModelGraph node name; a name the graph lacks (or a non-conv node) is a ConfigError
  /// naming the assignment's origin and row.
  std::vector<accel::LayerChoice> assignment;
};

/// Quantises `g` (which must carry weights; g.check() must pass). Throws ConfigError naming the node on
/// anything not representable. The export's `classes` is the size of the output tensor.
NetworkExport quantize(const ModelGraph& g, const PtqOptions& opt = {});

/// Float reference forward of `g` on one image of uint8 pixels (CHW), after input normalisation; returns
/// every tensor's values (index = tensor index). Used by calibration and by tools comparing float accuracy.
std::vector<std::vector<float>> float_forward(const ModelGraph& g, const std::vector<uint8_t>& image);

/// The multiplier of a real factor m > 0: m ~= mult * 2^-shift with mult in [2^30, 2^31) when shift <= 62
/// allows (smaller factors get shift 62 and a smaller mult); m = 0 gives (0, 0). Throws ConfigError (naming
/// `what`) if m >= 2^31 or is not finite.
void real_to_mult(double m, int32_t& mult, int32_t& shift, const std::string& what);

}  // namespace cimsim::enos
