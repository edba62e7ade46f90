// Synthetic ENOS export (include/cimsim/enos/synthetic.hpp).
#include "cimsim/enos/synthetic.hpp"

#include "cimsim/enos/graph.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/rng.hpp"
#include "cimsim/enos/runtime.hpp"

namespace cimsim::enos {

namespace {

int8_t random_weight(accel::Op op, SplitMix64& rng) {
  using accel::Op;
  switch (op) {
    case Op::BWN:
    case Op::XNOR: return rng.below(2) ? 1 : -1;
    case Op::DEEPSHIFT: {
      const int e = static_cast<int>(rng.below(8));  // 7 -> zero weight
      if (e == 7) return 0;
      return static_cast<int8_t>((rng.below(2) ? 1 : -1) * (1 << std::min(e, 4)));
    }
    default: {
      const auto [lo, hi] = accel::weight_range(op);
      return static_cast<int8_t>(lo + static_cast<int>(rng.below(static_cast<uint64_t>(hi - lo + 1))));
    }
  }
}

struct Builder {
  NetworkExport e;
  const EnergyTable& table;
  SplitMix64 rng;
  std::map<std::string, std::vector<int8_t>> values;  // calibration activations
  std::map<std::string, Shape3> shapes;

  Builder(uint64_t seed, const EnergyTable& t) : table(t), rng(seed) {}

  void add_tensor(const std::string& name, Shape3 s, double scale = 0.05) {
    e.tensors.push_back({name, s.c, s.h, s.w, scale});
    shapes[name] = s;
  }

  // Runs node n (already filled except for the output tensor) on the calibration values.
  void finish(Node n) {
    std::vector<Shape3> ins;
    for (const auto& i : n.inputs) ins.push_back(shapes.at(i));
    Shape3 os;
    const std::string err = infer_node_shape(n, ins, os);
    if (!err.empty()) throw std::logic_error("synthetic export: node " + n.name + ": " + err);
    add_tensor(n.output, os);
    std::vector<int8_t> out;
    if (n.kind == NodeKind::Accel) {
      out.resize(static_cast<size_t>(os.c) * os.h * os.w);
      accel::run_layer(n.layer, values.at(n.inputs[0]).data(), out.data());
    } else {
      std::vector<const std::vector<int8_t>*> iv;
      for (const auto& i : n.inputs) iv.push_back(&values.at(i));
      run_host_node(n, iv, ins, out);
    }
    values[n.output] = std::move(out);
    e.nodes.push_back(std::move(n));
  }

  void accel(const std::string& name, const std::string& in, const std::string& out, accel::Op op, accel::Mode mode,
             int cout, int k, int stride, int pad, int groups, bool relu, bool fc = false, double noise = 0.0) {
    Node n;
    n.name = name;
    n.kind = NodeKind::Accel;
    n.inputs = {in};
    n.output = out;
    auto& L = n.layer;
    const Shape3 is = shapes.at(in);
    L.shape.kind = fc ? accel::LayerKind::FullyConnected : accel::LayerKind::Conv2d;
    L.shape.n = 1;
    L.shape.cin = is.c, L.shape.h = is.h, L.shape.w = is.w;
    L.shape.cout = cout, L.shape.kh = k, L.shape.kw = k, L.shape.stride = stride, L.shape.pad = pad;
    L.shape.groups = groups;
    L.op = op;
    L.mode = mode;
    if (mode == accel::Mode::Cim) {
      L.cim.rows = std::min(64, e.array.cim_rows);
      L.cim.adc_bits = 6;
      L.cim.adc_range = 64;
      L.cim.noise_lsb = noise;
      L.cim.gain_sigma = noise > 0 ? 0.02 : 0.0;
      L.cim.seed = rng.next();
    }
    const int64_t K = L.shape.reduction();
    L.weights.resize(static_cast<size_t>(cout * K));
    for (auto& w : L.weights) w = random_weight(op, rng);
    L.rq.bias.assign(cout, 0);
    L.rq.mult.assign(cout, 1);
    L.rq.shift.assign(cout, 0);
    L.rq.relu = relu;
    // Calibrate: map the largest |accumulator| of each channel to about 100.
    const auto acc = accel::layer_accumulators(L, values.at(in).data());
    const int64_t per = static_cast<int64_t>(acc.size()) / cout;
    L.rq.shift.assign(cout, 16);
    for (int oc = 0; oc < cout; ++oc) {
      int64_t mx = 1;
      for (int64_t i = 0; i < per; ++i) mx = std::max<int64_t>(mx, std::llabs(acc[oc * per + i]));
      L.rq.mult[oc] = static_cast<int32_t>(std::max<int64_t>(1, (int64_t{100} << 16) / mx));
      // An accumulator-unit bias, carried in the requant's 2^-shift units (after the multiply).
      L.rq.bias[oc] = (static_cast<int64_t>(rng.below(2 * mx / 8 + 1)) - mx / 8) * L.rq.mult[oc];
    }
    n.predicted_energy_pj = accel::layer_energy_pj(e.array, table, L.shape, op, mode, L.cim);
    finish(std::move(n));
  }

  void host(NodeKind kind, const std::string& name, std::vector<std::string> in, const std::string& out,
            int kernel = 0, int stride = 1, int pad = 0) {
    Node n;
    n.name = name;
    n.kind = kind;
    n.inputs = std::move(in);
    n.output = out;
    n.kernel = kernel, n.stride = stride, n.pad = pad;
    finish(std::move(n));
  }
};

}  // namespace

NetworkExport make_synthetic_export(uint64_t seed, const EnergyTable& table) {
  using accel::Mode;
  using accel::Op;
  Builder b(seed, table);
  auto& e = b.e;
  e.network = "synthetic-" + std::to_string(seed);
  e.dataset = "fashion-mnist";
  e.classes = 10;
  e.array = accel::ArrayConfig::with_table(e.array, table);
  e.input = {"image", 1, 28, 28, 1.0 / 127.0};
  b.shapes["image"] = {1, 28, 28};
  std::vector<int8_t> img(28 * 28);
  for (auto& v : img) v = static_cast<int8_t>(b.rng.below(128));
  b.values["image"] = img;

  b.accel("conv1", "image", "c1", Op::MAC8, Mode::Digital, 8, 3, 1, 1, 1, true);
  b.host(NodeKind::MaxPool, "pool1", {"c1"}, "p1", 3, 2, 1);  // 8x14x14
  Node s;
  s.kind = NodeKind::Split;
  s.name = "split_a", s.inputs = {"p1"}, s.output = "p1a", s.begin = 0, s.end = 4;
  b.finish(s);
  s.name = "split_b", s.output = "p1b", s.begin = 4, s.end = 8;
  b.finish(s);
  b.accel("conv2a", "p1a", "c2a", Op::MF, Mode::Cim, 4, 3, 1, 1, 1, true);
  b.accel("conv2b", "p1b", "c2b", Op::BWN, Mode::Digital, 4, 3, 1, 1, 2, true);
  Node cat;
  cat.kind = NodeKind::Concat;
  cat.name = "concat2", cat.inputs = {"c2a", "c2b"}, cat.output = "c2";
  cat.in_mult = {1, 3}, cat.in_shift = {0, 2};
  b.finish(cat);
  Node sh;
  sh.kind = NodeKind::ChannelShuffle;
  sh.name = "shuffle2", sh.inputs = {"c2"}, sh.output = "c2s", sh.groups = 2;
  b.finish(sh);
  b.accel("conv3", "c2s", "c3", Op::MAC4, Mode::Cim, 16, 3, 2, 1, 1, false, false, 0.3);  // 16x7x7, noisy ADC
  b.accel("conv3b", "c3", "c3b", Op::DEEPSHIFT, Mode::Digital, 16, 1, 1, 0, 1, false);
  Node add;
  add.kind = NodeKind::Add;
  add.name = "add3", add.inputs = {"c3", "c3b"}, add.output = "r3", add.relu = true;
  add.in_mult = {1, 1}, add.in_shift = {1, 1};
  b.finish(add);
  b.accel("conv4", "r3", "c4", Op::XNOR, Mode::Digital, 16, 3, 1, 1, 1, true);
  b.accel("conv5", "c4", "c5", Op::ADDER, Mode::Digital, 16, 1, 1, 0, 1, false);
  b.host(NodeKind::AvgPool, "avg5", {"c5"}, "a5", 2, 2);  // 16x3x3
  b.host(NodeKind::GlobalAvgPool, "gap", {"a5"}, "g");
  b.host(NodeKind::Flatten, "flat", {"g"}, "f");
  b.accel("fc", "f", "logits", Op::MAC8, Mode::Digital, 10, 1, 1, 0, 1, false, true);
  e.output = "logits";
  e.meta = {{"generator", "cimsim::enos::make_synthetic_export"}, {"seed", seed},
            {"energy_table_fingerprint", table.fingerprint()}};
  // The estimate the simulator is checked against: each layer's steady-state cost in the program plan.
  const PredictedEnergy pe = predict_energy(e, table);
  for (size_t i = 0; i < e.nodes.size(); ++i)
    if (e.nodes[i].kind == NodeKind::Accel) e.nodes[i].predicted_energy_pj = pe.node_pj[i];
  return e;
}

}  // namespace cimsim::enos
