#pragma once
// The ENOS export: what a search hands to the simulator. A network graph over int8 activation tensors whose
// accelerator nodes carry full LayerParams (operator, mode, integer weights, requantization) and whose host
// nodes (pooling, channel shuffle, split, concat, add, flatten) run on the host CPU. Versioned; the file
// format (written and validated by sw/enos/export.cpp) is documented field by field in docs/enos-export.md.
//
// Integer semantics of the host nodes (normative; the search's integer path implements exactly these).
// Tensors are int8, per image, layout CHW (c, row, column); "floor" is floor toward -infinity, every
// intermediate is int64 (no overflow is possible for int8 inputs).
//   MaxPool        out[c][oy][ox] = max over ky,kx in [0,kernel) of in[c][oy*stride+ky-pad][ox*stride+kx-pad],
//                  positions outside the input count as -128. OH = (H + 2*pad - kernel) / stride + 1 (floor).
//   AvgPool        pad must be 0. n = kernel*kernel, sum over the window:
//                  out = floor((2*sum + n) / (2*n))   (round half up; always within [-128,127]).
//   GlobalAvgPool  n = H*W, sum over the whole map, same formula; output C x 1 x 1.
//   ChannelShuffle groups g (C % g == 0), G = C/g: out[j*g + i] = in[i*G + j] for i in [0,g), j in [0,G)
//                  (ShuffleNet: view as (g, G), transpose, flatten).
//   Split          out = in channels [begin, end), 0 <= begin < end <= C. One node per part.
//   Flatten        C x H x W -> (C*H*W) x 1 x 1, element order unchanged (c-major, then row, then column).
//   rescale(x, m, s) = floor((x*m + 2^(s-1)) / 2^s)  for s > 0;  x*m  for s == 0.   (m in [0,2^31), s in
//                  [0,62]; this is accel::requantize with bias 0 and without the clamp.)
//   Concat         along channels, in input order; each input i's elements become
//                  clamp(rescale(x, in_mult[i], in_shift[i]), -128, 127). Identity: mult 1, shift 0.
//                  Inputs must have equal H and W.
//   Add            >= 2 inputs of identical shape: out = clamp(sum_i rescale(x_i, in_mult[i], in_shift[i]),
//                  relu ? 0 : -128, 127). (Sum first, clamp once.)
// Image quantization (input tensor, each channel c of each pixel p in [0,255]):
//   v = ((p / 255.0) - mean[c]) / std[c] / input.scale     computed in IEEE double, in exactly this order
//   q = clamp(round_half_away_from_zero(v), -128, 127)      (std::round; mean 0 / std 1 when not given)
// (An implementation in float should build the 256-entry table per channel in double.)
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/layer.hpp"

namespace cimsim::enos {

/// Version 2: the requant bias is int64 in units of 2^-shift, added after the multiply (accel::Requant).
/// Version 1 files (int32 bias in accumulator units, added before the multiply) still load, converted exactly.
constexpr int kExportVersion = 2;
/// Size limits of a loaded export (checked with overflow-safe products before any allocation): every
/// dimension <= 2^20 and every tensor (the input included) at most kMaxTensorElems = 2^31 - 1 elements.
constexpr int64_t kMaxTensorElems = (int64_t{1} << 31) - 1;
constexpr const char* kExportFormat = "cimsim-enos-export";  ///< the file's "format" field

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

/// "accel", "maxpool", "avgpool", "globalavgpool", "channelshuffle", "split", "concat", "add", "flatten".
const char* node_kind_name(NodeKind k);
/// Inverse of node_kind_name; false if unknown.
bool parse_node_kind(const std::string& s, NodeKind& out);

struct TensorInfo {
  std::string name;
  int c = 0, h = 0, w = 0;  ///< per image (batch excluded)
  double scale = 1.0;       ///< real value = scale * int8 (finite, > 0)
  int64_t elems() const { return static_cast<int64_t>(c) * h * w; }
};

struct Node {
  std::string name;
  NodeKind kind = NodeKind::Accel;
  std::vector<std::string> inputs;  ///< tensor names (Accel, pools, shuffle, split, flatten: exactly one)
  std::string output;               ///< tensor name (each tensor is produced by exactly one node)
  accel::LayerParams layer;         ///< Accel only (shape.n = 1; the runtime sets the batch)
  int kernel = 0, stride = 1, pad = 0, groups = 1, begin = 0, end = 0;
  std::vector<int32_t> in_mult, in_shift;  ///< Concat/Add per-input rescale (one per input)
  bool relu = false;                       ///< Add
  double predicted_energy_pj = 0;  ///< Accel: the search's per-image energy estimate for this layer (>= 0)
};

struct NetworkExport {
  int version = kExportVersion;
  std::string network;      ///< e.g. "squeezenet-fmnist"
  std::string dataset;      ///< "fashion-mnist" | "cifar10" | "cifar100"
  TensorInfo input;         ///< input tensor; images are quantized as documented above
  std::vector<double> input_mean, input_std;  ///< per input channel; empty = 0 and 1
  std::vector<TensorInfo> tensors;  ///< every node output (not the input tensor)
  std::vector<Node> nodes;  ///< in execution (topological) order
  std::string output;       ///< logits tensor (argmax = prediction; ties: lowest index)
  int classes = 10;         ///< output tensor must have exactly `classes` elements
  accel::ArrayConfig array;
  nlohmann::json meta = nlohmann::json::object();  ///< search mode, lambda, seed, accuracies, table fingerprint

  /// Empty string if consistent (graph, shapes, layer params); else the first problem found, naming the node
  /// or tensor, e.g. "node 'conv2' (#3): input tensor 'p1' is 8x14x14 but the layer expects 8x28x28".
  std::string check() const;
  const TensorInfo* find_tensor(const std::string& name) const;  ///< input or node output; null if none
};

/// Serializes to the JSON document of docs/enos-export.md (weights packed with accel::pack_weights, base64).
/// Throws ConfigError if e.check() fails (nothing is written).
nlohmann::json export_to_json(const NetworkExport& e);
/// Parses and validates a document; `origin` (a file name) prefixes every error message. Throws ConfigError.
NetworkExport export_from_json(const nlohmann::json& j, const std::string& origin);

/// Validates (ConfigError naming the problem), then writes atomically. Throws IoError if not writable.
void save_export(const std::string& path, const NetworkExport& e);
/// Reads and validates. Throws IoError / ConfigError naming the file and the problem (bad version,
/// unknown operator, shape mismatch, truncated weights, ...).
NetworkExport load_export(const std::string& path);

/// Output shape (c, h, w) a node produces from its inputs' shapes; empty string or the reason it cannot.
struct Shape3 {
  int c = 0, h = 0, w = 0;
};
std::string infer_node_shape(const Node& n, const std::vector<Shape3>& in, Shape3& out);

}  // namespace cimsim::enos
