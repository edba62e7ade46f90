// ONNX -> enos::ModelGraph (include/cimsim/onnx/import.hpp; the operator list and rules are in docs/onnx.md).
// The graph is walked in topological order. Every ONNX value becomes either a constant (initializers,
// Constant nodes, shape arithmetic folded for the fixed input shape) or an activation: a ModelGraph tensor
// of rank 4 (1,C,H,W) or rank 2 (1,C) (held as C x 1 x 1). BatchNormalization, Relu, Clip and a constant Add
// fuse into the Conv/Gemm/Add producing their input; Reshape-Transpose-Reshape becomes a ChannelShuffle;
// QuantizeLinear/DequantizeLinear pairs become scales. Everything else is refused naming the node.
#include "cimsim/onnx/import.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cimsim/core/error.hpp"
#include "onnx_const.hpp"

namespace cimsim::onnx {

using enos::Activation;
using enos::ModelGraph;
using enos::ModelNode;
using enos::ModelOp;
using enos::ModelTensor;
using namespace detail;

const char* supported_ops() {
  return "Conv, Gemm, MatMul (constant weight), BatchNormalization (after Conv/Gemm), Relu, Clip (min 0), "
         "MaxPool, AveragePool, GlobalAveragePool, ReduceMean (over H,W), Add, Concat, Flatten, Reshape, "
         "Transpose (channel shuffle), Split, Slice (channels), Pad (all zero), Identity, Dropout, QuantizeLinear, "
         "DequantizeLinear, Constant, Shape, and on constants: Gather, Unsqueeze, Squeeze, Sub, Mul, Div, Cast";
}

namespace {

constexpr int64_t kMaxActivationElems = int64_t{1} << 27;  // per tensor and image (float: 512 MiB)

enum class VKind { Const, Act, Shuffle5, ShuffleT, Quant };

struct Value {
  VKind kind = VKind::Const;
  ConstPtr c;        // Const
  int t = -1;        // tensor (Act, Shuffle*, Quant)
  int rank = 4;      // Act: 4 = (1,C,H,W), 2 = (1,C)
  int groups = 0;    // Shuffle*
  double scale = 0;  // Quant: the activation scale if representable (symmetric int8), else 0
  std::string why_not;  // Quant: why the scale is not kept
};

class Importer {
 public:
  Importer(std::string path, const ImportOptions& opt) : path_(std::move(path)), opt_(opt) {}
  ModelGraph run();

 private:
  std::string path_;
  ImportOptions opt_;
  ::onnx::ModelProto m_;
  int opset_ = 0;
  ModelGraph g_;
  std::map<std::string, Value> vals_;
  std::map<std::string, int> uses_;
  std::vector<int> prod_;  // tensor -> node index (-1: the input)
  std::map<int, std::set<std::string>> names_;  // tensor -> every ONNX value name it stands for
  const ::onnx::NodeProto* cur_ = nullptr;
  std::string cur_name_;
  std::set<std::string> node_names_;

  [[noreturn]] void fail(const std::string& msg) const {
    if (cur_) throw ConfigError(path_ + ": node '" + cur_name_ + "' (" + cur_->op_type() + "): " + msg);
    throw ConfigError(path_ + ": " + msg);
  }
  void read_file();
  void setup_input();
  void node(const ::onnx::NodeProto& n);
  const Value& in(int i) const;
  bool has_in(int i) const { return i < cur_->input_size() && !cur_->input(i).empty(); }
  const Const& cin(int i, const char* what) const;
  const Value& act(int i, int rank) const;  // rank 0: any
  void set(int out_i, Value v);
  void alias(const Value& v) { set(0, v); }
  int add(ModelNode n, int c, int h, int w, int out_i = 0);
  ModelTensor shape(int t) const { return g_.tensors[static_cast<size_t>(t)]; }
  ModelNode* fusable(const Value& v, bool allow_act);
  void conv();
  void gemm(bool matmul);
  void batchnorm();
  void activation(bool clip);
  void pool(ModelOp op);
  void add_op();
  void concat();
  void reshape();
  void split();
  void slice();
  void qdq(bool quantize);
  void finish();
};

const Value& Importer::in(int i) const {
  if (!has_in(i)) fail("input #" + std::to_string(i) + " is missing");
  auto it = vals_.find(cur_->input(i));
  if (it == vals_.end()) fail("input '" + cur_->input(i) + "' is not defined");
  return it->second;
}

const Const& Importer::cin(int i, const char* what) const {
  const Value& v = in(i);
  if (v.kind != VKind::Const)
    fail(std::string(what) + " (input '" + cur_->input(i) + "') must be a constant (an initializer), not computed from the image");
  return *v.c;
}

const Value& Importer::act(int i, int rank) const {
  const Value& v = in(i);
  if (v.kind != VKind::Act) {
    if (v.kind == VKind::Const) fail("input '" + cur_->input(i) + "' is a constant; cimsim needs an activation here");
    fail("input '" + cur_->input(i) + "' comes out of an unfinished pattern (a channel-shuffle Reshape/Transpose or a "
         "QuantizeLinear without its DequantizeLinear)");
  }
  if (rank && v.rank != rank)
    fail("input '" + cur_->input(i) + "' has rank " + std::to_string(v.rank) + "; this node needs rank " + std::to_string(rank) +
         (rank == 4 ? " (N,C,H,W)" : " (N,C)"));
  return v;
}

void Importer::set(int out_i, Value v) {
  if (out_i >= cur_->output_size() || cur_->output(out_i).empty()) return;
  if (v.kind != VKind::Const) names_[v.t].insert(cur_->output(out_i));
  vals_[cur_->output(out_i)] = std::move(v);
}

int Importer::add(ModelNode n, int c, int h, int w, int out_i) {
  const std::string tname = out_i < cur_->output_size() ? cur_->output(out_i) : cur_name_;
  if (c < 1 || h < 1 || w < 1) fail("produces an empty tensor " + std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w));
  if (static_cast<int64_t>(c) * h * w > kMaxActivationElems)
    fail("produces a " + std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w) + " tensor, more than cimsim's limit of 2^27 values per tensor");
  g_.tensors.push_back({tname, c, h, w});
  const int t = static_cast<int>(g_.tensors.size()) - 1;
  n.output = t;
  if (n.name.empty()) n.name = cur_name_;
  if (!node_names_.insert(n.name).second) {
    int k = 2;
    while (!node_names_.insert(n.name + "." + std::to_string(k)).second) ++k;
    n.name += "." + std::to_string(k);
  }
  std::vector<ModelTensor> ins;
  for (int x : n.inputs) ins.push_back(shape(x));
  ModelTensor o;
  if (std::string e = enos::infer_model_shape(n, ins, o); !e.empty()) fail(e);
  if (o.c != c || o.h != h || o.w != w) fail("internal shape mismatch");
  g_.nodes.push_back(std::move(n));
  prod_.push_back(static_cast<int>(g_.nodes.size()) - 1);
  return t;
}

// The node producing activation v if the current node may fuse into it: a Conv (or, with allow_act, an
// Add) whose output feeds only the current node and is not a graph output.
ModelNode* Importer::fusable(const Value& v, bool add_ok) {
  const int p = prod_[static_cast<size_t>(v.t)];
  if (p < 0) return nullptr;
  ModelNode& n = g_.nodes[static_cast<size_t>(p)];
  if (n.op != ModelOp::Conv && !(add_ok && n.op == ModelOp::Add)) return nullptr;
  int consumers = 0;  // over every name of the tensor (Identity/Dropout/QDQ aliases included)
  for (const auto& name : names_[v.t]) consumers += uses_[name];
  const int alias_links = static_cast<int>(names_[v.t].size()) - 1;  // each alias consumed its predecessor once
  if (consumers - alias_links != 1) return nullptr;
  return &n;
}

void Importer::read_file() {
  struct stat st {};
  if (::stat(path_.c_str(), &st) != 0) throw IoError(path_ + ": cannot open (no such file or not readable)");
  if (!S_ISREG(st.st_mode)) throw ConfigError(path_ + ": not a regular file");
  if (st.st_size > kMaxOnnxFileBytes)
    throw ConfigError(path_ + ": " + std::to_string(st.st_size) + " bytes exceeds the limit of " + std::to_string(kMaxOnnxFileBytes) +
                      " bytes for an ONNX model");
  std::ifstream f(path_, std::ios::binary);
  if (!f) throw IoError(path_ + ": cannot open for reading");
  std::string data(static_cast<size_t>(st.st_size), '\0');
  if (!f.read(data.data(), static_cast<std::streamsize>(data.size())))
    throw IoError(path_ + ": read failed");
  if (data.empty() || !m_.ParseFromString(data))
    throw ConfigError(path_ + ": not an ONNX model (the protobuf does not parse: truncated or another format)");
  if (!m_.has_graph() || m_.graph().node_size() == 0)
    throw ConfigError(path_ + ": not an ONNX model (no graph or an empty graph)");
  for (const auto& os : m_.opset_import())
    if (os.domain().empty() || os.domain() == "ai.onnx") opset_ = static_cast<int>(os.version());
  if (opset_ < 11 || opset_ > 17)
    throw ConfigError(path_ + ": opset " + std::to_string(opset_) + " of the default domain is not supported (cimsim reads opsets 11 to 17; "
                      "re-export with e.g. torch.onnx.export(..., opset_version=13))");
}

void Importer::setup_input() {
  const auto& gr = m_.graph();
  std::set<std::string> inits;
  for (const auto& t : gr.initializer()) {
    inits.insert(t.name());
    try {
      vals_[t.name()] = Value{VKind::Const, std::make_shared<Const>(decode_tensor(t, "initializer '" + t.name() + "'")), -1, 4, 0, 0, {}};
    } catch (const ConfigError& e) {
      fail(e.what());
    }
  }
  const ::onnx::ValueInfoProto* input = nullptr;
  for (const auto& i : gr.input()) {
    if (inits.count(i.name())) continue;
    if (input) fail("the graph has more than one input ('" + input->name() + "', '" + i.name() + "'); cimsim takes one image input");
    input = &i;
  }
  if (!input) fail("the graph has no input (every input is an initializer)");
  if (gr.output_size() != 1)
    fail("the graph has " + std::to_string(gr.output_size()) + " outputs; cimsim takes one (the logits)");
  const auto& tt = input->type().tensor_type();
  if (tt.elem_type() != ::onnx::TensorProto_DataType_FLOAT)
    fail("input '" + input->name() + "' has element type " + std::to_string(tt.elem_type()) + "; cimsim needs float images");
  std::vector<int64_t> dims;
  std::string shown = "[";
  for (const auto& d : tt.shape().dim()) {
    dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
    shown += (shown.size() > 1 ? "," : "") + (d.has_dim_value() ? std::to_string(d.dim_value()) : (d.dim_param().empty() ? std::string("?") : d.dim_param()));
  }
  shown += "]";
  if (dims.size() != 4) fail("input '" + input->name() + "' has shape " + shown + "; cimsim needs an image input N,C,H,W");
  if (dims[0] > 1) fail("input '" + input->name() + "' has batch " + std::to_string(dims[0]) + "; export with batch 1 or a dynamic batch");
  std::vector<int> chw;
  const bool dynamic = dims[1] < 1 || dims[2] < 1 || dims[3] < 1;
  if (!opt_.input_shape.empty()) {
    if (opt_.input_shape.size() != 3) fail("--input-shape needs 3 values C,H,W");
    for (int x : opt_.input_shape)
      if (x < 1 || x > (1 << 16)) fail("--input-shape values must be in [1, 65536]");
    for (int k = 0; k < 3; ++k)
      if (dims[static_cast<size_t>(k) + 1] > 0 && dims[static_cast<size_t>(k) + 1] != opt_.input_shape[static_cast<size_t>(k)])
        fail("--input-shape " + std::to_string(opt_.input_shape[0]) + "," + std::to_string(opt_.input_shape[1]) + "," +
             std::to_string(opt_.input_shape[2]) + " contradicts the model's input '" + input->name() + "' " + shown);
    chw = opt_.input_shape;
  } else {
    if (dynamic) fail("input '" + input->name() + "' has a dynamic shape " + shown + "; give the image size with --input-shape C,H,W");
    chw = {static_cast<int>(dims[1]), static_cast<int>(dims[2]), static_cast<int>(dims[3])};
  }
  g_.tensors.push_back({input->name(), chw[0], chw[1], chw[2]});
  prod_.push_back(-1);
  vals_[input->name()] = Value{VKind::Act, nullptr, 0, 4, 0, 0, {}};
  for (const auto& n : gr.node())  // consumers of each value (a Shape reads only the shape: not a consumer)
    if (n.op_type() != "Shape")
      for (const auto& x : n.input()) ++uses_[x];
  ++uses_[gr.output(0).name()];
}

void Importer::conv() {
  const Value& x = act(0, 4);
  const Const& w = cin(1, "the weight");
  const ModelTensor s = shape(x.t);
  if (w.dims.size() != 4) fail("weight has rank " + std::to_string(w.dims.size()) + "; only 2-D convolutions are supported");
  const int64_t cout = w.dims[0], cpg = w.dims[1], kh = w.dims[2], kw = w.dims[3];
  const int64_t groups = attr_int(*cur_, "group", 1);
  if (groups < 1 || s.c % groups != 0 || cpg * groups != s.c || cout % groups != 0)
    fail("group " + std::to_string(groups) + " with weight [" + std::to_string(cout) + "," + std::to_string(cpg) + ",..] does not fit " +
         std::to_string(s.c) + " input channels");
  if (kh != kw) fail("kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " is not square (the accelerator takes square kernels)");
  for (int64_t d : attr_ints(*cur_, "dilations"))
    if (d != 1) fail("dilation " + std::to_string(d) + " is not supported (only 1)");
  auto ks = attr_ints(*cur_, "kernel_shape");
  if (!ks.empty() && (ks.size() != 2 || ks[0] != kh || ks[1] != kw)) fail("kernel_shape does not match the weight");
  auto strides = attr_ints(*cur_, "strides");
  if (strides.empty()) strides = {1, 1};
  if (strides.size() != 2 || strides[0] != strides[1] || strides[0] < 1)
    fail("strides must be equal in both directions (got " + std::to_string(strides[0]) + "," + std::to_string(strides.size() > 1 ? strides[1] : 0) + ")");
  int64_t pad = 0;
  const std::string ap = attr_string(*cur_, "auto_pad", "NOTSET");
  if (ap == "NOTSET") {
    auto pads = attr_ints(*cur_, "pads");
    if (!pads.empty()) {
      if (pads.size() != 4 || !std::all_of(pads.begin(), pads.end(), [&](int64_t p) { return p == pads[0]; }))
        fail("asymmetric pads [" + [&] { std::string r; for (auto p : pads) r += (r.empty() ? "" : ",") + std::to_string(p); return r; }() +
             "]; the accelerator pads every side equally");
      pad = pads[0];
    }
  } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    if (strides[0] != 1 || kh % 2 == 0) fail("auto_pad " + ap + " is supported only with stride 1 and an odd kernel (symmetric padding)");
    pad = (kh - 1) / 2;
  } else if (ap != "VALID") {
    fail("auto_pad '" + ap + "' is not supported");
  }
  if (pad < 0 || pad >= kh) fail("pad " + std::to_string(pad) + " is out of range for kernel " + std::to_string(kh));
  ModelNode n;
  n.op = ModelOp::Conv;
  n.inputs = {x.t};
  n.cout = static_cast<int>(cout);
  n.kernel = static_cast<int>(kh);
  n.stride = static_cast<int>(strides[0]);
  n.pad = static_cast<int>(pad);
  n.groups = static_cast<int>(groups);
  n.weight.assign(w.v.begin(), w.v.end());
  if (!w.qscale.empty()) {
    if (w.qaxis == -1 || (w.qaxis == 0 && static_cast<int64_t>(w.qscale.size()) == cout)) n.weight_scale = w.qscale;
    else g_.notes.push_back("node '" + cur_name_ + "': QDQ weight scales not along the output channels; weights re-quantised per channel");
  }
  if (has_in(2)) {
    const Const& b = cin(2, "the bias");
    if (b.numel() != cout) fail("bias has " + std::to_string(b.numel()) + " values for " + std::to_string(cout) + " output channels");
    n.bias.assign(b.v.begin(), b.v.end());
  }
  const int oh = static_cast<int>((s.h + 2 * pad - kh) / strides[0] + 1), ow = static_cast<int>((s.w + 2 * pad - kw) / strides[0] + 1);
  if (s.h + 2 * pad < kh || s.w + 2 * pad < kw) fail("kernel " + std::to_string(kh) + " is larger than the padded input");
  const int t = add(std::move(n), static_cast<int>(cout), oh, ow);
  alias(Value{VKind::Act, nullptr, t, 4, 0, 0, {}});
}

void Importer::gemm(bool matmul) {
  const Value& a = in(0);
  if (a.kind != VKind::Act) act(0, 0);
  const ModelTensor s = shape(a.t);
  if (a.rank == 4 && (s.h != 1 || s.w != 1))
    fail("input '" + cur_->input(0) + "' is " + std::to_string(s.c) + "x" + std::to_string(s.h) + "x" + std::to_string(s.w) +
         "; a fully connected layer needs a flattened input (insert Flatten)");
  const Const& b = cin(1, "the weight");
  if (b.dims.size() != 2) fail("weight has rank " + std::to_string(b.dims.size()) + "; need a 2-D matrix");
  bool transb = !matmul && attr_int(*cur_, "transB", 0) != 0;
  if (!matmul && attr_int(*cur_, "transA", 0) != 0) fail("transA = 1 is not supported");
  const double alpha = matmul ? 1.0 : attr_float(*cur_, "alpha", 1.0f), beta = matmul ? 1.0 : attr_float(*cur_, "beta", 1.0f);
  const int64_t K = transb ? b.dims[1] : b.dims[0], N = transb ? b.dims[0] : b.dims[1];
  if (K != s.c) fail("weight " + std::to_string(b.dims[0]) + "x" + std::to_string(b.dims[1]) + " does not take " + std::to_string(s.c) + " inputs");
  ModelNode n;
  n.op = ModelOp::Conv;
  n.fc = true;
  n.inputs = {a.t};
  n.cout = static_cast<int>(N);
  n.weight.resize(static_cast<size_t>(N * K));
  for (int64_t o = 0; o < N; ++o)
    for (int64_t k = 0; k < K; ++k)
      n.weight[static_cast<size_t>(o * K + k)] =
          static_cast<float>(alpha * b.v[static_cast<size_t>(transb ? o * K + k : k * N + o)]);
  if (!b.qscale.empty() && alpha == 1.0) {
    if (b.qaxis == -1) n.weight_scale = b.qscale;
    else if (b.qaxis == (transb ? 0 : 1)) n.weight_scale = b.qscale;
  }
  if (!matmul && has_in(2)) {
    const Const& c = cin(2, "the bias");
    if (c.numel() != N && c.numel() != 1) fail("bias has " + std::to_string(c.numel()) + " values for " + std::to_string(N) + " outputs");
    n.bias.resize(static_cast<size_t>(N));
    for (int64_t o = 0; o < N; ++o) n.bias[static_cast<size_t>(o)] = static_cast<float>(beta * c.v[c.numel() == 1 ? 0 : static_cast<size_t>(o)]);
  }
  const int t = add(std::move(n), static_cast<int>(N), 1, 1);
  alias(Value{VKind::Act, nullptr, t, 2, 0, 0, {}});
}

void Importer::batchnorm() {
  const Value& x = act(0, 0);
  ModelNode* p = fusable(x, false);
  if (!p || p->act != Activation::None)
    fail("BatchNormalization must directly follow a Conv/Gemm whose output feeds only it (it is folded into that layer; "
         "a standalone BatchNormalization has no accelerator equivalent)");
  if (cur_->output_size() > 1)
    for (int i = 1; i < cur_->output_size(); ++i)
      if (!cur_->output(i).empty() && uses_[cur_->output(i)] > 0) fail("training-mode outputs (running mean/var) are not supported");
  const Const &sc = cin(1, "scale"), &b = cin(2, "B"), &mean = cin(3, "mean"), &var = cin(4, "var");
  const double eps = attr_float(*cur_, "epsilon", 1e-5f);
  const int64_t C = p->cout;
  for (const Const* c : {&sc, &b, &mean, &var})
    if (c->numel() != C) fail("parameters have " + std::to_string(c->numel()) + " values for " + std::to_string(C) + " channels");
  const size_t per = p->weight.size() / static_cast<size_t>(C);
  if (p->bias.empty()) p->bias.assign(static_cast<size_t>(C), 0.0f);
  for (int64_t c = 0; c < C; ++c) {
    const size_t k = static_cast<size_t>(c);
    if (var.v[k] + eps <= 0) fail("variance + epsilon <= 0 in channel " + std::to_string(c));
    const double f = sc.v[k] / std::sqrt(var.v[k] + eps);
    for (size_t i = 0; i < per; ++i) p->weight[k * per + i] = static_cast<float>(p->weight[k * per + i] * f);
    p->bias[k] = static_cast<float>((p->bias[k] - mean.v[k]) * f + b.v[k]);
  }
  p->weight_scale.clear();  // folding changes the weights
  alias(x);
}

void Importer::activation(bool clip) {
  const Value& x = act(0, 0);
  ModelNode* p = fusable(x, true);
  double lo = 0, hi = INFINITY;
  if (clip) {
    lo = -INFINITY;
    if (opset_ < 11) {
      lo = attr_float(*cur_, "min", -INFINITY);
      hi = attr_float(*cur_, "max", INFINITY);
    } else {
      if (has_in(1)) {
        const Const& c = cin(1, "min");
        if (c.numel() != 1) fail("min must be a scalar");
        lo = c.v[0];
      }
      if (has_in(2)) {
        const Const& c = cin(2, "max");
        if (c.numel() != 1) fail("max must be a scalar");
        hi = c.v[0];
      }
    }
    if (lo != 0 || !(hi > 0))
      fail("Clip to [" + std::to_string(lo) + ", " + std::to_string(hi) + "]: only Clip with min 0 and max > 0 (ReLU6-like) is supported");
  }
  if (!p || (p->act != Activation::None && !(p->act == Activation::Relu)))
    fail(std::string(clip ? "Clip" : "Relu") + " must directly follow a Conv, Gemm or Add whose output feeds only it (it is fused there as the "
         "requantisation clamp)");
  if (std::isinf(hi)) {
    if (p->act == Activation::None) p->act = Activation::Relu;
  } else {
    if (p->op != ModelOp::Conv) fail("Clip with a max after Add is not supported (only ReLU)");
    p->act = Activation::Clip;
    p->clip_max = static_cast<float>(hi);
  }
  alias(x);
}

void Importer::pool(ModelOp op) {
  const Value& x = act(0, 4);
  const ModelTensor s = shape(x.t);
  for (int i = 1; i < cur_->output_size(); ++i)
    if (!cur_->output(i).empty() && uses_[cur_->output(i)] > 0) fail("the Indices output is not supported");
  ModelNode n;
  n.op = op;
  n.inputs = {x.t};
  if (op == ModelOp::GlobalAvgPool) {
    if (cur_->op_type() == "ReduceMean") {
      auto axes = attr_ints(*cur_, "axes");
      for (auto& a : axes) a = a < 0 ? a + 4 : a;
      std::sort(axes.begin(), axes.end());
      if (axes != std::vector<int64_t>{2, 3})
        fail("ReduceMean is supported only over the spatial axes [2,3] (a global average pool)");
      const int t = add(std::move(n), s.c, 1, 1);
      alias(Value{VKind::Act, nullptr, t, attr_int(*cur_, "keepdims", 1) ? 4 : 2, 0, 0, {}});
      return;
    }
    const int t = add(std::move(n), s.c, 1, 1);
    alias(Value{VKind::Act, nullptr, t, 4, 0, 0, {}});
    return;
  }
  if (attr_string(*cur_, "auto_pad", "NOTSET") != "NOTSET" && attr_string(*cur_, "auto_pad", "NOTSET") != "VALID")
    fail("auto_pad " + attr_string(*cur_, "auto_pad", "") + " is not supported (give explicit pads)");
  auto ks = attr_ints(*cur_, "kernel_shape");
  if (ks.size() != 2 || ks[0] != ks[1] || ks[0] < 1) fail("kernel_shape must be square and 2-D");
  auto st = attr_ints(*cur_, "strides");
  if (st.empty()) st = {1, 1};
  if (st.size() != 2 || st[0] != st[1] || st[0] < 1) fail("strides must be equal in both directions");
  for (int64_t d : attr_ints(*cur_, "dilations"))
    if (d != 1) fail("dilation " + std::to_string(d) + " is not supported");
  if (attr_int(*cur_, "storage_order", 0) != 0) fail("storage_order 1 is not supported");
  auto pads = attr_ints(*cur_, "pads");
  int64_t pad = 0;
  if (!pads.empty()) {
    if (pads.size() != 4 || !std::all_of(pads.begin(), pads.end(), [&](int64_t p) { return p == pads[0]; }))
      fail("asymmetric pads; the accelerator pads every side equally");
    pad = pads[0];
  }
  if (op == ModelOp::AvgPool && pad != 0) fail("AveragePool with padding is not supported (the accelerator's average pool has no padding)");
  if (2 * pad > ks[0]) fail("pad " + std::to_string(pad) + " exceeds half the kernel");
  if (s.h + 2 * pad < ks[0] || s.w + 2 * pad < ks[0]) fail("kernel is larger than the padded input");
  const int64_t fh = (s.h + 2 * pad - ks[0]) / st[0] + 1, fw = (s.w + 2 * pad - ks[0]) / st[0] + 1;
  if (attr_int(*cur_, "ceil_mode", 0)) {
    auto ceil_out = [&](int64_t d) {
      int64_t o = (d + 2 * pad - ks[0] + st[0] - 1) / st[0] + 1;
      if ((o - 1) * st[0] >= d + pad) --o;  // the last window must start inside the input or left padding
      return o;
    };
    if (ceil_out(s.h) != fh || ceil_out(s.w) != fw)
      fail("ceil_mode = 1 gives " + std::to_string(ceil_out(s.h)) + "x" + std::to_string(ceil_out(s.w)) + " outputs where the accelerator's floor "
           "rounding gives " + std::to_string(fh) + "x" + std::to_string(fw) + " at this input size");
  }
  n.kernel = static_cast<int>(ks[0]);
  n.stride = static_cast<int>(st[0]);
  n.pad = static_cast<int>(pad);
  const int t = add(std::move(n), s.c, static_cast<int>(fh), static_cast<int>(fw));
  alias(Value{VKind::Act, nullptr, t, 4, 0, 0, {}});
}

void Importer::add_op() {
  const Value& a = in(0);
  const Value& b = in(1);
  if (a.kind == VKind::Act && b.kind == VKind::Act) {
    if (a.rank != b.rank) fail("inputs differ in rank");
    const ModelTensor sa = shape(a.t), sb = shape(b.t);
    if (sa.c != sb.c || sa.h != sb.h || sa.w != sb.w) fail("inputs differ in shape (broadcasting between activations is not supported)");
    ModelNode n;
    n.op = ModelOp::Add;
    n.inputs = {a.t, b.t};
    const int t = add(std::move(n), sa.c, sa.h, sa.w);
    alias(Value{VKind::Act, nullptr, t, a.rank, 0, 0, {}});
    return;
  }
  // activation + constant: a bias, folded into the producing Conv/Gemm.
  const bool a_act = a.kind == VKind::Act;
  const Value& x = a_act ? a : b;
  const Value& c = a_act ? b : a;
  if (x.kind != VKind::Act || c.kind != VKind::Const) act(a_act ? 1 : 0, 0);
  if (!a_act) fail("a constant first operand is not supported (put the activation first)");
  ModelNode* p = fusable(x, false);
  if (!p || p->act != Activation::None)
    fail("adding a constant is supported only as the bias of the Conv/Gemm/MatMul directly before it (whose output feeds only this Add)");
  const Const& k = *c.c;
  const int C = p->cout;
  // The constant may vary only along the channel axis.
  const size_t r = static_cast<size_t>(x.rank);
  if (k.dims.size() > r) fail("constant has a higher rank than the activation");
  for (size_t i = 0; i < k.dims.size(); ++i) {
    const size_t axis = r - k.dims.size() + i;
    if (k.dims[i] != 1 && !(axis == 1 && k.dims[i] == C)) fail("constant varies along an axis other than the channels");
  }
  if (p->bias.empty()) p->bias.assign(static_cast<size_t>(C), 0.0f);
  for (int o = 0; o < C; ++o) p->bias[static_cast<size_t>(o)] += static_cast<float>(k.v[k.numel() == 1 ? 0 : static_cast<size_t>(o)]);
  alias(x);
}

void Importer::concat() {
  const int64_t axis = attr_int(*cur_, "axis", 0);
  const Value& a0 = act(0, 0);
  const int64_t ax = axis < 0 ? axis + a0.rank : axis;
  if (ax != 1) fail("Concat along axis " + std::to_string(axis) + ": only the channel axis (1) is supported");
  ModelNode n;
  n.op = ModelOp::Concat;
  int c = 0;
  for (int i = 0; i < cur_->input_size(); ++i) {
    const Value& v = act(i, a0.rank);
    const ModelTensor s = shape(v.t);
    if (s.h != shape(a0.t).h || s.w != shape(a0.t).w) fail("inputs differ in height/width");
    n.inputs.push_back(v.t);
    c += s.c;
  }
  const ModelTensor s0 = shape(a0.t);
  const int t = add(std::move(n), c, s0.h, s0.w);
  alias(Value{VKind::Act, nullptr, t, a0.rank, 0, 0, {}});
}

void Importer::reshape() {
  const Value& x = in(0);
  std::vector<int64_t> sh = as_ints(cin(1, "the target shape"), "shape");
  if (x.kind == VKind::Const) return;  // handled by folding
  const ModelTensor s = shape(x.t);
  std::vector<int64_t> id;  // the input's ONNX dims
  if (x.kind == VKind::Act) id = x.rank == 4 ? std::vector<int64_t>{1, s.c, s.h, s.w} : std::vector<int64_t>{1, s.c};
  else if (x.kind == VKind::Shuffle5) id = {1, x.groups, s.c / x.groups, s.h, s.w};
  else if (x.kind == VKind::ShuffleT) id = {1, s.c / x.groups, x.groups, s.h, s.w};
  else fail("input comes out of a QuantizeLinear without its DequantizeLinear");
  const int64_t total = s.elems();
  int neg = -1;
  int64_t known = 1;
  for (size_t i = 0; i < sh.size(); ++i) {
    if (sh[i] == 0 && attr_int(*cur_, "allowzero", 0) == 0) {
      if (i >= id.size()) fail("shape copies a dimension the input lacks");
      sh[i] = id[i];
    }
    if (sh[i] == -1) {
      if (neg >= 0) fail("two -1 dimensions");
      neg = static_cast<int>(i);
    } else if (sh[i] < 1 || sh[i] > total) {
      fail("target dimension " + std::to_string(sh[i]) + " is not possible for " + std::to_string(total) + " values");
    } else {
      known = std::min(known * sh[i], total + 1);  // both factors <= total + 1 < 2^28: no overflow
    }
  }
  if (neg >= 0) sh[static_cast<size_t>(neg)] = total / known;
  int64_t prod = 1;
  for (int64_t d : sh) prod = std::min(prod * std::max<int64_t>(d, 0), total + 1);
  if (prod != total || sh.empty() || sh[0] != 1) fail("target shape does not hold the " + std::to_string(total) + " values of one image with batch 1");
  auto is = [&](std::vector<int64_t> want) { return sh == want; };
  if (x.kind == VKind::ShuffleT) {
    if (!is({1, s.c, s.h, s.w})) fail("a channel shuffle (Reshape-Transpose-Reshape) must reshape back to [1,C,H,W]");
    ModelNode n;
    n.op = ModelOp::ChannelShuffle;
    n.inputs = {x.t};
    n.groups = x.groups;
    const int t = add(std::move(n), s.c, s.h, s.w);
    alias(Value{VKind::Act, nullptr, t, 4, 0, 0, {}});
    return;
  }
  if (x.kind == VKind::Shuffle5) fail("a reshaped 5-D tensor must be transposed with perm [0,2,1,3,4] (channel shuffle)");
  if (sh.size() == 5 && sh[3] == s.h && sh[4] == s.w && x.rank == 4 && sh[1] * sh[2] == s.c) {
    alias(Value{VKind::Shuffle5, nullptr, x.t, 4, static_cast<int>(sh[1]), 0, {}});
    return;
  }
  if (x.rank == 4 && is({1, s.c, s.h, s.w})) return alias(x);
  if (sh.size() == 2) {  // flatten
    if (s.h == 1 && s.w == 1) return alias(Value{VKind::Act, nullptr, x.t, 2, 0, 0, {}});
    ModelNode n;
    n.op = ModelOp::Flatten;
    n.inputs = {x.t};
    const int t = add(std::move(n), static_cast<int>(total), 1, 1);
    alias(Value{VKind::Act, nullptr, t, 2, 0, 0, {}});
    return;
  }
  if (sh.size() == 4 && sh[2] == 1 && sh[3] == 1 && s.h == 1 && s.w == 1) return alias(Value{VKind::Act, nullptr, x.t, 4, 0, 0, {}});
  std::string d;
  for (int64_t v : sh) d += (d.empty() ? "" : ",") + std::to_string(v);
  fail("Reshape to [" + d + "] is not supported (only flattening, the channel-shuffle pattern and no-op reshapes)");
}

void Importer::split() {
  const Value& x = act(0, 0);
  const ModelTensor s = shape(x.t);
  int64_t axis = attr_int(*cur_, "axis", 0);
  if (axis < 0) axis += x.rank;
  if (axis != 1) fail("Split along axis " + std::to_string(attr_int(*cur_, "axis", 0)) + ": only the channel axis (1) is supported");
  std::vector<int64_t> parts;
  if (opset_ >= 13 && has_in(1)) parts = as_ints(cin(1, "split"), "split");
  else if (opset_ < 13) parts = attr_ints(*cur_, "split");
  const int k = cur_->output_size();
  if (parts.empty()) {
    if (s.c % k != 0) fail(std::to_string(s.c) + " channels do not split into " + std::to_string(k) + " equal parts");
    parts.assign(static_cast<size_t>(k), s.c / k);
  }
  if (static_cast<int>(parts.size()) != k) fail("split sizes do not match the number of outputs");
  int64_t sum = 0;
  for (int64_t p : parts) {
    if (p < 1) fail("empty split part");
    sum += p;
  }
  if (sum != s.c) fail("split sizes add up to " + std::to_string(sum) + ", not the " + std::to_string(s.c) + " channels");
  int b = 0;
  for (int i = 0; i < k; ++i) {
    const int e = b + static_cast<int>(parts[static_cast<size_t>(i)]);
    if (cur_->output(i).empty() || uses_[cur_->output(i)] == 0) {
      b = e;
      continue;
    }
    ModelNode n;
    n.op = ModelOp::Split;
    n.inputs = {x.t};
    n.begin = b;
    n.end = e;
    n.name = cur_name_ + (k > 1 ? "." + std::to_string(i) : "");
    const int t = add(std::move(n), e - b, s.h, s.w, i);
    set(i, Value{VKind::Act, nullptr, t, x.rank, 0, 0, {}});
    b = e;
  }
}

void Importer::slice() {
  const Value& x = act(0, 0);
  const ModelTensor s = shape(x.t);
  const std::vector<int64_t> st = as_ints(cin(1, "starts"), "starts"), en = as_ints(cin(2, "ends"), "ends");
  std::vector<int64_t> axes, steps;
  if (has_in(3)) axes = as_ints(cin(3, "axes"), "axes");
  else for (size_t i = 0; i < st.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (has_in(4)) steps = as_ints(cin(4, "steps"), "steps");
  else steps.assign(st.size(), 1);
  if (en.size() != st.size() || axes.size() != st.size() || steps.size() != st.size()) fail("starts/ends/axes/steps differ in length");
  const std::vector<int64_t> dims = x.rank == 4 ? std::vector<int64_t>{1, s.c, s.h, s.w} : std::vector<int64_t>{1, s.c};
  int64_t b = 0, e = s.c;
  for (size_t i = 0; i < st.size(); ++i) {
    int64_t a = axes[i] < 0 ? axes[i] + x.rank : axes[i];
    if (a < 0 || a >= x.rank) fail("axis " + std::to_string(axes[i]) + " is out of range");
    const int64_t D = dims[static_cast<size_t>(a)];
    if (steps[i] != 1) fail("step " + std::to_string(steps[i]) + " is not supported (only 1)");
    const int64_t lo = std::clamp<int64_t>(st[i] < 0 ? st[i] + D : st[i], 0, D);
    const int64_t hi = std::clamp<int64_t>(en[i] < 0 ? en[i] + D : en[i], 0, D);
    if (a == 1) {
      b = lo;
      e = hi;
    } else if (lo != 0 || hi != D) {
      fail("slicing axis " + std::to_string(a) + " is not supported (only a channel range)");
    }
  }
  if (e <= b) fail("the slice is empty");
  if (b == 0 && e == s.c) return alias(x);
  ModelNode n;
  n.op = ModelOp::Split;
  n.inputs = {x.t};
  n.begin = static_cast<int>(b);
  n.end = static_cast<int>(e);
  const int t = add(std::move(n), static_cast<int>(e - b), s.h, s.w);
  alias(Value{VKind::Act, nullptr, t, x.rank, 0, 0, {}});
}

void Importer::qdq(bool quantize) {
  const Value& x = in(0);
  if (quantize) {
    const Value& a = act(0, 0);
    const Const& sc = cin(1, "the scale");
    Value q{VKind::Quant, nullptr, a.t, a.rank, 0, 0, {}};
    if (sc.numel() != 1) q.why_not = "per-channel activation scales";
    else if (!has_in(2)) q.why_not = "uint8 (no zero point given)";
    else {
      const Const& zp = cin(2, "the zero point");
      if (zp.dtype != ::onnx::TensorProto_DataType_INT8) q.why_not = "not int8";
      else if (zp.numel() != 1 || zp.v[0] != 0) q.why_not = "a non-zero zero point";
      else q.scale = sc.v[0];
    }
    q.groups = 0;
    return alias(q);
  }
  if (x.kind != VKind::Quant) fail("DequantizeLinear of an activation must follow its QuantizeLinear");
  const std::string& src = g_.tensors[static_cast<size_t>(x.t)].name;
  if (x.scale > 0) {
    const int p = prod_[static_cast<size_t>(x.t)];
    if (p < 0) {
      g_.input_scale = x.scale;
    } else {
      ModelNode& n = g_.nodes[static_cast<size_t>(p)];
      if (n.op == ModelOp::Conv || n.op == ModelOp::Add || n.op == ModelOp::Concat) n.out_scale = x.scale;
    }
  } else {
    g_.notes.push_back("tensor '" + src + "': QDQ scale not kept (" + x.why_not + "; the accelerator uses symmetric int8); calibrated instead");
  }
  alias(Value{VKind::Act, nullptr, x.t, x.rank, 0, 0, {}});
}

void Importer::node(const ::onnx::NodeProto& n) {
  const std::string& op = n.op_type();
  if (!n.domain().empty() && n.domain() != "ai.onnx")
    fail("domain '" + n.domain() + "' is not supported (only the default ONNX domain); supported: " + supported_ops());
  if (op == "Constant") {
    const ::onnx::AttributeProto* a = find_attr(n, "value");
    Const c;
    try {
      if (a) c = decode_tensor(a->t(), "its value");
      else if ((a = find_attr(n, "value_float"))) c.v = {a->f()};
      else if ((a = find_attr(n, "value_int"))) c = Const{{}, {static_cast<double>(a->i())}, ::onnx::TensorProto_DataType_INT64, {}, -1};
      else if ((a = find_attr(n, "value_ints"))) {
        c.dtype = ::onnx::TensorProto_DataType_INT64;
        for (auto v : a->ints()) c.v.push_back(static_cast<double>(v));
        c.dims = {static_cast<int64_t>(c.v.size())};
      } else if ((a = find_attr(n, "value_floats"))) {
        for (auto v : a->floats()) c.v.push_back(v);
        c.dims = {static_cast<int64_t>(c.v.size())};
      } else fail("a Constant without a dense value (sparse or string values are not supported)");
    } catch (const ConfigError& e) {
      fail(e.what());
    }
    return alias(Value{VKind::Const, std::make_shared<Const>(std::move(c)), -1, 4, 0, 0, {}});
  }
  if (op == "Shape") {
    const Value& x = in(0);
    if (x.kind == VKind::Const) {
      Const c{{static_cast<int64_t>(x.c->dims.size())}, {}, ::onnx::TensorProto_DataType_INT64, {}, -1};
      for (int64_t d : x.c->dims) c.v.push_back(static_cast<double>(d));
      return alias(Value{VKind::Const, std::make_shared<Const>(std::move(c)), -1, 4, 0, 0, {}});
    }
    const Value& a = act(0, 0);
    const ModelTensor s = shape(a.t);
    std::vector<double> d = a.rank == 4 ? std::vector<double>{1, double(s.c), double(s.h), double(s.w)} : std::vector<double>{1, double(s.c)};
    int64_t r = static_cast<int64_t>(d.size());
    int64_t b = attr_int(n, "start", 0), e = attr_int(n, "end", r);
    b = std::clamp<int64_t>(b < 0 ? b + r : b, 0, r);
    e = std::clamp<int64_t>(e < 0 ? e + r : e, 0, r);
    Const c{{std::max<int64_t>(e - b, 0)}, {}, ::onnx::TensorProto_DataType_INT64, {}, -1};
    for (int64_t i = b; i < e; ++i) c.v.push_back(d[static_cast<size_t>(i)]);
    return alias(Value{VKind::Const, std::make_shared<Const>(std::move(c)), -1, 4, 0, 0, {}});
  }
  // Constant folding when every present input is a constant.
  bool all_const = n.input_size() > 0;
  for (int i = 0; i < n.input_size(); ++i)
    if (!n.input(i).empty() && in(i).kind != VKind::Const) all_const = false;
  if (all_const && foldable(op)) {
    std::vector<const Const*> ins;
    for (int i = 0; i < n.input_size(); ++i) ins.push_back(n.input(i).empty() ? nullptr : in(i).c.get());
    std::vector<Const> outs;
    try {
      outs = fold(n, ins, opset_);
    } catch (const ConfigError& e) {
      fail(e.what());
    }
    for (size_t i = 0; i < outs.size(); ++i) set(static_cast<int>(i), Value{VKind::Const, std::make_shared<Const>(std::move(outs[i])), -1, 4, 0, 0, {}});
    return;
  }
  if (op == "Conv") return conv();
  if (op == "Gemm") return gemm(false);
  if (op == "MatMul") return gemm(true);
  if (op == "BatchNormalization") return batchnorm();
  if (op == "Relu") return activation(false);
  if (op == "Clip") return activation(true);
  if (op == "MaxPool") return pool(ModelOp::MaxPool);
  if (op == "AveragePool") return pool(ModelOp::AvgPool);
  if (op == "GlobalAveragePool" || op == "ReduceMean") return pool(ModelOp::GlobalAvgPool);
  if (op == "Add") return add_op();
  if (op == "Concat") return concat();
  if (op == "Reshape") return reshape();
  if (op == "Split") return split();
  if (op == "Slice") return slice();
  if (op == "QuantizeLinear") return qdq(true);
  if (op == "DequantizeLinear") return qdq(false);
  if (op == "Identity") return alias(in(0));
  if (op == "Pad") {  // torch emits a zero Pad before AveragePool
    const Value& x = act(0, 0);
    const std::vector<int64_t> pads = has_in(1) ? as_ints(cin(1, "pads"), "pads") : attr_ints(n, "pads");
    if (std::any_of(pads.begin(), pads.end(), [](int64_t p) { return p != 0; }))
      fail("a Pad with non-zero pads is not supported (pad inside the Conv/MaxPool that follows instead)");
    return alias(x);
  }
  if (op == "Dropout") {
    if (n.output_size() > 1 && !n.output(1).empty() && uses_[n.output(1)] > 0) fail("the mask output of Dropout is not supported");
    return alias(in(0));
  }
  if (op == "Flatten") {
    const Value& x = act(0, 0);
    int64_t axis = attr_int(n, "axis", 1);
    if (axis < 0) axis += x.rank;
    if (axis != 1) fail("Flatten with axis " + std::to_string(attr_int(n, "axis", 1)) + ": only axis 1 (keep the batch) is supported");
    const ModelTensor s = shape(x.t);
    if (x.rank == 2 || (s.h == 1 && s.w == 1)) return alias(Value{VKind::Act, nullptr, x.t, 2, 0, 0, {}});
    ModelNode f;
    f.op = ModelOp::Flatten;
    f.inputs = {x.t};
    const int t = add(std::move(f), static_cast<int>(s.elems()), 1, 1);
    return alias(Value{VKind::Act, nullptr, t, 2, 0, 0, {}});
  }
  if (op == "Transpose") {
    const Value& x = in(0);
    if (x.kind == VKind::Shuffle5 && attr_ints(n, "perm") == std::vector<int64_t>{0, 2, 1, 3, 4})
      return alias(Value{VKind::ShuffleT, nullptr, x.t, 4, x.groups, 0, {}});
    fail("Transpose is supported only as the middle of a channel shuffle (Reshape to [1,g,C/g,H,W], Transpose [0,2,1,3,4], Reshape back)");
  }
  if (foldable(op))
    fail("'" + op + "' on an activation is not supported (only on constants, e.g. shape arithmetic); supported: " + supported_ops());
  fail("op type '" + op + "' is not supported; supported: " + supported_ops());
}

void Importer::finish() {
  const std::string out = m_.graph().output(0).name();
  cur_ = nullptr;
  auto it = vals_.find(out);
  if (it == vals_.end()) fail("the graph output '" + out + "' is not produced by any node");
  if (it->second.kind != VKind::Act) fail("the graph output '" + out + "' is not computed from the image (a constant or an unfinished pattern)");
  g_.output = it->second.t;
  // Drop the nodes the output does not depend on, renumbering the tensors.
  std::vector<char> live_t(g_.tensors.size(), 0);
  live_t[static_cast<size_t>(g_.output)] = 1;
  std::vector<char> live_n(g_.nodes.size(), 0);
  for (size_t i = g_.nodes.size(); i-- > 0;) {
    if (!live_t[static_cast<size_t>(g_.nodes[i].output)]) continue;
    live_n[i] = 1;
    for (int x : g_.nodes[i].inputs) live_t[static_cast<size_t>(x)] = 1;
  }
  live_t[0] = 1;
  std::vector<int> remap(g_.tensors.size(), -1);
  ModelGraph r;
  r.name = g_.name;
  r.input_mean = g_.input_mean;
  r.input_std = g_.input_std;
  r.input_scale = g_.input_scale;
  r.notes = g_.notes;
  for (size_t t = 0; t < g_.tensors.size(); ++t)
    if (live_t[t]) {
      remap[t] = static_cast<int>(r.tensors.size());
      r.tensors.push_back(g_.tensors[t]);
    }
  for (size_t i = 0; i < g_.nodes.size(); ++i) {
    if (!live_n[i]) continue;
    ModelNode n = std::move(g_.nodes[i]);
    for (int& x : n.inputs) x = remap[static_cast<size_t>(x)];
    n.output = remap[static_cast<size_t>(n.output)];
    r.nodes.push_back(std::move(n));
  }
  r.output = remap[static_cast<size_t>(g_.output)];
  if (r.nodes.empty()) fail("the graph output is the input image: nothing to run");
  if (std::string e = r.check(); !e.empty()) fail("imported graph is inconsistent: " + e);
  g_ = std::move(r);
}

ModelGraph Importer::run() {
  read_file();
  {
    std::string stem = path_;
    if (auto p = stem.find_last_of('/'); p != std::string::npos) stem = stem.substr(p + 1);
    if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".onnx") == 0) stem.resize(stem.size() - 5);
    g_.name = stem;
  }
  setup_input();
  // Topological order (ONNX requires it, but exporters place Identity nodes of weights at the end).
  const auto& nodes = m_.graph().node();
  std::set<std::string> avail;
  for (const auto& kv : vals_) avail.insert(kv.first);
  std::vector<char> done(static_cast<size_t>(nodes.size()), 0);
  size_t left = static_cast<size_t>(nodes.size());
  while (left) {
    bool progress = false;
    for (int i = 0; i < nodes.size(); ++i) {
      if (done[static_cast<size_t>(i)]) continue;
      const auto& n = nodes[i];
      bool ready = true;
      for (const auto& x : n.input())
        if (!x.empty() && !avail.count(x)) ready = false;
      if (!ready) continue;
      cur_ = &n;
      cur_name_ = n.name().empty() ? n.op_type() + "#" + std::to_string(i) : n.name();
      node(n);
      for (const auto& o : n.output())
        if (!o.empty()) avail.insert(o);
      done[static_cast<size_t>(i)] = 1;
      --left;
      progress = true;
    }
    if (!progress) {
      for (int i = 0; i < nodes.size(); ++i) {
        if (done[static_cast<size_t>(i)]) continue;
        cur_ = &nodes[i];
        cur_name_ = nodes[i].name().empty() ? nodes[i].op_type() + "#" + std::to_string(i) : nodes[i].name();
        for (const auto& x : nodes[i].input())
          if (!x.empty() && !avail.count(x)) {
            bool produced = false;
            for (const auto& m : nodes)
              for (const auto& o : m.output()) produced |= o == x;
            if (!produced) fail("input '" + x + "' is not a graph input, an initializer or any node's output (missing initializer?)");
          }
        fail("the graph has a cycle through this node");
      }
    }
  }
  finish();
  return std::move(g_);
}

}  // namespace

enos::ModelGraph import_model(const std::string& path, const ImportOptions& opt) {
  GOOGLE_PROTOBUF_VERIFY_VERSION;
  return Importer(path, opt).run();
}

}  // namespace cimsim::onnx
