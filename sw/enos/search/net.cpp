// ENOS search networks: SqueezeNet-style (Fire modules) and ShuffleNetV2-style graphs over int8 tensors,
// expected energy, discretization and export. See docs/enos.md.
#include <algorithm>
#include <cmath>

#include "cimsim/core/error.hpp"
#include "cimsim/enos/search/torch_impl.hpp"

#include "cimsim/accel/program.hpp"
#include "cimsim/enos/graph.hpp"
#include "cimsim/enos/search/builtin_nets.hpp"

namespace cimsim::enos::search {

using torch::Tensor;

namespace {

/// mult / 2^shift ~ ratio (> 0) with mult < 2^31, as precise as the range allows (the export's rescale of an
/// Add input: in_mult, in_shift).
void fixed_point(double ratio, int32_t& mult, int32_t& shift) {
  mult = 0;
  shift = 0;
  if (!(std::isfinite(ratio) && ratio > 0)) return;
  int e = 0;
  std::frexp(ratio, &e);  // ratio = f * 2^e, f in [0.5, 1)
  shift = std::clamp(31 - e, 0, 62);
  double m = std::round(std::ldexp(ratio, shift));
  while (m >= 2147483648.0 && shift > 0) m = std::round(std::ldexp(ratio, --shift));
  mult = static_cast<int32_t>(std::min(m, 2147483647.0));
}

/// Union-find over tensor indices.
struct Groups {
  std::vector<int> p;
  explicit Groups(size_t n) : p(n) {
    for (size_t i = 0; i < n; ++i) p[i] = static_cast<int>(i);
  }
  int find(int x) { return p[static_cast<size_t>(x)] == x ? x : p[static_cast<size_t>(x)] = find(p[static_cast<size_t>(x)]); }
  void unite(int a, int b) {
    a = find(a), b = find(b);
    if (a != b) p[static_cast<size_t>(std::max(a, b))] = std::min(a, b);
  }
};

NodeKind host_kind(ModelOp op) {
  switch (op) {
    case ModelOp::MaxPool: return NodeKind::MaxPool;
    case ModelOp::AvgPool: return NodeKind::AvgPool;
    case ModelOp::GlobalAvgPool: return NodeKind::GlobalAvgPool;
    case ModelOp::ChannelShuffle: return NodeKind::ChannelShuffle;
    case ModelOp::Split: return NodeKind::Split;
    case ModelOp::Concat: return NodeKind::Concat;
    case ModelOp::Add: return NodeKind::Add;
    case ModelOp::Flatten: return NodeKind::Flatten;
    case ModelOp::Conv: break;
  }
  return NodeKind::Accel;
}

}  // namespace

void SearchNetImpl::conv(const ModelNode& m, int out, const std::shared_ptr<Observer>& obs) {
  const GTensor ti = tensors.at(static_cast<size_t>(m.inputs.at(0)));
  const int k = m.kernel;
  accel::LayerShape s = accel::LayerShape::conv(1, ti.c, ti.h, ti.w, m.cout, k, m.stride, m.pad, m.groups);
  if (k == 1 && ti.h == 1 && ti.w == 1 && m.groups == 1) s.kind = accel::LayerKind::FullyConnected;
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
  SearchLayer L(m.name, s, m.act != Activation::None, lc, adc_bits_);
  // torch module names may not contain dots (ONNX names often do): those become '_' (plus a suffix if taken).
  std::string key = m.name;
  std::replace(key.begin(), key.end(), '.', '_');
  if (key.empty() || named_children().contains(key)) key += "_" + std::to_string(layers.size());
  register_module(key, L);
  if (obs) L->out_obs = obs;
  if (std::find(observers.begin(), observers.end(), L->out_obs) == observers.end()) observers.push_back(L->out_obs);
  if (!m.weight.empty()) {
    // The graph's float weights (BatchNorm folded) initialise the correlation filter, which MAC8 and every other
    // quantizer of that family share, and the MF / adder filters; the bias goes into the BatchNorm of each
    // correlation-family candidate as an identity BatchNorm (running mean 0, variance 1 - eps) with beta = bias,
    // so that the eval-mode MAC8 path computes the float layer. MF and the adder compute other functions: their
    // BatchNorms start at the default.
    torch::NoGradGuard ng;
    const Tensor w = torch::from_blob(const_cast<float*>(m.weight.data()), L->weight.sizes(), torch::kFloat32).clone();
    L->weight.copy_(w);
    if (L->weight_mf.defined()) L->weight_mf.copy_(w);
    if (L->weight_adder.defined()) L->weight_adder.copy_(w);
    for (size_t j = 0; j < L->cands.size(); ++j) {
      if (family_of(L->cands[j].op) != Family::Correlation) continue;
      auto& bn = L->bns[j];
      bn->weight.fill_(1.0);
      if (m.bias.empty()) bn->bias.zero_();
      else bn->bias.copy_(torch::from_blob(const_cast<float*>(m.bias.data()), {m.cout}, torch::kFloat32));
      bn->running_mean.zero_();
      bn->running_var.fill_(1.0 - bn->options.eps());
    }
    L->from_weights = true;
    L->init_bias = m.bias;
  }
  layers.push_back(L);
  GNode n;
  n.kind = NodeKind::Accel;
  n.name = m.name;
  n.layer = static_cast<int>(layers.size()) - 1;
  n.in = m.inputs;
  n.out = out;
  nodes.push_back(n);
}

SearchNetImpl::SearchNetImpl(const std::string& net_, int c, int h, int w, int classes_,
                             const std::vector<Candidate>& cands, int adc_bits)
    : cands_(cands), adc_bits_(adc_bits) {
  build(builtin_graph(net_, c, h, w, classes_), "");
}

SearchNetImpl::SearchNetImpl(const ModelGraph& g, const std::vector<Candidate>& cands, int adc_bits,
                             const std::string& origin)
    : cands_(cands), adc_bits_(adc_bits) {
  build(g, origin);
}

void SearchNetImpl::build(const ModelGraph& g, const std::string& origin) {
  const std::string pre = origin.empty() ? "network '" + g.name + "': " : origin + ": ";
  if (const std::string why = g.check(); !why.empty()) throw ConfigError(pre + why);
  net = g.name;
  for (const ModelTensor& t : g.tensors) tensors.push_back({t.name, t.c, t.h, t.w});
  out_tensor = g.output;
  classes = static_cast<int>(g.tensors.at(static_cast<size_t>(g.output)).elems());
  input_mean = g.input_mean;
  input_std = g.input_std;
  if (g.input_scale > 0) {
    input_scale = g.input_scale;
  } else if (!g.input_mean.empty() || !g.input_std.empty()) {  // the largest |normalised pixel| maps to 127
    double m = 0;
    for (int ch = 0; ch < g.tensors[0].c; ++ch) {
      const double mu = g.input_mean.empty() ? 0.0 : g.input_mean[static_cast<size_t>(ch)];
      const double sd = g.input_std.empty() ? 1.0 : g.input_std[static_cast<size_t>(ch)];
      m = std::max({m, std::abs(0.0 - mu) / sd, std::abs(1.0 - mu) / sd});
    }
    input_scale = (m > 0 ? m : 1.0) / 127.0;
  }
  // Scale groups: a Concat's inputs and output share one scale (identity concatenation), and so do the input and
  // output of every scale-keeping op; a Conv or Add starts a group of its own.
  Groups grp(g.tensors.size());
  for (const ModelNode& m : g.nodes) {
    if (m.op == ModelOp::Conv || m.op == ModelOp::Add) continue;
    for (int i : m.inputs) grp.unite(i, m.output);
  }
  std::vector<std::shared_ptr<Observer>> gobs(g.tensors.size());
  std::vector<std::string> gfirst(g.tensors.size());  // the node whose output first set the group's scale
  auto group_obs = [&](const ModelNode& m, std::shared_ptr<Observer> own) {
    const int r = grp.find(m.output);
    if (r == grp.find(0))
      throw ConfigError(pre + "node '" + m.name + "' (" + model_op_name(m.op) +
                        "): its output is concatenated with the network input, whose scale is fixed; the search "
                        "cannot represent that");
    const bool clip = m.act == Activation::Clip;
    auto& o = gobs[static_cast<size_t>(r)];
    if (!o) {
      o = own ? own : std::make_shared<Observer>();
      gfirst[static_cast<size_t>(r)] = m.name;
      if (clip) {
        if (!(m.clip_max > 0)) throw ConfigError(pre + "node '" + m.name + "': clip maximum must be > 0");
        o->value = m.clip_max;
        o->init = true;
        o->fixed = true;
      }
    } else if (clip != o->fixed || (clip && o->value != m.clip_max)) {
      throw ConfigError(pre + "node '" + m.name + "' and node '" + gfirst[static_cast<size_t>(r)] +
                        "' are concatenated but only one of them ends in a Clip (ReLU6), or in different ones; the "
                        "search needs one scale per concatenation");
    }
    return o;
  };
  for (const ModelNode& m : g.nodes) {
    if (m.op == ModelOp::Conv) {
      // The layer creates its own observer; the first layer of a group lends it to the others.
      const int r = grp.find(m.output);
      std::shared_ptr<Observer> obs = gobs[static_cast<size_t>(r)];
      conv(m, m.output, obs);
      if (!obs) group_obs(m, layers.back()->out_obs);
      else group_obs(m, nullptr);
      continue;
    }
    GNode n;
    n.kind = host_kind(m.op);
    n.name = m.name;
    n.in = m.inputs;
    n.out = m.output;
    switch (m.op) {
      case ModelOp::MaxPool:
      case ModelOp::AvgPool:
        n.kernel = m.kernel, n.stride = m.stride, n.pad = m.pad;
        break;
      case ModelOp::ChannelShuffle: n.groups = m.groups; break;
      case ModelOp::Split: n.begin = m.begin, n.end = m.end; break;
      case ModelOp::Add:
        n.obs = group_obs(m, nullptr);
        n.relu = m.act != Activation::None;
        if (std::find(observers.begin(), observers.end(), n.obs) == observers.end()) observers.push_back(n.obs);
        break;
      default: break;
    }
    nodes.push_back(n);
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
      case NodeKind::Add: {
        // Each input rescaled to the output scale by the export's fixed-point (mult, shift), rounded half up
        // (straight-through), summed, clamped once (docs/enos-export.md, Add).
        Tensor real;
        for (int i : n.in) {
          const Tensor r = v[static_cast<size_t>(i)] * sc[static_cast<size_t>(i)];
          real = real.defined() ? real + r : r;
        }
        if (is_training()) {
          const Tensor d = real.detach();
          n.obs->update((n.relu ? d.max().clamp_min(0) : d.abs().max()).item<double>());
        }
        so = n.obs->scale();
        Tensor sum;
        for (int i : n.in) {
          int32_t m = 0, sh = 0;
          fixed_point(sc[static_cast<size_t>(i)] / so, m, sh);
          const Tensor r = round_ste(v[static_cast<size_t>(i)] * std::ldexp(static_cast<double>(m), -sh));
          sum = sum.defined() ? sum + r : r;
        }
        out = round_clamp_ste(sum, 1.0, n.relu ? 0.0 : -128.0, 127.0, true, n.relu);
        break;
      }
    }
    v[static_cast<size_t>(n.out)] = out;
    sc[static_cast<size_t>(n.out)] = so;
  }
  return v[static_cast<size_t>(out_tensor)].reshape({x.size(0), -1});
}

void SearchNetImpl::set_energies(const accel::ArrayConfig& cfg, const EnergyTable& table) {
  // Each layer's placement (resident activations, staging, pinned constants) comes from the program plan of
  // the network, as the simulator runtime will run it (enos::to_graph + accel::plan_program); the plan of the
  // all-MAC8 skeleton has the largest constants, so pinning holds for every candidate mix when it holds here.
  const NetworkExport skel = export_network(tensors[0].c == 1 ? "fashion-mnist" : "cifar10", cfg, true);
  const ExportGraph eg = to_graph(skel);
  const accel::ArrayConfig hw = accel::ArrayConfig::with_table(cfg, table);
  const accel::ProgramPlan plan = accel::plan_program(eg.graph, hw);
  // A layer may run as several program nodes (a large grouped convolution as slices of whole groups): its
  // energy is the sum over its nodes, each with its own shape and placement.
  std::vector<std::vector<size_t>> parts(layers.size());
  std::vector<accel::Placement> place(layers.size());
  vector_pj_ = 0;
  for (size_t j = 0; j < eg.graph.nodes.size(); ++j) {
    const GNode& n = nodes[static_cast<size_t>(eg.export_node[j])];
    if (accel::is_vector_kind(eg.graph.nodes[j].params.shape.kind)) {
      vector_pj_ += aj_to_pj(plan.nodes[j].cost.total_aj(table));
    } else if (n.kind == NodeKind::Accel) {
      place[static_cast<size_t>(n.layer)] = plan.nodes[j].place;
      parts[static_cast<size_t>(n.layer)].push_back(j);
    }
  }
  layer_place = place;
  auto shape_of = [&](size_t l, size_t j) {
    return parts[l].size() == 1 ? layers[l]->shape : eg.graph.nodes[j].params.shape;  // one node: the layer's own
  };
  for (size_t l = 0; l < layers.size(); ++l) {
    auto& L = layers[l];
    for (size_t k = 0; k < L->cands.size(); ++k) {
      double e = 0;
      for (size_t j : parts[l])
        e += accel::layer_energy_pj(hw, table, shape_of(l, j), L->cands[k].op, L->cands[k].mode, L->cim[k],
                                    plan.nodes[j].place);
      L->energy_pj[k] = e;
    }
  }
  ref_pj_.clear();
  ref_op_pj_ = 0;
  for (size_t l = 0; l < layers.size(); ++l) {
    double e = 0;
    for (size_t j : parts[l]) {
      const accel::LayerCost c =
          accel::layer_cost(hw, shape_of(l, j), accel::Op::MAC8, accel::Mode::Digital, {}, plan.nodes[j].place);
      e += aj_to_pj(c.total_aj(table));
      ref_op_pj_ += aj_to_pj(c.operator_aj(table));
    }
    ref_pj_.push_back(e);
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

void SearchNetImpl::calibrate_from_weights(const Tensor& x, const std::vector<int>& path) {
  bool any = false;
  for (size_t l = 0; l < layers.size(); ++l) {
    layers[l]->path = path.at(l);
    layers[l]->bn_calibrate = layers[l]->from_weights;
    any = any || layers[l]->from_weights;
  }
  if (!any) return;
  const bool was_training = is_training();
  train();
  {
    torch::NoGradGuard ng;
    forward(x, Combine::Path);
  }
  train(was_training);
  for (size_t l = 0; l < layers.size(); ++l) {
    auto& L = layers[l];
    L->bn_calibrate = false;
    if (!L->from_weights) continue;
    torch::NoGradGuard ng;
    const auto& src = L->bns[static_cast<size_t>(path[l])];
    for (size_t k = 0; k < L->cands.size(); ++k) {
      if (static_cast<int>(k) == path[l] || family_of(L->cands[k].op) != Family::Correlation) continue;
      auto& bn = L->bns[k];
      bn->weight.copy_(src->weight);
      bn->bias.copy_(src->bias);
      bn->running_mean.copy_(src->running_mean);
      bn->running_var.copy_(src->running_var);
    }
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
    if (n.kind == NodeKind::Concat) {  // one scale per concatenation (see the constructor)
      o.in_mult.assign(n.in.size(), 1);
      o.in_shift.assign(n.in.size(), 0);
    }
    if (n.kind == NodeKind::Add) {
      so = n.obs->scale();
      o.relu = n.relu;
      for (int i : n.in) {
        int32_t m = 0, sh = 0;
        fixed_point(sc[static_cast<size_t>(i)] / so, m, sh);
        o.in_mult.push_back(m);
        o.in_shift.push_back(sh);
      }
    }
    sc[static_cast<size_t>(n.out)] = so;
    const GTensor& t = tensors[static_cast<size_t>(n.out)];
    e.tensors.push_back({t.name, t.c, t.h, t.w, so});
    e.nodes.push_back(o);
  }
  e.output = tensors[static_cast<size_t>(out_tensor)].name;
  e.input_mean = input_mean;
  e.input_std = input_std;
  return e;
}

}  // namespace cimsim::enos::search
