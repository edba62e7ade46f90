// ENOS export -> accelerator program graph (include/cimsim/enos/graph.hpp).
#include "cimsim/enos/graph.hpp"

#include <functional>
#include <map>

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
      case NodeKind::Accel:
        add(n.name, n.layer, {tensor(n.inputs[0])}, tensor(n.output), i);
        break;
      case NodeKind::MaxPool:
        add(n.name, vector_params(LayerShape::vector(LayerKind::MaxPool, 1, in->c, in->h, in->w, n.kernel, n.stride, n.pad)),
            {tensor(n.inputs[0])}, tensor(n.output), i);
        break;
      case NodeKind::AvgPool:
        add(n.name, vector_params(LayerShape::vector(LayerKind::AvgPool, 1, in->c, in->h, in->w, n.kernel, n.stride, 0)),
            {tensor(n.inputs[0])}, tensor(n.output), i);
        break;
      case NodeKind::GlobalAvgPool:
        add(n.name, vector_params(LayerShape::vector(LayerKind::GlobalAvgPool, 1, in->c, in->h, in->w)),
            {tensor(n.inputs[0])}, tensor(n.output), i);
        break;
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
