// The float network graph (include/cimsim/enos/model_graph.hpp): names, shape inference and validation.
#include "cimsim/enos/model_graph.hpp"

#include <cmath>
#include <set>

namespace cimsim::enos {

namespace {

std::string shape_str(const ModelTensor& t) {
  return std::to_string(t.c) + "x" + std::to_string(t.h) + "x" + std::to_string(t.w);
}

constexpr int kMaxDim = 1 << 20;

}  // namespace

const char* model_op_name(ModelOp op) {
  switch (op) {
    case ModelOp::Conv: return "conv";
    case ModelOp::MaxPool: return "maxpool";
    case ModelOp::AvgPool: return "avgpool";
    case ModelOp::GlobalAvgPool: return "globalavgpool";
    case ModelOp::ChannelShuffle: return "channelshuffle";
    case ModelOp::Split: return "split";
    case ModelOp::Concat: return "concat";
    case ModelOp::Add: return "add";
    case ModelOp::Flatten: return "flatten";
  }
  return "?";
}

bool ModelGraph::has_weights() const {
  for (const ModelNode& n : nodes)
    if (n.op == ModelOp::Conv && n.weight.empty()) return false;
  return true;
}

std::string infer_model_shape(const ModelNode& n, const std::vector<ModelTensor>& in, ModelTensor& out) {
  out = ModelTensor{};
  const std::string op = model_op_name(n.op);
  auto one_input = [&]() -> std::string {
    if (in.size() != 1) return op + " takes 1 input, got " + std::to_string(in.size());
    return {};
  };
  auto window = [&](int pad) -> std::string {
    if (n.kernel < 1 || n.stride < 1 || pad < 0)
      return "kernel " + std::to_string(n.kernel) + ", stride " + std::to_string(n.stride) + ", pad " +
             std::to_string(pad) + ": need kernel >= 1, stride >= 1, pad >= 0";
    if (n.kernel > in[0].h + 2 * pad || n.kernel > in[0].w + 2 * pad)
      return "kernel " + std::to_string(n.kernel) + " is larger than the padded input " + shape_str(in[0]);
    out.h = (in[0].h + 2 * pad - n.kernel) / n.stride + 1;
    out.w = (in[0].w + 2 * pad - n.kernel) / n.stride + 1;
    return {};
  };
  std::string e;
  switch (n.op) {
    case ModelOp::Conv: {
      if (!(e = one_input()).empty()) return e;
      if (n.cout < 1 || n.cout > kMaxDim) return "cout " + std::to_string(n.cout) + " is not in [1, 2^20]";
      if (n.groups < 1 || in[0].c % n.groups != 0 || n.cout % n.groups != 0)
        return "groups " + std::to_string(n.groups) + " does not divide cin " + std::to_string(in[0].c) +
               " and cout " + std::to_string(n.cout);
      if (n.fc && (in[0].h != 1 || in[0].w != 1 || n.kernel != 1 || n.groups != 1))
        return "a fully connected layer needs a 1x1 input, kernel 1 and groups 1 (input " + shape_str(in[0]) + ")";
      if (!(e = window(n.pad)).empty()) return e;
      out.c = n.cout;
      return {};
    }
    case ModelOp::MaxPool:
    case ModelOp::AvgPool:
      if (!(e = one_input()).empty()) return e;
      if (n.op == ModelOp::AvgPool && n.pad != 0) return "avgpool needs pad 0 (got " + std::to_string(n.pad) + ")";
      if (2 * n.pad > n.kernel) return "pad " + std::to_string(n.pad) + " exceeds half the kernel " + std::to_string(n.kernel);
      if (!(e = window(n.pad)).empty()) return e;
      out.c = in[0].c;
      return {};
    case ModelOp::GlobalAvgPool:
      if (!(e = one_input()).empty()) return e;
      out.c = in[0].c;
      out.h = out.w = 1;
      return {};
    case ModelOp::ChannelShuffle:
      if (!(e = one_input()).empty()) return e;
      if (n.groups < 1 || in[0].c % n.groups != 0)
        return "groups " + std::to_string(n.groups) + " does not divide the " + std::to_string(in[0].c) + " channels";
      out = in[0];
      out.name.clear();
      return {};
    case ModelOp::Split:
      if (!(e = one_input()).empty()) return e;
      if (n.begin < 0 || n.end <= n.begin || n.end > in[0].c)
        return "channels [" + std::to_string(n.begin) + ", " + std::to_string(n.end) +
               ") are not a non-empty part of the " + std::to_string(in[0].c) + " input channels";
      out = {"", n.end - n.begin, in[0].h, in[0].w};
      return {};
    case ModelOp::Concat: {
      if (in.empty()) return "concat takes at least 1 input";
      int64_t c = 0;
      for (const ModelTensor& t : in) {
        if (t.h != in[0].h || t.w != in[0].w)
          return "concat inputs differ in height/width: " + shape_str(in[0]) + " and " + shape_str(t);
        c += t.c;
      }
      if (c > kMaxDim) return "concat gives more than 2^20 channels";
      out = {"", static_cast<int>(c), in[0].h, in[0].w};
      return {};
    }
    case ModelOp::Add:
      if (in.size() < 2) return "add takes at least 2 inputs, got " + std::to_string(in.size());
      for (const ModelTensor& t : in)
        if (t.c != in[0].c || t.h != in[0].h || t.w != in[0].w)
          return "add inputs differ in shape: " + shape_str(in[0]) + " and " + shape_str(t);
      out = in[0];
      out.name.clear();
      return {};
    case ModelOp::Flatten: {
      if (!(e = one_input()).empty()) return e;
      const int64_t c = in[0].elems();
      if (c > kMaxDim) return "flattening " + shape_str(in[0]) + " gives more than 2^20 channels";
      out = {"", static_cast<int>(c), 1, 1};
      return {};
    }
  }
  return "unknown op";
}

std::string ModelGraph::check() const {
  if (tensors.empty()) return "graph '" + name + "' has no tensors (tensors[0] is the input)";
  for (size_t t = 0; t < tensors.size(); ++t) {
    const ModelTensor& x = tensors[t];
    if (x.c < 1 || x.h < 1 || x.w < 1 || x.c > kMaxDim || x.h > kMaxDim || x.w > kMaxDim)
      return "tensor '" + x.name + "' has shape " + shape_str(x) + " (each dimension must be in [1, 2^20])";
  }
  const ModelTensor& in = tensors[0];
  if (!input_mean.empty() && static_cast<int>(input_mean.size()) != in.c)
    return "input_mean has " + std::to_string(input_mean.size()) + " values for " + std::to_string(in.c) + " channels";
  if (!input_std.empty() && static_cast<int>(input_std.size()) != in.c)
    return "input_std has " + std::to_string(input_std.size()) + " values for " + std::to_string(in.c) + " channels";
  for (double s : input_std)
    if (!std::isfinite(s) || s <= 0) return "input_std values must be finite and > 0";
  for (double m : input_mean)
    if (!std::isfinite(m)) return "input_mean values must be finite";
  if (!(input_scale == 0 || (std::isfinite(input_scale) && input_scale > 0)))
    return "input_scale must be 0 (calibrate) or finite and > 0";
  std::vector<int> producer(tensors.size(), -1);
  producer[0] = -2;
  std::set<std::string> names;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const ModelNode& n = nodes[i];
    const std::string lab = "node '" + n.name + "' (#" + std::to_string(i) + ", " + model_op_name(n.op) + ")";
    if (n.name.empty()) return "node #" + std::to_string(i) + " has no name";
    if (!names.insert(n.name).second) return lab + ": name is not unique";
    std::vector<ModelTensor> ins;
    for (int t : n.inputs) {
      if (t < 0 || t >= static_cast<int>(tensors.size()))
        return lab + ": input tensor index " + std::to_string(t) + " is out of range";
      if (producer[static_cast<size_t>(t)] == -1)
        return lab + ": input tensor '" + tensors[static_cast<size_t>(t)].name + "' is not produced before it";
      ins.push_back(tensors[static_cast<size_t>(t)]);
    }
    if (n.output <= 0 || n.output >= static_cast<int>(tensors.size()))
      return lab + ": output tensor index " + std::to_string(n.output) + " is out of range (or the input)";
    if (producer[static_cast<size_t>(n.output)] != -1)
      return lab + ": output tensor '" + tensors[static_cast<size_t>(n.output)].name + "' is produced twice";
    producer[static_cast<size_t>(n.output)] = static_cast<int>(i);
    ModelTensor out;
    if (std::string e = infer_model_shape(n, ins, out); !e.empty()) return lab + ": " + e;
    const ModelTensor& decl = tensors[static_cast<size_t>(n.output)];
    if (decl.c != out.c || decl.h != out.h || decl.w != out.w)
      return lab + ": output tensor '" + decl.name + "' is declared " + shape_str(decl) + " but the node produces " +
             shape_str(out);
    if (n.act == Activation::Clip && !(std::isfinite(n.clip_max) && n.clip_max > 0))
      return lab + ": clip_max must be finite and > 0";
    if (n.act != Activation::None && n.op != ModelOp::Conv && n.op != ModelOp::Add)
      return lab + ": only conv and add nodes carry a fused activation";
    if (!(n.out_scale == 0 || (std::isfinite(n.out_scale) && n.out_scale > 0)))
      return lab + ": out_scale must be 0 (calibrate) or finite and > 0";
    if (n.op == ModelOp::Conv) {
      const int64_t wn = static_cast<int64_t>(n.cout) * (ins[0].c / n.groups) * n.kernel * n.kernel;
      if (!n.weight.empty() && static_cast<int64_t>(n.weight.size()) != wn)
        return lab + ": weight has " + std::to_string(n.weight.size()) + " values, the shape needs " + std::to_string(wn);
      if (!n.bias.empty() && static_cast<int>(n.bias.size()) != n.cout)
        return lab + ": bias has " + std::to_string(n.bias.size()) + " values for " + std::to_string(n.cout) + " outputs";
      for (float v : n.weight)
        if (!std::isfinite(v)) return lab + ": weight holds a non-finite value";
      for (float v : n.bias)
        if (!std::isfinite(v)) return lab + ": bias holds a non-finite value";
    }
  }
  for (size_t t = 1; t < tensors.size(); ++t)
    if (producer[t] == -1) return "tensor '" + tensors[t].name + "' is declared but no node produces it";
  if (output < 0 || output >= static_cast<int>(tensors.size())) return "output tensor index is out of range";
  return {};
}

}  // namespace cimsim::enos
