#pragma once
// Post-training quantisation: a float ModelGraph (from the ONNX importer) -> an int8 NetworkExport that
// runs on the accelerator. Rules (docs/onnx.md, "Quantisation"):
//   - weights: symmetric int8 per output channel, scale_w[oc] = max|w[oc]| / 127 (MAC8, digital);
//   - activations: one symmetric scale per tensor, calibrated as max|x| / 127 over the calibration images
//     (or taken from the source's QDQ scale when it gave one), after the fused activation;
//   - conv requantization: acc * scale_in * scale_w[oc] / scale_out as (mult, shift), the float bias as the
//     int64 requant bias in units of 2^-shift output codes; fused ReLU clamps at 0, ReLU6/Clip lowers the
//     output scale to clip_max / 127 so the clamp at 127 is the clip;
//   - Add/Concat inputs are rescaled to the output scale (mult, shift), pools and shuffles keep the scale.
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/enos/export.hpp"
#include "cimsim/enos/model_graph.hpp"

namespace cimsim::enos {

struct PtqOptions {
  /// Calibration images, each c*h*w uint8 pixels (CHW) of the graph's input shape. Empty: random images
  /// (uniform pixels from `seed`); the caller warns that accuracy is then meaningless.
  std::vector<std::vector<uint8_t>> calib_images;
  int random_images = 8;  ///< how many random images when calib_images is empty
  uint64_t seed = 1;
  std::string dataset;    ///< recorded in the export ("" = "none")
  accel::ArrayConfig array;  ///< the accelerator the export targets
};

/// Quantises `g` (which must carry weights; g.check() must pass). The logits tensor must have `classes`
/// elements; classes = 0 takes its size. Throws ConfigError naming the node on anything not representable.
NetworkExport quantize(const ModelGraph& g, const PtqOptions& opt = {});

/// Float reference forward of `g` on one image of uint8 pixels (CHW), after input normalisation; returns
/// every tensor's values (index = tensor index). Used by calibration and by tools comparing float accuracy.
std::vector<std::vector<float>> float_forward(const ModelGraph& g, const std::vector<uint8_t>& image);

}  // namespace cimsim::enos
