// ENOS search networks: SqueezeNet-style (Fire modules) and ShuffleNetV2-style graphs over int8 tensors,
// expected energy, discretization and export. See docs/enos.md.
#include <algorithm>
#include <cmath>

#include "cimsim/core/error.hpp"
#include "cimsim/enos/search/torch_impl.hpp"

#include "cimsim/accel/program.hpp"
#include "cimsim/enos/graph.hpp"

namespace cimsim::enos::search {

using torch::Tensor;

int SearchNetImpl::add_tensor(const std::string& name, int c, int h, int w) {
  tensors.push_back({name, c, h, w});
  return static_cast<int>(tensors.size()) - 1;
}

int SearchNetImpl::conv(const std::string& name, int in, int cout, int k, int stride, int pad, int groups, bool relu,
                        std::shared_ptr<Observer> obs) {
  const GTensor ti = tensors.at(static_cast<size_t>(in));
  accel::LayerShape s = accel::LayerShape::conv(1, ti.c, ti.h, ti.w, cout, k, stride, pad, groups);
  if (k == 1 && ti.h == 1 && ti.w == 1 && groups == 1) s.kind = accel::LayerKind::FullyConnected;
  // XNOR binarizes its input to x > 0 ? +1 : -1. The classifier reads the global average of ReLU outputs,
  // which is > 0 almost everywhere: its binarized input is all +1 and carries no information (uni-XNOR networks
  // stayed at chance). XNOR is therefore not offered at the fully connected layer (MAC8 replaces it where it
  // was the only candidate: the usual full-precision classifier of binary networks).
  std::vector<Candidate> lc = cands_;
  if (s.kind == accel::LayerKind::FullyConnected) {
    lc.erase(std::remove_if(lc.begin(), lc.end(), [](const Candidate& c) { return c.op == accel::Op::XNOR; }),
             lc.end());
    if (lc.empty()) lc.push_back({accel::Op::MAC8, accel::Mode::Digital});
  }
  SearchLayer L(name, s, relu, lc, adc_bits_);
  register_module(name, L);
  if (obs) L->out_obs = obs;
  if (std::find(observers.begin(), observers.end(), L->out_obs) == observers.end()) observers.push_back(L->out_obs);
  layers.push_back(L);
  const int out = add_tensor(name, cout, s.out_h(), s.out_w());
  GNode n;
  n.kind = NodeKind::Accel;
  n.name = name;
  n.layer = static_cast<int>(layers.size()) - 1;
  n.in = {in};
  n.out = out;
  nodes.push_back(n);
  return out;
}

int SearchNetImpl::host(NodeKind kind, const std::string& name, std::vector<int> in, int c, int h, int w, int kernel,
                        int stride, int pad, int groups, int begin, int end) {
  const int out = add_tensor(name, c, h, w);
  GNode n;
  n.kind = kind;
  n.name = name;
  n.in = std::move(in);
  n.out = out;
  n.kernel = kernel;
  n.stride = stride;
  n.pad = pad;
  n.groups = groups;
  n.begin = begin;
  n.end = end;
  nodes.push_back(n);
  return out;
}

SearchNetImpl::SearchNetImpl(const std::string& net_, int c, int h, int w, int classes_,
                             const std::vector<Candidate>& cands, int adc_bits)
    : net(net_), classes(classes_), cands_(cands), adc_bits_(adc_bits) {
  tensors.push_back({"input", c, h, w});
  auto T = [&](int i) -> const GTensor& { return tensors.at(static_cast<size_t>(i)); };
  auto maxpool = [&](const std::string& name, int x) {
    const GTensor t = T(x);
    return host(NodeKind::MaxPool, name, {x}, t.c, (t.h - 2) / 2 + 1, (t.w - 2) / 2 + 1, 2, 2, 0);
  };
  if (net == "squeezenet") {
    int x = conv("conv1", 0, 24, 3, 1, 1, 1, true);
    x = maxpool("pool1", x);
    auto fire = [&](const std::string& name, int in, int sq, int ex) {
      const int s = conv(name + "_sq", in, sq, 1, 1, 0, 1, true);
      auto obs = std::make_shared<Observer>();  // both expand outputs share one scale: identity concat
      const int a = conv(name + "_e1", s, ex, 1, 1, 0, 1, true, obs);
      const int b = conv(name + "_e3", s, ex, 3, 1, 1, 1, true, obs);
      return host(NodeKind::Concat, name + "_cat", {a, b}, 2 * ex, T(a).h, T(a).w);
    };
    x = fire("fire2", x, 8, 16);
    x = fire("fire3", x, 8, 16);
    x = maxpool("pool3", x);
    x = fire("fire4", x, 12, 24);
    x = host(NodeKind::GlobalAvgPool, "gap", {x}, T(x).c, 1, 1);
    conv("fc", x, classes, 1, 1, 0, 1, false);
  } else if (net == "shufflenet") {
    int x = conv("conv1", 0, 16, 3, 1, 1, 1, true);
    x = maxpool("pool1", x);
    auto stage = [&](const std::string& n, int in, int out, int units) {
      auto obs = std::make_shared<Observer>();  // every concat input of the stage shares one scale
      const int half = out / 2, cin = T(in).c;
      int b1 = conv(n + "_d_b1dw", in, cin, 3, 2, 1, cin, false);
      b1 = conv(n + "_d_b1pw", b1, half, 1, 1, 0, 1, true, obs);
      int b2 = conv(n + "_d_b2pw1", in, half, 1, 1, 0, 1, true);
      b2 = conv(n + "_d_b2dw", b2, half, 3, 2, 1, half, false);
      b2 = conv(n + "_d_b2pw2", b2, half, 1, 1, 0, 1, true, obs);
      int x = host(NodeKind::Concat, n + "_d_cat", {b1, b2}, out, T(b1).h, T(b1).w);
      x = host(NodeKind::ChannelShuffle, n + "_d_shuf", {x}, out, T(x).h, T(x).w, 0, 1, 0, 2);
      for (int u = 1; u < units; ++u) {
        const std::string un = n + "_u" + std::to_string(u);
        const GTensor t = T(x);
        const int x1 = host(NodeKind::Split, un + "_x1", {x}, half, t.h, t.w, 0, 1, 0, 1, 0, half);
        const int x2 = host(NodeKind::Split, un + "_x2", {x}, half, t.h, t.w, 0, 1, 0, 1, half, out);
        int y = conv(un + "_pw1", x2, half, 1, 1, 0, 1, true);
        y = conv(un + "_dw", y, half, 3, 1, 1, half, false);
        y = conv(un + "_pw2", y, half, 1, 1, 0, 1, true, obs);
        x = host(NodeKind::Concat, un + "_cat", {x1, y}, out, t.h, t.w);
        x = host(NodeKind::ChannelShuffle, un + "_shuf", {x}, out, t.h, t.w, 0, 1, 0, 2);
      }
      return x;
    };
    x = stage("s2", x, 32, 2);
    x = stage("s3", x, 64, 2);
    x = host(NodeKind::GlobalAvgPool, "gap", {x}, T(x).c, 1, 1);
    conv("fc", x, classes, 1, 1, 0, 1, false);
  } else {
    throw ConfigError("unknown network '" + net + "' (squeezenet, shufflenet)");
  }
}

namespace {
Tensor round_ste(const Tensor& x) { return x + (torch::floor(x + 0.5) - x).detach(); }
}  // namespace

torch::Tensor SearchNetImpl::forward(const Tensor& x, Combine how, double tau, int mixed_layer) {
  std::vector<Tensor> v(tensors.size());
  std::vector<double> sc(tensors.size(), 1.0);
  v[0] = x;
  sc[0] = input_scale;
  for (const GNode& n : nodes) {
    const Tensor& a = v[static_cast<size_t>(n.in[0])];
    const double sa = sc[static_cast<size_t>(n.in[0])];
    Tensor out;
    double so = sa;
    switch (n.kind) {
      case NodeKind::Accel: {
        auto& L = layers[static_cast<size_t>(n.layer)];
        Combine h = how;
        if (mixed_layer >= 0) h = n.layer == mixed_layer ? Combine::Gates : Combine::Fixed;
        out = L->forward(a, sa, h, tau);
        so = L->out_obs->scale();
        break;
      }
      case NodeKind::MaxPool: {
        const Tensor ap = n.pad > 0 ? torch::constant_pad_nd(a, {n.pad, n.pad, n.pad, n.pad}, -128) : a;
        out = torch::max_pool2d(ap, n.kernel, n.stride);
        break;
      }
      case NodeKind::AvgPool: out = round_ste(torch::avg_pool2d(a, n.kernel, n.stride)); break;
      case NodeKind::GlobalAvgPool: out = round_ste(a.mean({2, 3}, true)); break;
      case NodeKind::ChannelShuffle: out = shuffle_channels(a, n.groups); break;
      case NodeKind::Split: out = a.narrow(1, n.begin, n.end - n.begin); break;
      case NodeKind::Flatten: out = a.reshape({a.size(0), -1, 1, 1}); break;
      case NodeKind::Concat: {
        std::vector<Tensor> parts;
        for (int i : n.in) parts.push_back(v[static_cast<size_t>(i)]);
        out = torch::cat(parts, 1);
        break;
      }
      case NodeKind::Add: throw ConfigError("Add nodes are not used by the search networks");
    }
    v[static_cast<size_t>(n.out)] = out;
    sc[static_cast<size_t>(n.out)] = so;
  }
  return v.back().reshape({x.size(0), -1});
}

void SearchNetImpl::set_energies(const accel::ArrayConfig& cfg, const EnergyTable& table) {
  // Each layer's placement (resident activations, staging, pinned constants) comes from the program plan of
  // the network, as the simulator runtime will run it (enos::to_graph + accel::plan_program); the plan of the
  // all-MAC8 skeleton has the largest constants, so pinning holds for every candidate mix when it holds here.
  const NetworkExport skel = export_network(tensors[0].c == 1 ? "fashion-mnist" : "cifar10", cfg, true);
  const ExportGraph eg = to_graph(skel);
  const accel::ArrayConfig hw = accel::ArrayConfig::with_table(cfg, table);
  const accel::ProgramPlan plan = accel::plan_program(eg.graph, hw);
  std::vector<accel::Placement> place(layers.size());
  vector_pj_ = 0;
  for (size_t j = 0; j < eg.graph.nodes.size(); ++j) {
    const GNode& n = nodes[static_cast<size_t>(eg.export_node[j])];
    if (accel::is_vector_kind(eg.graph.nodes[j].params.shape.kind))
      vector_pj_ += aj_to_pj(plan.nodes[j].cost.total_aj(table));
    else if (n.kind == NodeKind::Accel)
      place[static_cast<size_t>(n.layer)] = plan.nodes[j].place;
  }
  layer_place = place;
  for (size_t l = 0; l < layers.size(); ++l) {
    auto& L = layers[l];
    for (size_t k = 0; k < L->cands.size(); ++k)
      L->energy_pj[k] =
          accel::layer_energy_pj(hw, table, L->shape, L->cands[k].op, L->cands[k].mode, L->cim[k], place[l]);
  }
  ref_pj_.clear();
  ref_op_pj_ = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    const accel::LayerCost c = accel::layer_cost(hw, layers[l]->shape, accel::Op::MAC8, accel::Mode::Digital, {}, place[l]);
    ref_pj_.push_back(aj_to_pj(c.total_aj(table)));
    ref_op_pj_ += aj_to_pj(c.operator_aj(table));
  }
}

torch::Tensor SearchNetImpl::expected_energy(int hard_except) const {
  Tensor e = torch::full({}, vector_pj_);
  for (size_t l = 0; l < layers.size(); ++l) {
    const auto& L = layers[l];
    if (hard_except >= 0 && static_cast<int>(l) != hard_except) {
      e = e + L->energy_pj[static_cast<size_t>(L->chosen)];
      continue;
    }
    const Tensor E = torch::tensor(L->energy_pj, torch::kFloat64).to(torch::kFloat32);
    e = e + (torch::softmax(L->alpha, 0) * E).sum();
  }
  return e;
}

double SearchNetImpl::chosen_energy() const {
  double e = vector_pj_;
  for (const auto& L : layers) e += L->energy_pj[static_cast<size_t>(L->chosen)];
  return e;
}

double SearchNetImpl::ref_energy() const {
  double e = 0;
  e += vector_pj_;
  for (double x : ref_pj_) e += x;
  return e;
}

std::vector<torch::Tensor> SearchNetImpl::weight_params() {
  std::vector<Tensor> v;
  for (auto& p : named_parameters())
    if (p.key().find("alpha") == std::string::npos && p.key().find("weight_adder") == std::string::npos)
      v.push_back(p.value());
  return v;
}

std::vector<torch::Tensor> SearchNetImpl::adder_params() {
  std::vector<Tensor> v;
  for (auto& L : layers)
    if (L->weight_adder.defined()) v.push_back(L->weight_adder);
  return v;
}

std::vector<torch::Tensor> SearchNetImpl::alpha_params() {
  std::vector<Tensor> v;
  for (auto& L : layers) v.push_back(L->alpha);
  return v;
}

void SearchNetImpl::assign(const std::vector<LayerAssignment>& a, const std::string& origin) {
  const std::string pre = (origin.empty() ? std::string("assignment") : origin) + ": ";
  std::string known;
  for (const auto& L : layers) known += (known.empty() ? "" : ", ") + L->name;
  for (const auto& e : a) {
    const auto it = std::find_if(layers.begin(), layers.end(), [&](const SearchLayer& L) { return L->name == e.layer; });
    if (it == layers.end())
      throw ConfigError(pre + "network '" + net + "' has no layer '" + e.layer + "' (layers: " + known + ")");
    const auto& cands = (*it)->cands;
    const auto k = std::find_if(cands.begin(), cands.end(),
                                [&](const Candidate& c) { return c.op == e.choice.op && c.mode == e.choice.mode; });
    if (k == cands.end())
      throw ConfigError(pre + "candidate '" + candidate_name(e.choice) + "' is not valid at layer '" + e.layer + "'" +
                        (e.choice.op == accel::Op::XNOR && (*it)->shape.kind == accel::LayerKind::FullyConnected
                             ? " (XNOR is not offered at the fully connected classifier: its binarized input "
                               "carries no information)"
                             : ""));
    (*it)->chosen = static_cast<int>(k - cands.begin());
  }
  for (const auto& L : layers)
    if (std::none_of(a.begin(), a.end(), [&](const LayerAssignment& e) { return e.layer == L->name; }))
      throw ConfigError(pre + "layer '" + L->name + "' has no candidate (every layer of '" + net +
                        "' must be assigned)");
}

void SearchNetImpl::discretize() {
  for (auto& L : layers) L->chosen = static_cast<int>(L->alpha.argmax().item<int64_t>());
}

std::vector<double> SearchNetImpl::observer_values() const {
  std::vector<double> v;
  for (const auto& o : observers) {
    v.push_back(o->value);
    v.push_back(o->init ? 1.0 : 0.0);
  }
  return v;
}

void SearchNetImpl::set_observer_values(const std::vector<double>& v) {
  if (v.size() != 2 * observers.size()) throw ConfigError("checkpoint: observer count mismatch");
  for (size_t i = 0; i < observers.size(); ++i) {
    observers[i]->value = v[2 * i];
    observers[i]->init = v[2 * i + 1] != 0.0;
  }
}

NetworkExport SearchNetImpl::export_network(const std::string& dataset, const accel::ArrayConfig& cfg, bool skeleton) {
  NetworkExport e;
  e.network = net + "-" + (dataset == "fashion-mnist" ? std::string("fmnist") : dataset);
  e.dataset = dataset;
  const GTensor& t0 = tensors[0];
  e.input = {t0.name, t0.c, t0.h, t0.w, input_scale};
  e.classes = classes;
  e.array = cfg;
  std::vector<double> sc(tensors.size(), input_scale);
  for (const GNode& n : nodes) {
    const double sa = sc[static_cast<size_t>(n.in[0])];
    double so = sa;
    Node o;
    o.name = n.name;
    o.kind = n.kind;
    for (int i : n.in) o.inputs.push_back(tensors[static_cast<size_t>(i)].name);
    o.output = tensors[static_cast<size_t>(n.out)].name;
    o.kernel = n.kernel;
    o.stride = n.stride;
    o.pad = n.pad;
    o.groups = n.groups;
    o.begin = n.begin;
    o.end = n.end;
    if (n.kind == NodeKind::Accel) {
      auto& L = layers[static_cast<size_t>(n.layer)];
      so = L->out_obs->scale();
      if (skeleton) {
        o.layer.shape = L->shape;
        o.layer.op = accel::Op::MAC8;
        o.layer.mode = accel::Mode::Digital;
        o.layer.weights.assign(static_cast<size_t>(L->shape.weight_elems()), 0);
        o.layer.rq.mult.assign(static_cast<size_t>(L->shape.cout), 1);
        o.layer.rq.shift.assign(static_cast<size_t>(L->shape.cout), 0);
        o.layer.rq.bias.assign(static_cast<size_t>(L->shape.cout), 0);
      } else {
        o.layer = L->export_params(L->chosen, sa, so);
        o.predicted_energy_pj = L->energy_pj[static_cast<size_t>(L->chosen)];
      }
    }
    if (n.kind == NodeKind::Concat || n.kind == NodeKind::Add) {
      o.in_mult.assign(n.in.size(), 1);
      o.in_shift.assign(n.in.size(), 0);
    }
    sc[static_cast<size_t>(n.out)] = so;
    const GTensor& t = tensors[static_cast<size_t>(n.out)];
    e.tensors.push_back({t.name, t.c, t.h, t.w, so});
    e.nodes.push_back(o);
  }
  e.output = tensors.back().name;
  return e;
}

}  // namespace cimsim::enos::search
