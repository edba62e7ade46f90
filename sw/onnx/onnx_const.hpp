#pragma once
// Internal to the ONNX importer: constant tensors (initializers, Constant nodes, folded shape arithmetic),
// attribute access and the constant folder. Not a public header.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace cimsim::onnx::detail {

/// A constant tensor. Values are held as double (exact for every int up to 2^53 and every float).
struct Const {
  std::vector<int64_t> dims;
  std::vector<double> v;
  int dtype = ::onnx::TensorProto_DataType_FLOAT;  ///< the ONNX element type it has
  /// Set when the tensor came out of DequantizeLinear of symmetric int8 codes (zero point 0): the scale(s)
  /// and the axis they run along (-1: one per tensor).
  std::vector<double> qscale;
  int qaxis = -1;
  bool is_int() const;
  int64_t numel() const;
};
using ConstPtr = std::shared_ptr<const Const>;

/// Decodes an initializer / Constant value. Throws ConfigError (message names `what`) on external data,
/// an unsupported element type, or data whose size does not match the dims.
Const decode_tensor(const ::onnx::TensorProto& t, const std::string& what);

/// Attribute lookup on a node (nullptr if absent).
const ::onnx::AttributeProto* find_attr(const ::onnx::NodeProto& n, const std::string& name);
int64_t attr_int(const ::onnx::NodeProto& n, const std::string& name, int64_t dflt);
float attr_float(const ::onnx::NodeProto& n, const std::string& name, float dflt);
std::string attr_string(const ::onnx::NodeProto& n, const std::string& name, const std::string& dflt);
std::vector<int64_t> attr_ints(const ::onnx::NodeProto& n, const std::string& name);
bool has_attr(const ::onnx::NodeProto& n, const std::string& name);

/// True if `op` can be evaluated on constant inputs by fold().
bool foldable(const std::string& op);
/// Evaluates a node all of whose inputs are constant (null entries: absent optional inputs). `opset` is the
/// model's default-domain opset. Throws ConfigError (message without the node: the caller prefixes it).
std::vector<Const> fold(const ::onnx::NodeProto& n, const std::vector<const Const*>& in, int opset);

/// The int64 values of a constant (checked: integer-valued).
std::vector<int64_t> as_ints(const Const& c, const std::string& what);

}  // namespace cimsim::onnx::detail
