// The built-in search networks as ModelGraphs (include/cimsim/enos/search/builtin_nets.hpp). Plain C++: the
// supernet is built from these by the same code as from an imported model (net.cpp).
#include "cimsim/enos/search/builtin_nets.hpp"

#include <utility>
#include <vector>

#include "cimsim/core/error.hpp"

namespace cimsim::enos::search {

namespace {

/// Appends nodes to a graph; each node's output tensor gets the node's name and the inferred shape.
class Builder {
 public:
  Builder(ModelGraph& g) : g_(g) {}
  int conv(const std::string& name, int in, int cout, int k, int stride, int pad, int groups, bool relu) {
    ModelNode n = make(name, ModelOp::Conv, {in});
    n.cout = cout;
    n.kernel = k;
    n.stride = stride;
    n.pad = pad;
    n.groups = groups;
    n.act = relu ? Activation::Relu : Activation::None;
    const ModelTensor& t = g_.tensors.at(static_cast<size_t>(in));
    n.fc = k == 1 && t.h == 1 && t.w == 1 && groups == 1;
    return add(std::move(n));
  }
  int maxpool(const std::string& name, int in, int k, int stride) {
    ModelNode n = make(name, ModelOp::MaxPool, {in});
    n.kernel = k;
    n.stride = stride;
    return add(std::move(n));
  }
  int concat(const std::string& name, std::vector<int> in) { return add(make(name, ModelOp::Concat, std::move(in))); }
  int gap(const std::string& name, int in) { return add(make(name, ModelOp::GlobalAvgPool, {in})); }
  int shuffle(const std::string& name, int in, int groups) {
    ModelNode n = make(name, ModelOp::ChannelShuffle, {in});
    n.groups = groups;
    return add(std::move(n));
  }
  int split(const std::string& name, int in, int begin, int end) {
    ModelNode n = make(name, ModelOp::Split, {in});
    n.begin = begin;
    n.end = end;
    return add(std::move(n));
  }
  const ModelTensor& T(int i) const { return g_.tensors.at(static_cast<size_t>(i)); }

 private:
  static ModelNode make(const std::string& name, ModelOp op, std::vector<int> in) {
    ModelNode n;
    n.name = name;
    n.op = op;
    n.inputs = std::move(in);
    return n;
  }
  int add(ModelNode n) {
    std::vector<ModelTensor> in;
    for (int i : n.inputs) in.push_back(T(i));
    ModelTensor out;
    const std::string why = infer_model_shape(n, in, out);
    if (!why.empty()) throw ConfigError("network '" + g_.name + "', node '" + n.name + "': " + why);
    out.name = n.name;
    g_.tensors.push_back(out);
    n.output = static_cast<int>(g_.tensors.size()) - 1;
    g_.nodes.push_back(std::move(n));
    return g_.output = static_cast<int>(g_.tensors.size()) - 1;
  }
  ModelGraph& g_;
};

void squeezenet(Builder& b, int classes) {
  int x = b.conv("conv1", 0, 24, 3, 1, 1, 1, true);
  x = b.maxpool("pool1", x, 2, 2);
  auto fire = [&](const std::string& name, int in, int sq, int ex) {
    const int s = b.conv(name + "_sq", in, sq, 1, 1, 0, 1, true);
    const int e1 = b.conv(name + "_e1", s, ex, 1, 1, 0, 1, true);
    const int e3 = b.conv(name + "_e3", s, ex, 3, 1, 1, 1, true);
    return b.concat(name + "_cat", {e1, e3});
  };
  x = fire("fire2", x, 8, 16);
  x = fire("fire3", x, 8, 16);
  x = b.maxpool("pool3", x, 2, 2);
  x = fire("fire4", x, 12, 24);
  x = b.gap("gap", x);
  b.conv("fc", x, classes, 1, 1, 0, 1, false);
}

void shufflenet(Builder& b, int classes) {
  int x = b.conv("conv1", 0, 16, 3, 1, 1, 1, true);
  x = b.maxpool("pool1", x, 2, 2);
  auto stage = [&](const std::string& n, int in, int out, int units) {
    const int half = out / 2, cin = b.T(in).c;
    int b1 = b.conv(n + "_d_b1dw", in, cin, 3, 2, 1, cin, false);
    b1 = b.conv(n + "_d_b1pw", b1, half, 1, 1, 0, 1, true);
    int b2 = b.conv(n + "_d_b2pw1", in, half, 1, 1, 0, 1, true);
    b2 = b.conv(n + "_d_b2dw", b2, half, 3, 2, 1, half, false);
    b2 = b.conv(n + "_d_b2pw2", b2, half, 1, 1, 0, 1, true);
    int y = b.concat(n + "_d_cat", {b1, b2});
    y = b.shuffle(n + "_d_shuf", y, 2);
    for (int u = 1; u < units; ++u) {
      const std::string un = n + "_u" + std::to_string(u);
      const int x1 = b.split(un + "_x1", y, 0, half);
      const int x2 = b.split(un + "_x2", y, half, out);
      int z = b.conv(un + "_pw1", x2, half, 1, 1, 0, 1, true);
      z = b.conv(un + "_dw", z, half, 3, 1, 1, half, false);
      z = b.conv(un + "_pw2", z, half, 1, 1, 0, 1, true);
      y = b.concat(un + "_cat", {x1, z});
      y = b.shuffle(un + "_shuf", y, 2);
    }
    return y;
  };
  x = stage("s2", x, 32, 2);
  x = stage("s3", x, 64, 2);
  x = b.gap("gap", x);
  b.conv("fc", x, classes, 1, 1, 0, 1, false);
}

}  // namespace

const char* builtin_net_names() { return "squeezenet, shufflenet"; }

ModelGraph builtin_graph(const std::string& net, int c, int h, int w, int classes) {
  ModelGraph g;
  g.name = net;
  g.tensors.push_back({"input", c, h, w});
  Builder b(g);
  if (net == "squeezenet") squeezenet(b, classes);
  else if (net == "shufflenet") shufflenet(b, classes);
  else throw ConfigError("unknown network '" + net + "' (" + builtin_net_names() + ")");
  return g;
}

}  // namespace cimsim::enos::search
