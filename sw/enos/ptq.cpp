// Post-training quantisation of a float ModelGraph to an ENOS export (include/cimsim/enos/ptq.hpp,
// docs/onnx.md "Quantisation"), and the float reference forward pass it calibrates with.
#include "cimsim/enos/ptq.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <Eigen/Dense>

#include "cimsim/core/error.hpp"
#include "cimsim/core/rng.hpp"

namespace cimsim::enos {

using accel::LayerChoice;
using accel::LayerParams;
using accel::LayerShape;
using accel::Op;

namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

float act_fn(const ModelNode& n, float v) {
  if (n.act == Activation::Relu) return std::max(v, 0.0f);
  if (n.act == Activation::Clip) return std::min(std::max(v, 0.0f), n.clip_max);
  return v;
}

void conv_forward(const ModelNode& n, const ModelTensor& it, const std::vector<float>& x, const ModelTensor& ot,
                  std::vector<float>& y) {
  const int G = n.groups, cpg = it.c / G, opg = n.cout / G, k = n.kernel;
  const int64_t P = static_cast<int64_t>(ot.h) * ot.w, K = static_cast<int64_t>(cpg) * k * k;
  // im2col in blocks of output positions, at most ~16 M floats of columns at a time.
  const int64_t PB = std::max<int64_t>(1, std::min<int64_t>(P, (int64_t{1} << 24) / std::max<int64_t>(K, 1)));
  Mat col(K, PB);
  for (int g = 0; g < G; ++g) {
    Eigen::Map<const Mat> w(n.weight.data() + static_cast<int64_t>(g) * opg * K, opg, K);
    Eigen::Map<Mat> out(y.data() + static_cast<int64_t>(g) * opg * P, opg, P);
    for (int64_t p0 = 0; p0 < P; p0 += PB) {
      const int64_t pn = std::min(PB, P - p0);
      for (int ci = 0; ci < cpg; ++ci)
        for (int ky = 0; ky < k; ++ky)
          for (int kx = 0; kx < k; ++kx) {
            float* row = col.data() + ((ci * k + ky) * k + kx) * PB;
            const float* src = x.data() + static_cast<int64_t>(g * cpg + ci) * it.h * it.w;
            int oy = static_cast<int>(p0 / ot.w), ox = static_cast<int>(p0 % ot.w);
            for (int64_t p = 0; p < pn; ++p) {
              const int iy = oy * n.stride + ky - n.pad, ix = ox * n.stride + kx - n.pad;
              row[p] = (iy < 0 || iy >= it.h || ix < 0 || ix >= it.w) ? 0.0f : src[iy * it.w + ix];
              if (++ox == ot.w) {
                ox = 0;
                ++oy;
              }
            }
          }
      out.middleCols(p0, pn).noalias() = w * col.leftCols(pn);
    }
  }
  for (int o = 0; o < n.cout; ++o) {
    const float b = n.bias.empty() ? 0.0f : n.bias[static_cast<size_t>(o)];
    float* p = y.data() + static_cast<int64_t>(o) * P;
    for (int i = 0; i < P; ++i) p[i] = act_fn(n, p[i] + b);
  }
}

}  // namespace

std::vector<std::vector<float>> float_forward(const ModelGraph& g, const std::vector<uint8_t>& image) {
  const ModelTensor& in = g.tensors[0];
  if (static_cast<int64_t>(image.size()) != in.elems())
    throw ConfigError("float_forward: image has " + std::to_string(image.size()) + " pixels, the graph input " +
                      std::to_string(in.elems()));
  std::vector<std::vector<float>> v(g.tensors.size());
  v[0].resize(image.size());
  const int64_t hw = static_cast<int64_t>(in.h) * in.w;
  for (int c = 0; c < in.c; ++c) {
    const double m = g.input_mean.empty() ? 0.0 : g.input_mean[static_cast<size_t>(c)];
    const double s = g.input_std.empty() ? 1.0 : g.input_std[static_cast<size_t>(c)];
    for (int64_t i = 0; i < hw; ++i)
      v[0][static_cast<size_t>(c * hw + i)] = static_cast<float>((image[static_cast<size_t>(c * hw + i)] / 255.0 - m) / s);
  }
  for (const ModelNode& n : g.nodes) {
    const ModelTensor& it = g.tensors[static_cast<size_t>(n.inputs[0])];
    const ModelTensor& ot = g.tensors[static_cast<size_t>(n.output)];
    const std::vector<float>& x = v[static_cast<size_t>(n.inputs[0])];
    std::vector<float>& y = v[static_cast<size_t>(n.output)];
    y.assign(static_cast<size_t>(ot.elems()), 0.0f);
    const int64_t ihw = static_cast<int64_t>(it.h) * it.w, ohw = static_cast<int64_t>(ot.h) * ot.w;
    switch (n.op) {
      case ModelOp::Conv:
        if (n.weight.empty()) throw ConfigError("float_forward: node '" + n.name + "' carries no weights");
        conv_forward(n, it, x, ot, y);
        break;
      case ModelOp::MaxPool:
      case ModelOp::AvgPool:
        for (int c = 0; c < ot.c; ++c)
          for (int oy = 0; oy < ot.h; ++oy)
            for (int ox = 0; ox < ot.w; ++ox) {
              float mx = -INFINITY;
              double sum = 0;
              for (int ky = 0; ky < n.kernel; ++ky)
                for (int kx = 0; kx < n.kernel; ++kx) {
                  const int iy = oy * n.stride + ky - n.pad, ix = ox * n.stride + kx - n.pad;
                  if (iy < 0 || iy >= it.h || ix < 0 || ix >= it.w) continue;
                  const float e = x[static_cast<size_t>(c * ihw + iy * it.w + ix)];
                  mx = std::max(mx, e);
                  sum += e;
                }
              y[static_cast<size_t>(c * ohw + oy * ot.w + ox)] =
                  n.op == ModelOp::MaxPool ? mx : static_cast<float>(sum / (n.kernel * n.kernel));
            }
        break;
      case ModelOp::GlobalAvgPool:
        for (int c = 0; c < it.c; ++c) {
          double s = 0;
          for (int64_t i = 0; i < ihw; ++i) s += x[static_cast<size_t>(c * ihw + i)];
          y[static_cast<size_t>(c)] = static_cast<float>(s / static_cast<double>(ihw));
        }
        break;
      case ModelOp::ChannelShuffle: {
        const int gr = n.groups, G = it.c / gr;
        for (int i = 0; i < gr; ++i)
          for (int j = 0; j < G; ++j)
            std::copy_n(x.begin() + (i * G + j) * ihw, ihw, y.begin() + (j * gr + i) * ihw);
        break;
      }
      case ModelOp::Split:
        std::copy_n(x.begin() + n.begin * ihw, ot.elems(), y.begin());
        break;
      case ModelOp::Flatten:
        y = x;
        break;
      case ModelOp::Concat: {
        int64_t off = 0;
        for (int t : n.inputs) {
          const auto& src = v[static_cast<size_t>(t)];
          std::copy(src.begin(), src.end(), y.begin() + off);
          off += static_cast<int64_t>(src.size());
        }
        break;
      }
      case ModelOp::Add:
        for (int t : n.inputs) {
          const auto& src = v[static_cast<size_t>(t)];
          for (size_t i = 0; i < y.size(); ++i) y[i] += src[i];
        }
        for (float& e : y) e = act_fn(n, e);
        break;
    }
  }
  return v;
}

void real_to_mult(double m, int32_t& mult, int32_t& shift, const std::string& what) {
  if (!std::isfinite(m) || m < 0) throw ConfigError(what + ": scale ratio " + std::to_string(m) + " is not finite and >= 0");
  if (m == 0) {
    mult = 0;
    shift = 0;
    return;
  }
  if (m >= 2147483648.0) throw ConfigError(what + ": scale ratio " + std::to_string(m) + " is >= 2^31 (not representable)");
  int s = 30 - static_cast<int>(std::floor(std::log2(m)));
  s = std::clamp(s, 0, 62);
  double q = std::nearbyint(std::ldexp(m, s));
  while (q >= 2147483648.0 && s > 0) {
    --s;
    q = std::nearbyint(std::ldexp(m, s));
  }
  if (q >= 2147483648.0) throw ConfigError(what + ": scale ratio " + std::to_string(m) + " is not representable");
  mult = static_cast<int32_t>(q);
  shift = s;
}

NetworkExport quantize(const ModelGraph& g, const PtqOptions& opt) {
  if (std::string e = g.check(); !e.empty()) throw ConfigError("quantize: graph '" + g.name + "': " + e);
  if (!g.has_weights()) throw ConfigError("quantize: graph '" + g.name + "' carries no weights");
  const ModelTensor& in = g.tensors[0];
  // ---- per-node operator choices ----
  std::map<std::string, int> node_index;
  for (size_t i = 0; i < g.nodes.size(); ++i) node_index[g.nodes[i].name] = static_cast<int>(i);
  std::vector<LayerChoice> choice(g.nodes.size(), opt.uniform);
  for (const LayerChoice& c : opt.assignment) {
    auto it = node_index.find(c.layer);
    const std::string where = c.origin.empty() ? std::string("assignment") : c.origin + ":" + std::to_string(c.row);
    if (it == node_index.end()) {
      std::string names;
      for (const ModelNode& n : g.nodes)
        if (n.op == ModelOp::Conv) names += (names.empty() ? "" : ", ") + n.name;
      if (names.size() > 400) names = names.substr(0, 400) + ", ...";
      throw ConfigError(where + ": layer '" + c.layer + "' is not a node of '" + g.name + "' (conv/fc nodes: " + names + ")");
    }
    if (g.nodes[static_cast<size_t>(it->second)].op != ModelOp::Conv)
      throw ConfigError(where + ": node '" + c.layer + "' is a " + model_op_name(g.nodes[static_cast<size_t>(it->second)].op) +
                        " node; only conv/fc nodes take an operator");
    choice[static_cast<size_t>(it->second)] = c;
  }
  // ---- calibration: max|x| and mean|x| per tensor ----
  std::vector<std::vector<uint8_t>> imgs = opt.calib_images;
  if (imgs.empty()) {
    for (int i = 0; i < std::max(opt.random_images, 1); ++i) {
      const CounterRng rng(opt.seed, static_cast<uint64_t>(i));
      std::vector<uint8_t> im(static_cast<size_t>(in.elems()));
      for (size_t k = 0; k < im.size(); ++k) im[k] = static_cast<uint8_t>(rng.bits(k) & 0xff);
      imgs.push_back(std::move(im));
    }
  }
  std::vector<double> maxabs(g.tensors.size(), 0.0), sumabs(g.tensors.size(), 0.0), cnt(g.tensors.size(), 0.0);
  // A QDQ source that gives every layer/add output scale needs no calibration (XNOR still needs mean |x|).
  bool need_calib = false;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ModelNode& n = g.nodes[i];
    if ((n.op == ModelOp::Conv || n.op == ModelOp::Add) && n.out_scale == 0) need_calib = true;
    if (n.op == ModelOp::Conv && choice[i].op == Op::XNOR) need_calib = true;
  }
  if (!need_calib) imgs.clear();
  for (const auto& im : imgs) {
    if (static_cast<int64_t>(im.size()) != in.elems())
      throw ConfigError("quantize: a calibration image has " + std::to_string(im.size()) + " pixels, the input '" + in.name +
                        "' needs " + std::to_string(in.elems()));
    const auto v = float_forward(g, im);
    for (size_t t = 0; t < v.size(); ++t)
      for (float x : v[t]) {
        maxabs[t] = std::max(maxabs[t], static_cast<double>(std::fabs(x)));
        sumabs[t] += std::fabs(x);
      }
    for (size_t t = 0; t < v.size(); ++t) cnt[t] += static_cast<double>(v[t].size());
  }
  // ---- scales ----
  std::vector<int> uses(g.tensors.size(), 0), prod(g.tensors.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (int t : g.nodes[i].inputs) ++uses[static_cast<size_t>(t)];
    prod[static_cast<size_t>(g.nodes[i].output)] = static_cast<int>(i);
  }
  ++uses[static_cast<size_t>(g.output)];
  std::vector<double> sc(g.tensors.size(), 0.0);
  {
    double bound = 0;
    for (int c = 0; c < in.c; ++c) {
      const double m = g.input_mean.empty() ? 0.0 : g.input_mean[static_cast<size_t>(c)];
      const double s = g.input_std.empty() ? 1.0 : g.input_std[static_cast<size_t>(c)];
      bound = std::max({bound, std::fabs((0.0 - m) / s), std::fabs((1.0 - m) / s)});
    }
    sc[0] = g.input_scale > 0 ? g.input_scale : (bound > 0 ? bound / 127.0 : 1.0 / 127.0);
  }
  auto natural = [&](int t) { return maxabs[static_cast<size_t>(t)] > 0 ? maxabs[static_cast<size_t>(t)] / 127.0 : 1.0 / 127.0; };
  std::vector<std::string> notes;
  for (const ModelNode& n : g.nodes) {
    const size_t o = static_cast<size_t>(n.output);
    const double s_in = sc[static_cast<size_t>(n.inputs[0])];
    switch (n.op) {
      case ModelOp::Conv:
      case ModelOp::Add: {
        double s = n.out_scale > 0 ? n.out_scale : natural(n.output);
        if (n.act == Activation::Clip && 127.0 * s > n.clip_max * (1 + 1e-9)) {
          if (n.out_scale > 0) notes.push_back("node '" + n.name + "': QDQ scale does not make code 127 the clip; using clip_max/127");
          s = n.clip_max / 127.0;
        }
        sc[o] = s;
        break;
      }
      case ModelOp::Concat: {
        double s = 0;
        for (int t : n.inputs) s = std::max(s, sc[static_cast<size_t>(t)]);
        if (n.out_scale > 0) s = n.out_scale;
        for (int t : n.inputs) {  // single-use Conv/Add inputs produce at the concat's scale
          const int p = prod[static_cast<size_t>(t)];
          if (p < 0 || uses[static_cast<size_t>(t)] != 1) continue;
          const ModelNode& pn = g.nodes[static_cast<size_t>(p)];
          if ((pn.op == ModelOp::Conv || pn.op == ModelOp::Add) && pn.act != Activation::Clip && pn.out_scale == 0)
            sc[static_cast<size_t>(t)] = s;
        }
        sc[o] = s;
        break;
      }
      default:
        sc[o] = s_in;
        break;
    }
  }
  // ---- the export ----
  NetworkExport e;
  e.network = g.name;
  e.dataset = opt.dataset;
  e.input = {in.name, in.c, in.h, in.w, sc[0]};
  e.input_mean = g.input_mean;
  e.input_std = g.input_std;
  e.array = opt.array;
  auto tname = [&](int t) { return g.tensors[static_cast<size_t>(t)].name; };
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const ModelNode& n = g.nodes[i];
    const ModelTensor& it = g.tensors[static_cast<size_t>(n.inputs[0])];
    const ModelTensor& ot = g.tensors[static_cast<size_t>(n.output)];
    const double s_out = sc[static_cast<size_t>(n.output)];
    Node x;
    x.name = n.name;
    for (int t : n.inputs) x.inputs.push_back(tname(t));
    x.output = tname(n.output);
    const std::string lab = "quantize: node '" + n.name + "'";
    auto rescale_inputs = [&]() {
      for (int t : n.inputs) {
        const double r = sc[static_cast<size_t>(t)] / s_out;
        int32_t m = 1, s = 0;
        if (std::fabs(r - 1.0) > 1e-12) real_to_mult(r, m, s, lab + " input '" + tname(t) + "'");
        x.in_mult.push_back(m);
        x.in_shift.push_back(s);
      }
    };
    switch (n.op) {
      case ModelOp::Conv: {
        const LayerChoice& ch = choice[i];
        LayerParams& L = x.layer;
        x.kind = NodeKind::Accel;
        L.shape = n.fc ? LayerShape::fc(1, it.c, n.cout)
                       : LayerShape::conv(1, it.c, it.h, it.w, n.cout, n.kernel, n.stride, n.pad, n.groups);
        L.op = ch.op;
        L.mode = ch.mode;
        L.cim = ch.cim;
        L.rq.relu = n.act != Activation::None;
        const int64_t K = static_cast<int64_t>(it.c / n.groups) * n.kernel * n.kernel;
        const double s_in = sc[static_cast<size_t>(n.inputs[0])];
        const double mean_in = cnt[static_cast<size_t>(n.inputs[0])] > 0
                                   ? sumabs[static_cast<size_t>(n.inputs[0])] / cnt[static_cast<size_t>(n.inputs[0])] : 0.0;
        L.weights.resize(static_cast<size_t>(n.cout * K));
        L.rq.mult.resize(static_cast<size_t>(n.cout));
        L.rq.shift.resize(static_cast<size_t>(n.cout));
        L.rq.bias.resize(static_cast<size_t>(n.cout));
        for (int oc = 0; oc < n.cout; ++oc) {
          const float* w = n.weight.data() + oc * K;
          int8_t* q = L.weights.data() + oc * K;
          double mx = 0, mean = 0;
          for (int64_t k = 0; k < K; ++k) {
            mx = std::max(mx, static_cast<double>(std::fabs(w[k])));
            mean += std::fabs(w[k]);
          }
          mean /= static_cast<double>(K);
          double factor = 0;  // real value of one accumulator unit
          switch (L.op) {
            case Op::MAC8:
            case Op::MAC4: {
              const int qmax = L.op == Op::MAC8 ? 127 : 7;
              double s = mx > 0 ? mx / qmax : 1.0;
              if (L.op == Op::MAC8 && !n.weight_scale.empty())
                s = n.weight_scale.size() == 1 ? n.weight_scale[0] : n.weight_scale[static_cast<size_t>(oc)];
              for (int64_t k = 0; k < K; ++k)
                q[k] = static_cast<int8_t>(std::clamp<double>(std::nearbyint(w[k] / s), -qmax, qmax));
              factor = s_in * s * (L.op == Op::MAC4 ? 16.0 : 1.0);  // MAC4 reads x4 ~ x / 16
              break;
            }
            case Op::BWN:
            case Op::XNOR:
              for (int64_t k = 0; k < K; ++k) q[k] = w[k] >= 0 ? 1 : -1;
              factor = mean * (L.op == Op::BWN ? s_in : mean_in);  // XNOR: |x| ~ its calibrated mean
              break;
            case Op::DEEPSHIFT: {
              const double s = mx > 0 ? mx / 64.0 : 1.0;
              for (int64_t k = 0; k < K; ++k) {
                const double r = std::fabs(w[k]) / s;
                if (r < std::sqrt(0.5)) {
                  q[k] = 0;
                  continue;
                }
                const int ex = std::clamp(static_cast<int>(std::nearbyint(std::log2(r))), 0, 6);
                q[k] = static_cast<int8_t>((w[k] < 0 ? -1 : 1) * (1 << ex));
              }
              factor = s_in * s;
              break;
            }
            case Op::MF:
            case Op::ADDER:  // weights on the activation's scale (the operator adds |x| and |w|)
              for (int64_t k = 0; k < K; ++k)
                q[k] = static_cast<int8_t>(std::clamp<double>(std::nearbyint(w[k] / s_in), -127, 127));
              factor = s_in;
              break;
          }
          const std::string what = lab + " channel " + std::to_string(oc);
          int32_t m = 0, s = 0;
          real_to_mult(factor / s_out, m, s, what);
          const double b = n.bias.empty() ? 0.0 : n.bias[static_cast<size_t>(oc)];
          double bq = std::nearbyint(std::ldexp(b / s_out, s));
          while (std::fabs(bq) > 4.0e18 && s > 0) {  // keep the bias in int64: give up low multiplier bits
            --s;
            m = static_cast<int32_t>(std::nearbyint(std::ldexp(factor / s_out, s)));
            bq = std::nearbyint(std::ldexp(b / s_out, s));
          }
          if (std::fabs(bq) > 4.0e18) throw ConfigError(what + ": bias " + std::to_string(b) + " is not representable");
          L.rq.mult[static_cast<size_t>(oc)] = m;
          L.rq.shift[static_cast<size_t>(oc)] = s;
          L.rq.bias[static_cast<size_t>(oc)] = static_cast<int64_t>(bq);
        }
        break;  // e.check() below validates the layer (shape, weight codes, requant) naming the node
      }
      case ModelOp::MaxPool: x.kind = NodeKind::MaxPool; x.kernel = n.kernel; x.stride = n.stride; x.pad = n.pad; break;
      case ModelOp::AvgPool: x.kind = NodeKind::AvgPool; x.kernel = n.kernel; x.stride = n.stride; x.pad = 0; break;
      case ModelOp::GlobalAvgPool: x.kind = NodeKind::GlobalAvgPool; break;
      case ModelOp::ChannelShuffle: x.kind = NodeKind::ChannelShuffle; x.groups = n.groups; break;
      case ModelOp::Split: x.kind = NodeKind::Split; x.begin = n.begin; x.end = n.end; break;
      case ModelOp::Flatten: x.kind = NodeKind::Flatten; break;
      case ModelOp::Concat: x.kind = NodeKind::Concat; rescale_inputs(); break;
      case ModelOp::Add:
        if (n.inputs.size() != 2) throw ConfigError(lab + ": the accelerator adds exactly 2 inputs, got " + std::to_string(n.inputs.size()));
        if (n.act == Activation::Clip) throw ConfigError(lab + ": Add with a Clip is not supported (only ReLU)");
        x.kind = NodeKind::Add;
        x.relu = n.act == Activation::Relu;
        rescale_inputs();
        break;
    }
    e.tensors.push_back({x.output, ot.c, ot.h, ot.w, s_out});
    e.nodes.push_back(std::move(x));
  }
  e.output = tname(g.output);
  e.classes = static_cast<int>(g.tensors[static_cast<size_t>(g.output)].elems());
  e.meta = nlohmann::json::object();
  e.meta["source"] = "ptq";
  e.meta["calibration"] = !need_calib ? "none (every scale from the source)" : opt.calib_images.empty() ? "random" : "images";
  e.meta["calibration_images"] = imgs.size();
  for (const auto& s : g.notes) notes.push_back(s);
  if (!notes.empty()) e.meta["notes"] = notes;
  if (std::string why = e.check(); !why.empty()) throw ConfigError("quantize: graph '" + g.name + "': " + why);
  return e;
}

}  // namespace cimsim::enos
