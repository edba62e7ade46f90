// ENOS export -> accelerator program graph (include/cimsim/enos/graph.hpp).
#include "cimsim/enos/graph.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <type_traits>

#include "cimsim/core/error.hpp"

namespace cimsim::enos {

using accel::LayerKind;
using accel::LayerParams;
using accel::LayerShape;

namespace {

LayerParams vector_params(LayerShape s) {
  LayerParams p;
  p.shape = s;
  p.op = accel::Op::MAC8;
  p.mode = accel::Mode::Digital;
  return p;
}

}  // namespace

ExportGraph to_graph(const NetworkExport& e) {
  if (std::string why = e.check(); !why.empty()) throw ConfigError(why);
  ExportGraph out;
  accel::Graph& g = out.graph;
  g.batch = 1;
  // Consumers of each tensor (the network output counts as one).
  std::map<std::string, int> uses;
  for (const Node& n : e.nodes)
    for (const auto& in : n.inputs) ++uses[in];
  ++uses[e.output];
  std::map<std::string, int> producer;  // tensor -> export node index
  for (size_t i = 0; i < e.nodes.size(); ++i) producer[e.nodes[i].output] = static_cast<int>(i);
  // In-place concat inputs: tensor -> (concat output tensor, channel offset).
  std::map<std::string, std::pair<std::string, int>> alias;
  for (const Node& n : e.nodes) {
    if (n.kind != NodeKind::Concat) continue;
    int c0 = 0;
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      const std::string& t = n.inputs[k];
      const TensorInfo* ti = e.find_tensor(t);
      const auto p = producer.find(t);
      const bool identity = n.in_mult[k] == 1 && n.in_shift[k] == 0;
      if (p != producer.end() && uses[t] == 1 && identity && !alias.count(t)) {
        const NodeKind pk = e.nodes[static_cast<size_t>(p->second)].kind;
        if (pk != NodeKind::Split && pk != NodeKind::Flatten) alias[t] = {n.output, c0};
      }
      c0 += ti->c;
    }
  }
  std::map<std::string, int> id;
  std::function<int(const std::string&)> tensor = [&](const std::string& name) -> int {
    if (auto it = id.find(name); it != id.end()) return it->second;
    const TensorInfo* ti = e.find_tensor(name);
    int t;
    if (auto a = alias.find(name); a != alias.end())
      t = g.add_view(name, tensor(a->second.first), a->second.second, ti->c, ti->h, ti->w);
    else
      t = g.add_tensor(name, ti->c, ti->h, ti->w);
    id[name] = t;
    return t;
  };
  g.input = tensor(e.input.name);
  auto add = [&](const std::string& name, LayerParams p, std::vector<int> ins, int outt, size_t src) {
    g.nodes.push_back({name, std::move(p), std::move(ins), outt});
    out.export_node.push_back(static_cast<int>(src));
  };
  for (size_t i = 0; i < e.nodes.size(); ++i) {
    const Node& n = e.nodes[i];
    const TensorInfo* in = e.find_tensor(n.inputs[0]);
    switch (n.kind) {
      case NodeKind::Accel: {
        // A grouped (e.g. depthwise) convolution whose one output row needs more than a quarter of the
        // activation buffer (all channels of kernel rows) runs as slices of whole groups: groups are
        // independent, so the slices compute exactly the same outputs.
        const LayerShape& s = n.layer.shape;
        const int G = s.groups, cpg = s.cin / std::max(G, 1), opg = s.cout / std::max(G, 1);
        const int64_t row_need = static_cast<int64_t>(cpg) * s.kh * (s.w + 2 * s.pad) + static_cast<int64_t>(opg) * s.out_w();
        const int64_t budget = e.array.act_buffer_bytes / 4;
        const int gs = row_need > 0 ? static_cast<int>(std::max<int64_t>(1, budget / row_need)) : G;
        if (G <= 1 || s.kind != LayerKind::Conv2d || gs >= G) {
          add(n.name, n.layer, {tensor(n.inputs[0])}, tensor(n.output), i);
          break;
        }
        const int src = tensor(n.inputs[0]), dst = tensor(n.output);
        const int64_t wpg = static_cast<int64_t>(opg) * cpg * s.kh * s.kw;  // weights per group
        for (int g0 = 0; g0 < G; g0 += gs) {
          const int gn = std::min(gs, G - g0);
          LayerParams p = n.layer;
          p.shape.cin = gn * cpg;
          p.shape.cout = gn * opg;
          p.shape.groups = gn;
          p.weights.assign(n.layer.weights.begin() + g0 * wpg, n.layer.weights.begin() + (g0 + gn) * wpg);
          auto slice = [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            return v.size() == static_cast<size_t>(s.cout) ? V(v.begin() + g0 * opg, v.begin() + (g0 + gn) * opg) : v;
          };
          p.rq.mult = slice(n.layer.rq.mult);
          p.rq.shift = slice(n.layer.rq.shift);
          p.rq.bias = slice(n.layer.rq.bias);
          const std::string sfx = "[g" + std::to_string(g0) + ":" + std::to_string(g0 + gn) + "]";
          const int sv = g.add_view(n.inputs[0] + sfx, src, g0 * cpg, gn * cpg, s.h, s.w);
          const int dv = g.add_view(n.output + sfx, dst, g0 * opg, gn * opg, s.out_h(), s.out_w());
          add(n.name + sfx, std::move(p), {sv}, dv, i);
        }
        break;
      }
      case NodeKind::MaxPool:
        add(n.name, vector_params(LayerShape::vector(LayerKind::MaxPool, 1, in->c, in->h, in->w, n.kernel, n.stride, n.pad)),
            {tensor(n.inputs[0])}, tensor(n.output), i);
        break;
      case NodeKind::AvgPool:
        add(n.name, vector_params(LayerShape::vector(LayerKind::AvgPool, 1, in->c, in->h, in->w, n.kernel, n.stride, 0)),
            {tensor(n.inputs[0])}, tensor(n.output), i);
        break;
      case NodeKind::GlobalAvgPool: {
        // A GAP stages its whole input map per output row; a large one (e.g. SqueezeNet's 1000x13x13) runs as
        // channel slices of at most a quarter of the activation buffer each (results are per channel).
        const int64_t per_c = static_cast<int64_t>(in->h) * in->w + 1;
        const int64_t budget = std::max<int64_t>(e.array.act_buffer_bytes / 4, per_c);
        const int cc = static_cast<int>(std::min<int64_t>(in->c, budget / per_c));
        if (cc >= in->c) {
          add(n.name, vector_params(LayerShape::vector(LayerKind::GlobalAvgPool, 1, in->c, in->h, in->w)),
              {tensor(n.inputs[0])}, tensor(n.output), i);
          break;
        }
        const int src = tensor(n.inputs[0]), dst = tensor(n.output);
        for (int c0 = 0; c0 < in->c; c0 += cc) {
          const int c = std::min(cc, in->c - c0);
          const std::string sfx = "[" + std::to_string(c0) + ":" + std::to_string(c0 + c) + "]";
          const int sv = g.add_view(n.inputs[0] + sfx, src, c0, c, in->h, in->w);
          const int dv = g.add_view(n.output + sfx, dst, c0, c, 1, 1);
          add(n.name + sfx, vector_params(LayerShape::vector(LayerKind::GlobalAvgPool, 1, c, in->h, in->w)), {sv}, dv, i);
        }
        break;
      }
      case NodeKind::ChannelShuffle:
        add(n.name,
            vector_params(LayerShape::vector(LayerKind::ChannelShuffle, 1, in->c, in->h, in->w, 1, 1, 0, n.groups)),
            {tensor(n.inputs[0])}, tensor(n.output), i);
        break;
      case NodeKind::Split: {
        const TensorInfo* o = e.find_tensor(n.output);
        id[n.output] = g.add_view(n.output, tensor(n.inputs[0]), n.begin, o->c, o->h, o->w);
        break;
      }
      case NodeKind::Flatten: {
        const TensorInfo* o = e.find_tensor(n.output);
        id[n.output] = g.add_view(n.output, tensor(n.inputs[0]), 0, o->c, o->h, o->w);
        break;
      }
      case NodeKind::Concat: {
        const int dst = tensor(n.output);
        int c0 = 0;
        for (size_t k = 0; k < n.inputs.size(); ++k) {
          const std::string& t = n.inputs[k];
          const TensorInfo* ti = e.find_tensor(t);
          const auto a = alias.find(t);
          if (a == alias.end() || a->second.first != n.output) {
            const bool identity = n.in_mult[k] == 1 && n.in_shift[k] == 0;
            LayerParams p = vector_params(LayerShape::vector(identity ? LayerKind::ChannelShuffle : LayerKind::Copy, 1,
                                                              ti->c, ti->h, ti->w));
            if (!identity) {
              p.rq.mult = {n.in_mult[k]};
              p.rq.shift = {n.in_shift[k]};
            }
            const int slice = g.add_view(n.output + "[" + std::to_string(c0) + ":]", dst, c0, ti->c, ti->h, ti->w);
            add(n.name + ".copy" + std::to_string(k), std::move(p), {tensor(t)}, slice, i);
          }
          c0 += ti->c;
        }
        break;
      }
      case NodeKind::Add: {
        LayerParams p = vector_params(LayerShape::vector(LayerKind::Add, 1, in->c, in->h, in->w));
        p.rq.mult = {n.in_mult[0], n.in_mult[1]};
        p.rq.shift = {n.in_shift[0], n.in_shift[1]};
        p.rq.relu = n.relu;
        add(n.name, std::move(p), {tensor(n.inputs[0]), tensor(n.inputs[1])}, tensor(n.output), i);
        break;
      }
    }
  }
  g.outputs = {tensor(e.output)};
  if (std::string why = g.check(); !why.empty()) throw ConfigError("export '" + e.network + "': " + why);
  return out;
}

PredictedEnergy predict_energy(const NetworkExport& e, const EnergyTable& table, const accel::ProgramOptions& opt) {
  return predict_energy(e, to_graph(e), table, opt);
}

PredictedEnergy predict_energy(const NetworkExport& e, const ExportGraph& eg, const EnergyTable& table,
                               const accel::ProgramOptions& opt) {
  const accel::ArrayConfig hw = accel::ArrayConfig::with_table(e.array, table);
  PredictedEnergy r;
  r.plan = accel::plan_program(eg.graph, hw, opt);
  r.node_pj.assign(e.nodes.size(), 0.0);
  for (size_t i = 0; i < eg.graph.nodes.size(); ++i) {
    const accel::NodePlan& np = r.plan.nodes[i];
    const int64_t aj = np.cost.total_aj(table);
    r.node_pj[static_cast<size_t>(eg.export_node[i])] += aj_to_pj(aj);
    r.total_pj += aj_to_pj(aj);
    r.operator_pj += aj_to_pj(np.cost.operator_aj(table));
    r.first_run_extra_pj += aj_to_pj(np.first_cost.total_aj(table) - aj);
  }
  return r;
}

}  // namespace cimsim::enos
