// Implementations of the layer contract helpers (include/cimsim/accel/layer.hpp): operator/mode names,
// weight ranges, and the shape/parameter validation every consumer relies on.
#include "cimsim/accel/layer.hpp"

#include <climits>
#include <cmath>
#include <sstream>

namespace cimsim::accel {

const char* op_name(Op op) {
  switch (op) {
    case Op::MAC8: return "mac8";
    case Op::MAC4: return "mac4";
    case Op::BWN: return "bwn";
    case Op::XNOR: return "xnor";
    case Op::MF: return "mf";
    case Op::DEEPSHIFT: return "deepshift";
    case Op::ADDER: return "adder";
  }
  return "?";
}

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::Digital: return "digital";
    case Mode::Cim: return "cim";
  }
  return "?";
}

const char* kind_name(LayerKind k) {
  switch (k) {
    case LayerKind::Conv2d: return "conv2d";
    case LayerKind::FullyConnected: return "fc";
    case LayerKind::MaxPool: return "maxpool";
    case LayerKind::AvgPool: return "avgpool";
    case LayerKind::GlobalAvgPool: return "gap";
    case LayerKind::ChannelShuffle: return "shuffle";
    case LayerKind::Copy: return "copy";
    case LayerKind::Add: return "add";
  }
  return "?";
}

std::optional<Op> parse_op(std::string_view s) {
  for (Op op : kAllOps)
    if (s == op_name(op)) return op;
  return std::nullopt;
}

std::optional<Mode> parse_mode(std::string_view s) {
  if (s == "digital") return Mode::Digital;
  if (s == "cim") return Mode::Cim;
  return std::nullopt;
}

int weight_bits(Op op) {
  switch (op) {
    case Op::MAC8: return 8;
    case Op::MAC4: return 4;
    case Op::BWN: return 1;
    case Op::XNOR: return 1;
    case Op::MF: return 8;
    case Op::DEEPSHIFT: return 4;
    case Op::ADDER: return 8;
  }
  return 8;
}

bool cim_supported(Op op) { return op == Op::MAC4 || op == Op::BWN || op == Op::XNOR || op == Op::MF; }

std::pair<int, int> weight_range(Op op) {
  switch (op) {
    case Op::MAC8: return {-127, 127};
    case Op::MAC4: return {-7, 7};
    case Op::BWN: return {-1, 1};
    case Op::XNOR: return {-1, 1};
    case Op::MF: return {-127, 127};
    case Op::DEEPSHIFT: return {-64, 64};
    case Op::ADDER: return {-127, 127};
  }
  return {0, 0};
}

bool weight_valid(Op op, int w) {
  const auto [lo, hi] = weight_range(op);
  if (w < lo || w > hi) return false;
  if (op == Op::BWN || op == Op::XNOR) return w != 0;
  if (op == Op::DEEPSHIFT) {
    const int a = w < 0 ? -w : w;
    return a == 0 || (a & (a - 1)) == 0;  // 0 or a power of two <= 64
  }
  return true;
}

int64_t max_abs_term(Op op) {
  switch (op) {
    case Op::MAC8: return 128 * 127;        // x in [-128,127], |w| <= 127
    case Op::MAC4: return 8 * 7;            // x4 in [-8,7], |w| <= 7
    case Op::BWN: return 128;               // +-x
    case Op::XNOR: return 1;                // +-1
    case Op::MF: return 127 + 128;          // |w| + |x|
    case Op::DEEPSHIFT: return 128 * 64;    // x * 2^6
    case Op::ADDER: return 128 + 127;       // |x - w|
  }
  return 0;
}

namespace {
constexpr int64_t kMaxDim = 1 << 20;           // any single dimension
constexpr int64_t kMaxElems = int64_t{1} << 40;  // any tensor's element count
}  // namespace

bool checked_product(std::initializer_list<int64_t> factors, int64_t& out) {
  int64_t p = 1;
  for (int64_t f : factors)
    if (__builtin_mul_overflow(p, f, &p)) return false;
  out = p;
  return true;
}

std::string LayerShape::check() const {
  std::ostringstream e;
  auto dim = [&](const char* name, int v, int minv) {
    if (v < minv) {
      e << "layer shape: " << name << " = " << v << " must be >= " << minv;
      return false;
    }
    if (v > kMaxDim) {
      e << "layer shape: " << name << " = " << v << " exceeds the limit " << kMaxDim;
      return false;
    }
    return true;
  };
  if (!dim("n", n, 1) || !dim("cin", cin, 1) || !dim("h", h, 1) || !dim("w", w, 1) || !dim("cout", cout, 1) ||
      !dim("kh", kh, 1) || !dim("kw", kw, 1) || !dim("stride", stride, 1) || !dim("pad", pad, 0) ||
      !dim("groups", groups, 1))
    return e.str();
  if (static_cast<uint8_t>(kind) >= kNumLayerKinds)
    return "layer shape: unknown layer kind " + std::to_string(static_cast<int>(kind));
  if (is_vector_kind(kind)) {
    const std::string kn = kind_name(kind);
    if (cout != cin)
      return "layer shape: " + kn + " needs cout = cin (got " + std::to_string(cin) + " -> " + std::to_string(cout) + ")";
    if (kind != LayerKind::ChannelShuffle && groups != 1) return "layer shape: " + kn + " needs groups = 1";
    if (kind != LayerKind::MaxPool && pad != 0) return "layer shape: " + kn + " needs pad = 0";
    if ((kind == LayerKind::ChannelShuffle || kind == LayerKind::Copy || kind == LayerKind::Add) &&
        (kh != 1 || kw != 1 || stride != 1))
      return "layer shape: " + kn + " needs a 1x1 window and stride 1";
    if (kind == LayerKind::GlobalAvgPool && (kh != h || kw != w || stride != 1))
      return "layer shape: gap needs kh = h, kw = w and stride 1";
    if (kind == LayerKind::MaxPool && (pad >= kh || pad >= kw))
      return "layer shape: maxpool pad = " + std::to_string(pad) + " must be smaller than the window";
  }
  if (cin % groups != 0)
    return "layer shape: cin = " + std::to_string(cin) + " is not divisible by groups = " + std::to_string(groups);
  if (cout % groups != 0)
    return "layer shape: cout = " + std::to_string(cout) + " is not divisible by groups = " + std::to_string(groups);
  if (kind == LayerKind::FullyConnected && (h != 1 || w != 1 || kh != 1 || kw != 1 || pad != 0 || stride != 1))
    return "layer shape: a fully-connected layer needs h = w = kh = kw = 1, stride 1 and pad 0 (got h=" +
           std::to_string(h) + " w=" + std::to_string(w) + " kh=" + std::to_string(kh) + " kw=" + std::to_string(kw) +
           " stride=" + std::to_string(stride) + " pad=" + std::to_string(pad) + ")";
  if (kh > h + 2 * pad || kw > w + 2 * pad)
    return "layer shape: kernel " + std::to_string(kh) + "x" + std::to_string(kw) + " is larger than the padded input " +
           std::to_string(h + 2 * pad) + "x" + std::to_string(w + 2 * pad);
  // Every product is overflow-checked: each factor may be up to 2^20, so n*cin*h*w alone can reach 2^80.
  int64_t in = 0, k = 0, wt = 0, out = 0;
  if (!checked_product({n, cin, h, w}, in) || !checked_product({cin / groups, kh, kw}, k) ||
      !checked_product({cout, k}, wt) || !checked_product({n, cout, out_h(), out_w()}, out))
    return "layer shape: a tensor's element count overflows 64 bits (n=" + std::to_string(n) + " cin=" +
           std::to_string(cin) + " h=" + std::to_string(h) + " w=" + std::to_string(w) + " cout=" +
           std::to_string(cout) + " kh=" + std::to_string(kh) + " kw=" + std::to_string(kw) + "); the limit is " +
           std::to_string(kMaxElems);
  if (in > kMaxElems || wt > kMaxElems || out > kMaxElems || k > kMaxElems)
    return "layer shape: tensor sizes (input " + std::to_string(in) + ", weights " + std::to_string(wt) +
           ", output " + std::to_string(out) + " elements) exceed the limit " + std::to_string(kMaxElems);
  // Even the narrowest operator term (XNOR, +-1) must fit K terms in an int32 accumulator; the per-operator
  // bound K * max_abs_term(op) <= INT32_MAX is checked by LayerParams::check().
  if (k > INT32_MAX)
    return "layer shape: reduction K = " + std::to_string(k) + " overflows a 32-bit accumulator";
  return {};
}

std::string LayerParams::check() const {
  std::string s = shape.check();
  if (!s.empty()) return s;
  if (is_vector_kind(shape.kind)) {
    const size_t nrq = shape.kind == LayerKind::Copy ? 1 : shape.kind == LayerKind::Add ? 2 : 0;
    if (!weights.empty()) return std::string("layer: a ") + kind_name(shape.kind) + " op has no weights";
    if (rq.mult.size() != nrq || rq.shift.size() != nrq || !rq.bias.empty())
      return std::string("layer: a ") + kind_name(shape.kind) + " op takes " + std::to_string(nrq) +
             " (mult, shift) pairs and no bias";
    for (size_t i = 0; i < nrq; ++i)
      if (rq.mult[i] < 0 || rq.shift[i] < 0 || rq.shift[i] > 62)
        return "layer: rescale " + std::to_string(i) + " needs mult >= 0 and shift in [0, 62]";
    if (mode != Mode::Digital) return "layer: vector ops run in digital mode";
    return {};
  }
  const int64_t k = shape.reduction();
  if (static_cast<uint8_t>(op) >= kNumOps) return "layer: unknown operator code " + std::to_string(static_cast<int>(op));
  if (static_cast<uint8_t>(mode) > 1) return "layer: unknown mode code " + std::to_string(static_cast<int>(mode));
  if (k * max_abs_term(op) > INT32_MAX)
    return std::string("layer: reduction K = ") + std::to_string(k) + " times the largest " + op_name(op) +
           " term " + std::to_string(max_abs_term(op)) + " overflows a 32-bit accumulator";
  if (static_cast<int64_t>(weights.size()) != shape.weight_elems())
    return "layer: weights has " + std::to_string(weights.size()) + " values, the shape needs cout*K = " +
           std::to_string(shape.weight_elems());
  for (size_t i = 0; i < weights.size(); ++i)
    if (!weight_valid(op, weights[i]))
      return std::string("layer: weight[") + std::to_string(i) + "] = " + std::to_string(weights[i]) +
             " is not a valid " + op_name(op) + " weight";
  const size_t co = static_cast<size_t>(shape.cout);
  if (rq.mult.size() != co || rq.shift.size() != co || rq.bias.size() != co)
    return "layer: requant mult/shift/bias have " + std::to_string(rq.mult.size()) + "/" +
           std::to_string(rq.shift.size()) + "/" + std::to_string(rq.bias.size()) + " values, cout = " +
           std::to_string(co);
  for (size_t i = 0; i < co; ++i) {
    if (rq.mult[i] < 0)
      return "layer: requant mult[" + std::to_string(i) + "] = " + std::to_string(rq.mult[i]) + " must be >= 0";
    if (rq.shift[i] < 0 || rq.shift[i] > 62)
      return "layer: requant shift[" + std::to_string(i) + "] = " + std::to_string(rq.shift[i]) +
             " must be in [0, 62]";
  }
  if (mode == Mode::Cim) {
    if (!cim_supported(op))
      return std::string("layer: operator ") + op_name(op) +
             " is not supported in CIM mode (CIM supports mac4, bwn, xnor, mf)";
    if (cim.rows < 1 || cim.rows > 4096)
      return "layer: cim.rows = " + std::to_string(cim.rows) + " must be in [1, 4096]";
    if (cim.adc_bits < 1 || cim.adc_bits > 16)
      return "layer: cim.adc_bits = " + std::to_string(cim.adc_bits) + " must be in [1, 16]";
    if (cim.adc_range <= 0) return "layer: cim.adc_range = " + std::to_string(cim.adc_range) + " must be > 0";
    if (!std::isfinite(cim.noise_lsb) || cim.noise_lsb < 0)
      return "layer: cim.noise_lsb must be finite and >= 0";
    if (!std::isfinite(cim.gain_sigma) || cim.gain_sigma < 0)
      return "layer: cim.gain_sigma must be finite and >= 0";
    const int64_t chunks = (k + cim.rows - 1) / cim.rows;
    if (chunks * (int64_t{1} << (cim.adc_bits - 1)) > INT32_MAX)
      return "layer: " + std::to_string(chunks) + " ADC codes of " + std::to_string(cim.adc_bits) +
             " bits overflow a 32-bit accumulator";
  }
  return {};
}

}  // namespace cimsim::accel
