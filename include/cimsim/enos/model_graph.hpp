#pragma once
// A float network graph: what an importer (ONNX) or a built-in network description produces, before any
// operator is chosen or any value is quantised. It is the common input of
//   - post-training quantisation to an ENOS export (NetworkExport, int8, runs on the simulator), and
//   - the ENOS search's supernet (one searchable layer per Conv node; the float weights, when present,
//     initialise its MAC8 path).
// Plain C++ (no libtorch, no SystemC). Layout of every tensor is CHW per image (batch excluded).
//
// Node semantics (float, per image):
//   Conv            y = conv2d(x, weight, bias; stride, symmetric pad, groups) then the activation.
//                   weight [cout][cin/groups][kernel][kernel]; bias [cout] (BatchNorm already folded in).
//                   A fully connected layer is a Conv with kernel 1 on a 1x1 input (fc = true).
//   MaxPool         window kernel x kernel, stride, pad (padding never wins the max).
//   AvgPool         window kernel x kernel, stride, pad 0, mean over the window.
//   GlobalAvgPool   mean over H x W; output C x 1 x 1.
//   ChannelShuffle  groups g: out[j*g + i] = in[i*G + j], G = C / g.
//   Split           channels [begin, end) of the input.
//   Concat          along channels, inputs in order (equal H, W).
//   Add             elementwise sum of >= 2 inputs of identical shape, then the activation.
//   Flatten         C x H x W -> (C*H*W) x 1 x 1, element order unchanged.
#include <cstdint>
#include <string>
#include <vector>

namespace cimsim::enos {

enum class ModelOp { Conv, MaxPool, AvgPool, GlobalAvgPool, ChannelShuffle, Split, Concat, Add, Flatten };

/// "conv", "maxpool", "avgpool", "globalavgpool", "channelshuffle", "split", "concat", "add", "flatten".
const char* model_op_name(ModelOp op);

/// Activation fused at a node's output: none, ReLU (max(x, 0)) or a clip to [0, clip_max] (ReLU6: 6).
enum class Activation { None, Relu, Clip };

struct ModelTensor {
  std::string name;
  int c = 0, h = 0, w = 0;
  int64_t elems() const { return static_cast<int64_t>(c) * h * w; }
};

struct ModelNode {
  std::string name;    ///< unique; for imported graphs the source node's name (used in every error message)
  ModelOp op = ModelOp::Conv;
  std::vector<int> inputs;  ///< tensor indices into ModelGraph::tensors (0 = the graph input)
  int output = -1;          ///< tensor index this node produces (each tensor produced by exactly one node)
  // Conv
  int cout = 0;
  bool fc = false;
  std::vector<float> weight;  ///< empty when the graph carries no weights (shapes only)
  std::vector<float> bias;    ///< empty = zero
  Activation act = Activation::None;
  float clip_max = 0;  ///< Activation::Clip only
  // Conv, pools
  int kernel = 1, stride = 1, pad = 0;
  // Conv: groups; ChannelShuffle: groups
  int groups = 1;
  // Split
  int begin = 0, end = 0;
  /// Optional fixed activation range of this node's output from a quantised (QDQ) source: the scale of its
  /// int8 code (real = scale * q). 0 = none (calibrate).
  double out_scale = 0;
  /// Conv: optional per-output-channel weight scales from a quantised (QDQ) source (real w = scale * int8
  /// code, codes in [-127, 127]); one value or cout values; empty = choose max|w| / 127 per channel.
  std::vector<double> weight_scale;
};

struct ModelGraph {
  std::string name;                   ///< e.g. the ONNX file's stem or "squeezenet"
  std::vector<ModelTensor> tensors;   ///< tensors[0] is the graph input
  std::vector<ModelNode> nodes;       ///< topological (execution) order
  int output = -1;                    ///< logits tensor
  std::vector<double> input_mean, input_std;  ///< per input channel, on pixels scaled to [0,1]; empty = 0 / 1
  double input_scale = 0;             ///< QDQ input scale when given by the source; 0 = calibrate
  std::vector<std::string> notes;     ///< importer remarks for the user (e.g. QDQ scales not kept, and why)
  bool has_weights() const;           ///< every Conv node carries its weights

  /// Empty if consistent (indices, shapes, weight sizes); else the first problem, naming the node.
  std::string check() const;
};

/// Output shape (c, h, w; name left empty) node `n` produces from its inputs' shapes `in` (in the order of
/// n.inputs); empty string, or the reason it cannot (naming no node: the caller prefixes it).
std::string infer_model_shape(const ModelNode& n, const std::vector<ModelTensor>& in, ModelTensor& out);

}  // namespace cimsim::enos
