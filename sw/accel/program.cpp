// Program compiler: graph -> memory-hierarchy plan (include/cimsim/accel/program.hpp).
#include "cimsim/accel/program.hpp"

#include <algorithm>
#include <map>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/error.hpp"

namespace cimsim::accel {

namespace {
constexpr uint64_t kAlign = 64;
uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
}  // namespace

int Graph::add_tensor(const std::string& name, int c, int h, int w) {
  tensors.push_back({name, c, h, w, -1, 0});
  return static_cast<int>(tensors.size()) - 1;
}

int Graph::add_view(const std::string& name, int of, int c0, int c, int h, int w) {
  tensors.push_back({name, c, h, w, of, c0});
  return static_cast<int>(tensors.size()) - 1;
}

std::string Graph::check() const {
  const int nt = static_cast<int>(tensors.size());
  auto bad_id = [nt](int t) { return t < 0 || t >= nt; };
  if (batch < 1) return "graph: batch must be >= 1";
  if (bad_id(input)) return "graph: input tensor id out of range";
  if (tensors[input].view_of >= 0) return "graph: the input tensor must not be a view";
  for (int t = 0; t < nt; ++t) {
    const GraphTensor& x = tensors[t];
    if (x.c < 1 || x.h < 1 || x.w < 1) return "graph: tensor '" + x.name + "' has an empty shape";
    if (x.view_of < 0) continue;
    if (x.view_of >= t) return "graph: view '" + x.name + "' must refer to an earlier tensor";
    const GraphTensor& b = tensors[x.view_of];
    const bool slice = x.h == b.h && x.w == b.w && x.view_c0 >= 0 && x.view_c0 + x.c <= b.c;
    const bool reshape = x.view_c0 == 0 && x.elems() == b.elems();
    if (!slice && !reshape)
      return "graph: view '" + x.name + "' is neither a channel slice nor a reshape of '" + b.name + "'";
    if (!slice && batch > 1 && b.view_of >= 0)
      return "graph: reshape view '" + x.name + "' of a slice needs batch 1";
  }
  std::vector<int> producers(nt, 0);
  for (const GraphNode& n : nodes) {
    const LayerShape& s = n.params.shape;
    if (bad_id(n.output)) return "graph: node '" + n.name + "' has no valid output tensor";
    const size_t want = s.kind == LayerKind::Add ? 2 : 1;
    if (n.inputs.size() != want)
      return "graph: node '" + n.name + "' needs " + std::to_string(want) + " input(s), has " +
             std::to_string(n.inputs.size());
    if (s.n != batch) return "graph: node '" + n.name + "' has batch " + std::to_string(s.n) + ", graph " + std::to_string(batch);
    for (int in : n.inputs) {
      if (bad_id(in)) return "graph: node '" + n.name + "' reads an invalid tensor id";
      const GraphTensor& x = tensors[in];
      if (x.c != s.cin || x.h != s.h || x.w != s.w)
        return "graph: node '" + n.name + "' expects a " + std::to_string(s.cin) + "x" + std::to_string(s.h) + "x" +
               std::to_string(s.w) + " input, tensor '" + x.name + "' is " + std::to_string(x.c) + "x" +
               std::to_string(x.h) + "x" + std::to_string(x.w);
    }
    const GraphTensor& o = tensors[n.output];
    if (o.c != s.cout || o.h != s.out_h() || o.w != s.out_w())
      return "graph: node '" + n.name + "' produces " + std::to_string(s.cout) + "x" + std::to_string(s.out_h()) + "x" +
             std::to_string(s.out_w()) + ", tensor '" + o.name + "' is " + std::to_string(o.c) + "x" +
             std::to_string(o.h) + "x" + std::to_string(o.w);
    if (o.view_of >= 0 && !(o.h == tensors[o.view_of].h && o.w == tensors[o.view_of].w))
      return "graph: node '" + n.name + "' writes into a reshape view";
    ++producers[n.output];
  }
  for (int t : outputs) {
    if (bad_id(t)) return "graph: output tensor id out of range";
    if (tensors[t].view_of >= 0 && tensors[tensors[t].view_of].c != tensors[t].c)
      return "graph: output '" + tensors[t].name + "' must not be a partial slice";
  }
  return {};
}

Graph Graph::chain(const std::vector<LayerParams>& layers, bool all_outputs) {
  if (layers.empty()) throw ConfigError("graph: no layers");
  Graph g;
  g.batch = layers[0].shape.n;
  const LayerShape& s0 = layers[0].shape;
  int t = g.add_tensor("input", s0.cin, s0.h, s0.w);
  g.input = t;
  for (size_t i = 0; i < layers.size(); ++i) {
    const LayerShape& s = layers[i].shape;
    const GraphTensor& prev = g.tensors[t];
    if (i > 0 && (prev.c != s.cin || prev.h != s.h || prev.w != s.w)) {
      if (prev.elems() == static_cast<int64_t>(s.cin) * s.h * s.w)
        t = g.add_view("flat" + std::to_string(i), t, 0, s.cin, s.h, s.w);  // e.g. conv -> fc
      else
        throw ConfigError("graph: layer " + std::to_string(i - 1) + " produces " + std::to_string(prev.elems()) +
                          " values, layer " + std::to_string(i) + " consumes " +
                          std::to_string(static_cast<int64_t>(s.cin) * s.h * s.w));
    }
    const int out = g.add_tensor("t" + std::to_string(i), s.cout, s.out_h(), s.out_w());
    g.nodes.push_back({"layer" + std::to_string(i), layers[i], {t}, out});
    if (s.kind == LayerKind::Add) g.nodes.back().inputs.push_back(t);
    if (all_outputs || i + 1 == layers.size()) g.outputs.push_back(out);
    t = out;
  }
  return g;
}

int64_t constant_bytes(const LayerParams& p) {
  if (is_vector_kind(p.shape.kind)) return 0;
  return static_cast<int64_t>(packed_row_bytes(p.op, p.shape.reduction())) * p.shape.cout +
         int64_t{kRequantBytesPerChannel} * p.shape.cout;
}

ProgramPlan plan_program(const Graph& g, const ArrayConfig& cfg, const ProgramOptions& opt) {
  if (std::string why = g.check(); !why.empty()) throw ConfigError(why);
  if (std::string why = cfg.check(); !why.empty()) throw ConfigError(why);
  const int nt = static_cast<int>(g.tensors.size());
  const int nn = static_cast<int>(g.nodes.size());
  // Owner and per-image byte offset of every tensor.
  std::vector<int> owner(nt);
  std::vector<uint64_t> off(nt, 0);
  for (int t = 0; t < nt; ++t) {
    const GraphTensor& x = g.tensors[t];
    if (x.view_of < 0) {
      owner[t] = t;
    } else {
      owner[t] = owner[x.view_of];
      const GraphTensor& p = g.tensors[x.view_of];
      off[t] = off[x.view_of] + static_cast<uint64_t>(x.view_c0) * static_cast<uint64_t>(p.h) * static_cast<uint64_t>(p.w);
    }
  }
  auto bytes_of = [&](int t) { return static_cast<uint64_t>(g.tensors[t].elems()) * static_cast<uint64_t>(g.batch); };
  // Liveness of owning tensors (node indices; -1: before the first node).
  std::vector<int> first(nt, nn), last(nt, -1);
  first[owner[g.input]] = -1;
  for (int i = 0; i < nn; ++i) {
    const int o = owner[g.nodes[i].output];
    first[o] = std::min(first[o], i);
    last[o] = std::max(last[o], i);
    for (int in : g.nodes[i].inputs) last[owner[in]] = std::max(last[owner[in]], i);
  }
  std::vector<bool> forced_dram(nt, false);
  forced_dram[owner[g.input]] = true;
  for (int t : g.outputs) forced_dram[owner[t]] = true;
  if (!opt.residency)
    for (int t = 0; t < nt; ++t) forced_dram[t] = true;

  // Constants: pin all when they fit.
  ProgramPlan plan;
  plan.nodes.resize(static_cast<size_t>(nn));
  std::vector<uint32_t> woff(static_cast<size_t>(nn), 0);
  int64_t wtotal = 0;
  for (int i = 0; i < nn; ++i) {
    const int64_t cb = constant_bytes(g.nodes[i].params);
    if (cb == 0) continue;
    wtotal = static_cast<int64_t>(align_up(static_cast<uint64_t>(wtotal), 16));
    woff[static_cast<size_t>(i)] = static_cast<uint32_t>(wtotal);
    wtotal += cb;
  }
  plan.constant_bytes = wtotal;
  const bool pin = opt.pin_weights && wtotal > 0 && wtotal <= cfg.weight_buffer_bytes;
  plan.pinned_bytes = pin ? wtotal : 0;

  const uint64_t AB = static_cast<uint64_t>(cfg.act_buffer_bytes);
  for (int attempt = 0; attempt <= nt; ++attempt) {
    // First-fit allocation of resident tensors over their live ranges.
    std::vector<bool> on_chip(nt, false);
    std::vector<uint64_t> ab_off(nt, 0);
    std::map<uint64_t, std::pair<uint64_t, int>> live;  // offset -> (end, owner)
    int64_t peak = 0;
    bool restart = false;
    for (int i = 0; i < nn && !restart; ++i) {
      for (auto it = live.begin(); it != live.end();) it = last[it->second.second] < i ? live.erase(it) : std::next(it);
      const GraphNode& n = g.nodes[i];
      const int o = owner[n.output];
      if (first[o] == i && !forced_dram[o]) {
        const uint64_t need = bytes_of(o);
        uint64_t pos = 0;
        for (const auto& [s, e] : live) {
          if (pos + need <= s) break;
          pos = std::max(pos, align_up(e.first, kAlign));
        }
        if (pos + need <= AB) {
          on_chip[o] = true;
          ab_off[o] = pos;
          live[pos] = {pos + need, o};
          peak = std::max<int64_t>(peak, static_cast<int64_t>(pos + need));
        }
      }
      // Staging: the largest free gap while this node runs.
      uint64_t best_s = 0, best_len = 0, pos = 0;
      for (const auto& [s, e] : live) {
        if (s > pos && s - pos > best_len) best_s = pos, best_len = s - pos;
        pos = std::max(pos, align_up(e.first, kAlign));
      }
      if (AB > pos && AB - pos > best_len) best_s = pos, best_len = AB - pos;
      NodePlan& np = plan.nodes[static_cast<size_t>(i)];
      auto loc = [&](int t) {
        OperandLoc l;
        l.base = owner[t];
        l.on_chip = on_chip[owner[t]];
        l.offset = (l.on_chip ? ab_off[owner[t]] : 0) + off[t];
        const GraphTensor& x = g.tensors[t];
        const GraphTensor& b = g.tensors[owner[t]];
        l.ctotal = (x.h == b.h && x.w == b.w) ? b.c : 0;
        return l;
      };
      np.in = loc(n.inputs[0]);
      np.in2 = n.inputs.size() > 1 ? loc(n.inputs[1]) : OperandLoc{};
      np.out = loc(n.output);
      np.place = Placement{};
      np.place.in_dram = !np.in.on_chip;
      np.place.in2_dram = n.inputs.size() > 1 ? !np.in2.on_chip : false;
      np.place.out_dram = !np.out.on_chip;
      np.stage_off = static_cast<uint32_t>(best_s);
      np.stage_bytes = static_cast<uint32_t>(std::min<uint64_t>(best_len, UINT32_MAX));
      np.place.stage_bytes = np.stage_bytes;
      np.pinned = pin && constant_bytes(n.params) > 0;
      np.wbuf_off = np.pinned ? woff[static_cast<size_t>(i)] : 0;
      np.place.wbuf_bytes = cfg.weight_buffer_bytes - np.wbuf_off;
      np.place.weights_resident = np.pinned;
      const LayerParams& p = n.params;
      try {
        np.cost = layer_cost(cfg, p.shape, p.op, p.mode, p.cim, np.place);
        Placement first_place = np.place;
        first_place.weights_resident = false;
        np.first_cost = np.pinned ? layer_cost(cfg, p.shape, p.op, p.mode, p.cim, first_place) : np.cost;
      } catch (const BufferOverflowError& e) {
        // Evict the largest resident tensor live at this node (not its own output) and plan again.
        int victim = -1;
        for (const auto& [s, e2] : live)
          if (e2.second != o && (victim < 0 || bytes_of(e2.second) > bytes_of(victim))) victim = e2.second;
        if (victim < 0 && on_chip[o]) victim = o;
        if (victim < 0) throw BufferOverflowError("node '" + n.name + "': " + e.what());
        forced_dram[victim] = true;
        restart = true;
      } catch (const ConfigError& e) {
        throw ConfigError("node '" + n.name + "': " + e.what());
      }
    }
    if (restart) continue;
    plan.tensor_on_chip.assign(static_cast<size_t>(nt), false);
    plan.tensor_ab_off.assign(static_cast<size_t>(nt), 0);
    for (int t = 0; t < nt; ++t) {
      plan.tensor_on_chip[static_cast<size_t>(t)] = on_chip[owner[t]];
      plan.tensor_ab_off[static_cast<size_t>(t)] = on_chip[owner[t]] ? ab_off[owner[t]] + off[t] : 0;
    }
    plan.ab_peak = peak;
    plan.tensor_owner = owner;
    plan.tensor_offset = off;
    return plan;
  }
  throw BufferOverflowError("program: no placement of the graph's tensors fits the activation buffer");
}

}  // namespace cimsim::accel
