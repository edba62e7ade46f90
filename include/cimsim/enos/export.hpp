#pragma once
// The ENOS export: what a search hands to the simulator. A network graph over int8 activation tensors whose
// accelerator nodes carry full LayerParams (operator, mode, integer weights, requantization) and whose host
// nodes (pooling, channel shuffle, split, concat, add, flatten) run on the host CPU. Versioned; the file
// format (written and validated by sw/enos/export.cpp) is documented in docs/enos-export.md.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/layer.hpp"

namespace cimsim::enos {

constexpr int kExportVersion = 1;

enum class NodeKind {
  Accel,          ///< conv2d / fully connected on the accelerator: `layer`
  MaxPool,        ///< kernel, stride, pad (pad value -128)
  AvgPool,        ///< kernel, stride, pad 0; round half up: floor((2*sum + n) / (2n))
  GlobalAvgPool,  ///< over H x W, same rounding
  ChannelShuffle, ///< groups
  Split,          ///< channels [begin, end) of the input
  Concat,         ///< along channels; each input rescaled by its (mult, shift) (identity: mult=1, shift=0)
  Add,            ///< elementwise sum of two inputs, each rescaled by its (mult, shift), then clamp, opt. ReLU
  Flatten         ///< NCHW -> N x (C*H*W) x 1 x 1
};

struct TensorInfo {
  std::string name;
  int c = 0, h = 0, w = 0;  ///< per image (batch excluded)
  double scale = 1.0;       ///< real value = scale * int8
};

struct Node {
  std::string name;
  NodeKind kind = NodeKind::Accel;
  std::vector<std::string> inputs;  ///< tensor names
  std::string output;               ///< tensor name
  accel::LayerParams layer;         ///< Accel only (shape.n = 1; the runtime sets the batch)
  int kernel = 0, stride = 1, pad = 0, groups = 1, begin = 0, end = 0;
  std::vector<int32_t> in_mult, in_shift;  ///< Concat/Add per-input rescale
  bool relu = false;                       ///< Add
  double predicted_energy_pj = 0;  ///< Accel: the search's per-image energy estimate for this layer
};

struct NetworkExport {
  int version = kExportVersion;
  std::string network;      ///< e.g. "squeezenet-fmnist"
  std::string dataset;      ///< "fashion-mnist" | "cifar10" | "cifar100"
  TensorInfo input;         ///< input tensor; images are quantized as clamp(round(pixel01 / scale), -128, 127)
  std::vector<TensorInfo> tensors;
  std::vector<Node> nodes;  ///< in execution (topological) order
  std::string output;       ///< logits tensor (argmax = prediction)
  int classes = 10;
  accel::ArrayConfig array;
  nlohmann::json meta;      ///< search mode, lambda, seed, accuracies, energy table fingerprint, ...

  /// Empty string if consistent (graph, shapes, layer params); else the first problem found.
  std::string check() const;
};

/// Writes atomically. Throws IoError.
void save_export(const std::string& path, const NetworkExport& e);
/// Reads and validates. Throws IoError / ConfigError naming the file and the problem (bad version,
/// unknown operator, shape mismatch, truncated weights, ...).
NetworkExport load_export(const std::string& path);

}  // namespace cimsim::enos
