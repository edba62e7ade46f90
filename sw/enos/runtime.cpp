// Host integer reference runtime (include/cimsim/enos/runtime.hpp).
#include "cimsim/enos/runtime.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/error.hpp"

namespace cimsim::enos {

namespace {
int8_t clamp8(int64_t v, int64_t lo = -128) { return static_cast<int8_t>(std::clamp<int64_t>(v, lo, 127)); }
int64_t floor_div(int64_t a, int64_t b) {  // b > 0
  int64_t q = a / b;
  if ((a % b) != 0 && a < 0) --q;
  return q;
}
}  // namespace

int8_t quantize_pixel(uint8_t p, double scale, double mean, double stdv) {
  const double v = ((static_cast<double>(p) / 255.0) - mean) / stdv / scale;
  const double r = std::round(v);
  if (!(r >= -128)) return -128;  // also NaN (cannot happen for a valid export)
  if (r > 127) return 127;
  return static_cast<int8_t>(r);
}

std::vector<int8_t> quantize_image(const NetworkExport& e, const uint8_t* pixels) {
  const int hw = e.input.h * e.input.w;
  std::vector<int8_t> q(static_cast<size_t>(e.input.elems()));
  for (int c = 0; c < e.input.c; ++c) {
    const double m = e.input_mean.empty() ? 0.0 : e.input_mean[c];
    const double s = e.input_std.empty() ? 1.0 : e.input_std[c];
    int8_t lut[256];
    for (int p = 0; p < 256; ++p) lut[p] = quantize_pixel(static_cast<uint8_t>(p), e.input.scale, m, s);
    for (int i = 0; i < hw; ++i) q[static_cast<size_t>(c) * hw + i] = lut[pixels[static_cast<size_t>(c) * hw + i]];
  }
  return q;
}

namespace hostop {

int64_t rescale(int64_t x, int32_t mult, int32_t shift) {
  const int64_t p = x * mult;  // |x| <= 2^7 * 2^31: fits
  if (shift == 0) return p;
  return floor_div(p + (int64_t{1} << (shift - 1)), int64_t{1} << std::min(shift, 62));
}

int8_t avg_round(int64_t sum, int64_t n) { return clamp8(floor_div(2 * sum + n, 2 * n)); }

void max_pool(const int8_t* in, int c, int h, int w, int k, int s, int p, int8_t* out) {
  const int oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1;
  for (int ch = 0; ch < c; ++ch)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        int m = -128;
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            const int y = oy * s + ky - p, x = ox * s + kx - p;
            const int v = (y < 0 || y >= h || x < 0 || x >= w) ? -128 : in[(static_cast<size_t>(ch) * h + y) * w + x];
            m = std::max(m, v);
          }
        out[(static_cast<size_t>(ch) * oh + oy) * ow + ox] = static_cast<int8_t>(m);
      }
}

void avg_pool(const int8_t* in, int c, int h, int w, int k, int s, int8_t* out) {
  const int oh = (h - k) / s + 1, ow = (w - k) / s + 1;
  const int64_t n = static_cast<int64_t>(k) * k;
  for (int ch = 0; ch < c; ++ch)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox) {
        int64_t sum = 0;
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) sum += in[(static_cast<size_t>(ch) * h + oy * s + ky) * w + ox * s + kx];
        out[(static_cast<size_t>(ch) * oh + oy) * ow + ox] = avg_round(sum, n);
      }
}

void global_avg_pool(const int8_t* in, int c, int h, int w, int8_t* out) {
  const int64_t n = static_cast<int64_t>(h) * w;
  for (int ch = 0; ch < c; ++ch) {
    int64_t sum = 0;
    for (int64_t i = 0; i < n; ++i) sum += in[ch * n + i];
    out[ch] = avg_round(sum, n);
  }
}

void channel_shuffle(const int8_t* in, int c, int h, int w, int g, int8_t* out) {
  const int G = c / g;
  const size_t hw = static_cast<size_t>(h) * w;
  for (int i = 0; i < g; ++i)
    for (int j = 0; j < G; ++j) std::copy_n(in + (static_cast<size_t>(i) * G + j) * hw, hw, out + (static_cast<size_t>(j) * g + i) * hw);
}

}  // namespace hostop

std::vector<HostOpWork> host_op_work(const NetworkExport& e) {
  std::map<std::string, Shape3> sh{{e.input.name, {e.input.c, e.input.h, e.input.w}}};
  for (const auto& t : e.tensors) sh[t.name] = {t.c, t.h, t.w};
  auto el = [](const Shape3& s) { return static_cast<int64_t>(s.c) * s.h * s.w; };
  std::vector<HostOpWork> r;
  for (const auto& n : e.nodes) {
    if (n.kind == NodeKind::Accel) continue;
    HostOpWork w;
    w.node = n.name;
    w.kind = n.kind;
    for (const auto& i : n.inputs) w.in_elems += el(sh[i]);
    w.out_elems = el(sh[n.output]);
    switch (n.kind) {
      case NodeKind::MaxPool:
      case NodeKind::AvgPool: w.ops = w.out_elems * n.kernel * n.kernel; break;  // compares / adds per window
      case NodeKind::GlobalAvgPool: w.ops = w.in_elems; break;
      case NodeKind::Concat:
      case NodeKind::Add: w.ops = w.in_elems; break;  // one rescale per input element (+ add)
      default: w.ops = 0; break;
    }
    r.push_back(w);
  }
  return r;
}

int argmax(const std::vector<int8_t>& v) {
  if (v.empty()) return -1;
  return static_cast<int>(std::max_element(v.begin(), v.end()) - v.begin());  // first maximum
}

void run_host_node(const Node& n, const std::vector<const std::vector<int8_t>*>& ins,
                   const std::vector<Shape3>& in_shapes, std::vector<int8_t>& out) {
  Shape3 os;
  const std::string err = infer_node_shape(n, in_shapes, os);
  if (!err.empty()) throw ConfigError("node '" + n.name + "': " + err);
  out.assign(static_cast<size_t>(os.c) * os.h * os.w, 0);
  const Shape3& s0 = in_shapes.at(0);
  const int8_t* x = ins.at(0)->data();
  switch (n.kind) {
    case NodeKind::Accel: throw ConfigError("node '" + n.name + "': run_host_node called on an accel node");
    case NodeKind::MaxPool: hostop::max_pool(x, s0.c, s0.h, s0.w, n.kernel, n.stride, n.pad, out.data()); break;
    case NodeKind::AvgPool: hostop::avg_pool(x, s0.c, s0.h, s0.w, n.kernel, n.stride, out.data()); break;
    case NodeKind::GlobalAvgPool: hostop::global_avg_pool(x, s0.c, s0.h, s0.w, out.data()); break;
    case NodeKind::ChannelShuffle: hostop::channel_shuffle(x, s0.c, s0.h, s0.w, n.groups, out.data()); break;
    case NodeKind::Split: {
      const size_t hw = static_cast<size_t>(s0.h) * s0.w;
      std::copy_n(x + n.begin * hw, out.size(), out.begin());
      break;
    }
    case NodeKind::Flatten: std::copy_n(x, out.size(), out.begin()); break;
    case NodeKind::Concat: {
      size_t o = 0;
      for (size_t i = 0; i < ins.size(); ++i)
        for (int8_t v : *ins[i]) out[o++] = clamp8(hostop::rescale(v, n.in_mult[i], n.in_shift[i]));
      break;
    }
    case NodeKind::Add: {
      for (size_t k = 0; k < out.size(); ++k) {
        int64_t s = 0;
        for (size_t i = 0; i < ins.size(); ++i) s += hostop::rescale((*ins[i])[k], n.in_mult[i], n.in_shift[i]);
        out[k] = clamp8(s, n.relu ? 0 : -128);
      }
      break;
    }
  }
}

GraphExecutor::GraphExecutor(const NetworkExport& e) : e_(e) {
  const std::string err = e.check();
  if (!err.empty()) throw ConfigError("export '" + e.network + "': " + err);
  std::map<std::string, int> slot{{e.input.name, 0}};
  shapes_.push_back({e.input.c, e.input.h, e.input.w});
  for (size_t i = 0; i < e.nodes.size(); ++i) {
    const Node& n = e.nodes[i];
    std::vector<int> in;
    for (const auto& name : n.inputs) in.push_back(slot.at(name));
    node_inputs_.push_back(in);
    const TensorInfo* t = e.find_tensor(n.output);
    shapes_.push_back({t->c, t->h, t->w});
    slot[n.output] = static_cast<int>(i + 1);
  }
  values_.resize(shapes_.size());
}

InferenceResult GraphExecutor::run(const int8_t* image, const AccelRunner& accel) {
  values_[0].assign(image, image + e_.input.elems());
  for (size_t i = 0; i < e_.nodes.size(); ++i) {
    const Node& n = e_.nodes[i];
    auto& out = values_[i + 1];
    const Shape3& os = shapes_[i + 1];
    if (n.kind == NodeKind::Accel) {
      out.assign(static_cast<size_t>(os.c) * os.h * os.w, 0);
      accel(i, n, values_[node_inputs_[i][0]].data(), out.data());
    } else {
      std::vector<const std::vector<int8_t>*> ins;
      std::vector<Shape3> ish;
      for (int s : node_inputs_[i]) {
        ins.push_back(&values_[s]);
        ish.push_back(shapes_[s]);
      }
      run_host_node(n, ins, ish, out);
    }
  }
  InferenceResult r;
  r.logits = tensor(e_.output);
  r.prediction = argmax(r.logits);
  return r;
}

const std::vector<int8_t>& GraphExecutor::tensor(const std::string& name) const {
  if (name == e_.input.name) return values_[0];
  for (size_t i = 0; i < e_.nodes.size(); ++i)
    if (e_.nodes[i].output == name) return values_[i + 1];
  throw ConfigError("no tensor named '" + name + "'");
}

InferenceResult HostRuntime::infer(const int8_t* image) {
  return g_.run(image, [](size_t, const Node& n, const int8_t* in, int8_t* out) { accel::run_layer(n.layer, in, out); });
}

}  // namespace cimsim::enos
