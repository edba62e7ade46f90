// Constant tensors of the ONNX importer: decoding, attributes and folding of constant sub-graphs (shape
// arithmetic, weight dequantisation). See sw/onnx/onnx_const.hpp.
#include "onnx_const.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "cimsim/core/error.hpp"

namespace cimsim::onnx::detail {

namespace {

using TP = ::onnx::TensorProto;

[[noreturn]] void fail(const std::string& m) { throw ConfigError(m); }

constexpr int64_t kMaxConstElems = int64_t{1} << 28;  // 256 Mi values: far beyond any supported model

std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

template <typename T>
void read_raw(const std::string& raw, std::vector<double>& out, int64_t n) {
  out.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    T x;
    std::memcpy(&x, raw.data() + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    out[static_cast<size_t>(i)] = static_cast<double>(x);
  }
}

size_t elem_size(int dt) {
  switch (dt) {
    case TP::FLOAT: case TP::INT32: return 4;
    case TP::INT64: case TP::DOUBLE: return 8;
    case TP::INT8: case TP::UINT8: case TP::BOOL: return 1;
    default: return 0;
  }
}

bool int_type(int dt) { return dt != TP::FLOAT && dt != TP::DOUBLE; }

int64_t to_i64(double v) {
  if (v >= 9.2e18) return std::numeric_limits<int64_t>::max();
  if (v <= -9.2e18) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

// Numpy-style broadcast of two shapes; fails on incompatible shapes.
std::vector<int64_t> broadcast(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  const size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> o(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t x = i < r - a.size() ? 1 : a[i - (r - a.size())];
    const int64_t y = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (x != y && x != 1 && y != 1) fail("shapes " + dims_str(a) + " and " + dims_str(b) + " do not broadcast");
    o[i] = x == 1 ? y : x;
  }
  return o;
}

// Flat index into `d` (right-aligned to `out`, broadcast dims read index 0) for output multi-index `idx`.
int64_t bindex(const std::vector<int64_t>& d, const std::vector<int64_t>& out, const std::vector<int64_t>& idx) {
  int64_t f = 0;
  const size_t off = out.size() - d.size();
  for (size_t i = 0; i < d.size(); ++i) f = f * d[i] + (d[i] == 1 ? 0 : idx[i + off]);
  return f;
}

int64_t numel_of(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t x : d) {
    if (x < 0 || (x > 0 && n > kMaxConstElems / x)) fail("constant shape " + dims_str(d) + " is too large");
    n *= x;
  }
  return n;
}

// Visits every multi-index of `dims` in row-major order.
template <typename F>
void for_each_index(const std::vector<int64_t>& dims, F f) {
  const int64_t n = numel_of(dims);
  std::vector<int64_t> idx(dims.size(), 0);
  for (int64_t k = 0; k < n; ++k) {
    f(idx, k);
    for (size_t i = dims.size(); i-- > 0;) {
      if (++idx[i] < dims[i]) break;
      idx[i] = 0;
    }
  }
}

int64_t norm_axis(int64_t a, size_t rank, const char* what) {
  const int64_t r = static_cast<int64_t>(rank);
  if (a < -r || a >= std::max<int64_t>(r, 1)) fail(std::string(what) + " " + std::to_string(a) + " is out of range for rank " + std::to_string(r));
  return a < 0 ? a + r : a;
}

const Const& need(const std::vector<const Const*>& in, size_t i, const std::string& op) {
  if (i >= in.size() || !in[i]) fail(op + " needs input #" + std::to_string(i));
  return *in[i];
}

Const binary(const std::string& op, const Const& a, const Const& b) {
  Const o;
  o.dtype = a.dtype;
  o.dims = broadcast(a.dims, b.dims);
  o.v.resize(static_cast<size_t>(numel_of(o.dims)));
  const bool integer = a.is_int();
  for_each_index(o.dims, [&](const std::vector<int64_t>& idx, int64_t k) {
    const double x = a.v[static_cast<size_t>(bindex(a.dims, o.dims, idx))];
    const double y = b.v[static_cast<size_t>(bindex(b.dims, o.dims, idx))];
    double r = 0;
    if (op == "Add") r = x + y;
    else if (op == "Sub") r = x - y;
    else if (op == "Mul") r = x * y;
    else {  // Div
      if (integer) {
        if (y == 0) fail("integer division by zero");
        r = static_cast<double>(to_i64(x) / to_i64(y));
      } else {
        r = x / y;
      }
    }
    if (op != "Div" && integer) r = std::trunc(r);
    if (a.dtype == TP::FLOAT) r = static_cast<float>(r);
    o.v[static_cast<size_t>(k)] = r;
  });
  return o;
}

}  // namespace

bool Const::is_int() const { return int_type(dtype); }
int64_t Const::numel() const { return static_cast<int64_t>(v.size()); }

Const decode_tensor(const TP& t, const std::string& what) {
  Const c;
  c.dtype = t.data_type();
  if (t.data_location() == ::onnx::TensorProto_DataLocation_EXTERNAL)
    fail(what + " keeps its data in an external file, which cimsim does not read (save the model with its data embedded)");
  if (elem_size(c.dtype) == 0)
    fail(what + " has element type " + std::to_string(c.dtype) +
         " (supported: float, double, int8, uint8, int32, int64, bool)");
  c.dims.assign(t.dims().begin(), t.dims().end());
  for (int64_t d : c.dims)
    if (d < 0) fail(what + " has a negative dimension " + dims_str(c.dims));
  const int64_t n = numel_of(c.dims);
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    if (static_cast<int64_t>(raw.size()) != n * static_cast<int64_t>(elem_size(c.dtype)))
      fail(what + " holds " + std::to_string(raw.size()) + " bytes of data but its shape " + dims_str(c.dims) + " needs " +
           std::to_string(n * static_cast<int64_t>(elem_size(c.dtype))));
    switch (c.dtype) {
      case TP::FLOAT: read_raw<float>(raw, c.v, n); break;
      case TP::DOUBLE: read_raw<double>(raw, c.v, n); break;
      case TP::INT8: read_raw<int8_t>(raw, c.v, n); break;
      case TP::UINT8: case TP::BOOL: read_raw<uint8_t>(raw, c.v, n); break;
      case TP::INT32: read_raw<int32_t>(raw, c.v, n); break;
      default: read_raw<int64_t>(raw, c.v, n); break;
    }
  } else {
    int64_t have = 0;
    switch (c.dtype) {
      case TP::FLOAT: have = t.float_data_size(); for (float x : t.float_data()) c.v.push_back(x); break;
      case TP::DOUBLE: have = t.double_data_size(); for (double x : t.double_data()) c.v.push_back(x); break;
      case TP::INT64: have = t.int64_data_size(); for (int64_t x : t.int64_data()) c.v.push_back(static_cast<double>(x)); break;
      default: have = t.int32_data_size(); for (int32_t x : t.int32_data()) c.v.push_back(x); break;
    }
    if (have != n)
      fail(what + " holds " + std::to_string(have) + " values but its shape " + dims_str(c.dims) + " needs " + std::to_string(n));
  }
  for (double x : c.v)
    if (!std::isfinite(x)) fail(what + " holds a non-finite value");
  return c;
}

const ::onnx::AttributeProto* find_attr(const ::onnx::NodeProto& n, const std::string& name) {
  for (const auto& a : n.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}
bool has_attr(const ::onnx::NodeProto& n, const std::string& name) { return find_attr(n, name) != nullptr; }
int64_t attr_int(const ::onnx::NodeProto& n, const std::string& name, int64_t dflt) {
  const auto* a = find_attr(n, name);
  return a ? a->i() : dflt;
}
float attr_float(const ::onnx::NodeProto& n, const std::string& name, float dflt) {
  const auto* a = find_attr(n, name);
  return a ? a->f() : dflt;
}
std::string attr_string(const ::onnx::NodeProto& n, const std::string& name, const std::string& dflt) {
  const auto* a = find_attr(n, name);
  return a ? a->s() : dflt;
}
std::vector<int64_t> attr_ints(const ::onnx::NodeProto& n, const std::string& name) {
  const auto* a = find_attr(n, name);
  if (!a) return {};
  return {a->ints().begin(), a->ints().end()};
}

std::vector<int64_t> as_ints(const Const& c, const std::string& what) {
  std::vector<int64_t> r;
  r.reserve(c.v.size());
  for (double x : c.v) {
    if (x != std::trunc(x)) fail(what + " holds a non-integer value");
    r.push_back(to_i64(x));
  }
  return r;
}

bool foldable(const std::string& op) {
  static const char* k[] = {"Identity", "Gather", "Unsqueeze", "Squeeze", "Concat", "Add",  "Sub",
                            "Mul",      "Div",    "Slice",     "Cast",    "Reshape", "Transpose",
                            "DequantizeLinear", "QuantizeLinear", "Dropout"};
  return std::any_of(std::begin(k), std::end(k), [&](const char* s) { return op == s; });
}

std::vector<Const> fold(const ::onnx::NodeProto& n, const std::vector<const Const*>& in, int opset) {
  const std::string& op = n.op_type();
  if (op == "Identity" || op == "Dropout") return {need(in, 0, op)};
  if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div") return {binary(op, need(in, 0, op), need(in, 1, op))};
  if (op == "Cast") {
    Const o = need(in, 0, op);
    o.dtype = static_cast<int>(attr_int(n, "to", TP::FLOAT));
    if (elem_size(o.dtype) == 0) fail("Cast to element type " + std::to_string(o.dtype) + " is not supported");
    if (o.is_int())
      for (double& x : o.v) x = std::trunc(x);
    else if (o.dtype == TP::FLOAT)
      for (double& x : o.v) x = static_cast<float>(x);
    o.qscale.clear();
    return {o};
  }
  if (op == "Gather") {
    const Const& d = need(in, 0, op);
    const Const& ix = need(in, 1, op);
    if (d.dims.empty()) fail("Gather on a scalar");
    const int64_t axis = norm_axis(attr_int(n, "axis", 0), d.dims.size(), "axis");
    const std::vector<int64_t> idx = as_ints(ix, "Gather indices");
    Const o;
    o.dtype = d.dtype;
    for (size_t i = 0; i < static_cast<size_t>(axis); ++i) o.dims.push_back(d.dims[i]);
    for (int64_t x : ix.dims) o.dims.push_back(x);
    for (size_t i = static_cast<size_t>(axis) + 1; i < d.dims.size(); ++i) o.dims.push_back(d.dims[i]);
    int64_t outer = 1, inner = 1;
    for (size_t i = 0; i < static_cast<size_t>(axis); ++i) outer *= d.dims[i];
    for (size_t i = static_cast<size_t>(axis) + 1; i < d.dims.size(); ++i) inner *= d.dims[i];
    const int64_t A = d.dims[static_cast<size_t>(axis)];
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t j : idx) {
        const int64_t jj = j < 0 ? j + A : j;
        if (jj < 0 || jj >= A) fail("Gather index " + std::to_string(j) + " is out of range [0, " + std::to_string(A) + ")");
        for (int64_t b = 0; b < inner; ++b) o.v.push_back(d.v[static_cast<size_t>((a * A + jj) * inner + b)]);
      }
    return {o};
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    Const o = need(in, 0, op);
    std::vector<int64_t> axes = opset >= 13 ? (in.size() > 1 && in[1] ? as_ints(*in[1], "axes") : std::vector<int64_t>{})
                                            : attr_ints(n, "axes");
    if (op == "Unsqueeze") {
      const size_t r = o.dims.size() + axes.size();
      for (int64_t& a : axes) a = norm_axis(a, r, "axis");
      std::sort(axes.begin(), axes.end());
      for (int64_t a : axes) o.dims.insert(o.dims.begin() + a, 1);
    } else {
      std::vector<int64_t> d;
      for (int64_t& a : axes) a = norm_axis(a, o.dims.size(), "axis");
      for (size_t i = 0; i < o.dims.size(); ++i) {
        const bool sq = axes.empty() ? o.dims[i] == 1 : std::count(axes.begin(), axes.end(), static_cast<int64_t>(i)) > 0;
        if (sq && o.dims[i] != 1) fail("Squeeze of a dimension of size " + std::to_string(o.dims[i]));
        if (!sq) d.push_back(o.dims[i]);
      }
      o.dims = d;
    }
    return {o};
  }
  if (op == "Concat") {
    const Const& a0 = need(in, 0, op);
    const int64_t axis = norm_axis(attr_int(n, "axis", 0), a0.dims.size(), "axis");
    Const o;
    o.dtype = a0.dtype;
    o.dims = a0.dims;
    o.dims[static_cast<size_t>(axis)] = 0;
    int64_t outer = 1;
    for (size_t i = 0; i < static_cast<size_t>(axis); ++i) outer *= a0.dims[i];
    std::vector<int64_t> inner(in.size());
    for (size_t k = 0; k < in.size(); ++k) {
      const Const& c = need(in, k, op);
      if (c.dims.size() != a0.dims.size()) fail("Concat inputs differ in rank");
      for (size_t i = 0; i < c.dims.size(); ++i)
        if (i != static_cast<size_t>(axis) && c.dims[i] != a0.dims[i]) fail("Concat inputs differ off the axis");
      o.dims[static_cast<size_t>(axis)] += c.dims[static_cast<size_t>(axis)];
      inner[k] = outer ? c.numel() / std::max<int64_t>(outer, 1) : 0;
    }
    for (int64_t a = 0; a < outer; ++a)
      for (size_t k = 0; k < in.size(); ++k)
        for (int64_t b = 0; b < inner[k]; ++b) o.v.push_back(in[k]->v[static_cast<size_t>(a * inner[k] + b)]);
    return {o};
  }
  if (op == "Slice") {
    const Const& d = need(in, 0, op);
    const std::vector<int64_t> st = as_ints(need(in, 1, op), "starts"), en = as_ints(need(in, 2, op), "ends");
    std::vector<int64_t> axes, steps;
    if (in.size() > 3 && in[3]) axes = as_ints(*in[3], "axes");
    else for (size_t i = 0; i < st.size(); ++i) axes.push_back(static_cast<int64_t>(i));
    if (in.size() > 4 && in[4]) steps = as_ints(*in[4], "steps");
    else steps.assign(st.size(), 1);
    if (en.size() != st.size() || axes.size() != st.size() || steps.size() != st.size())
      fail("Slice starts/ends/axes/steps differ in length");
    std::vector<int64_t> b(d.dims.size(), 0), s(d.dims.size(), 1), cnt = d.dims;
    for (size_t i = 0; i < st.size(); ++i) {
      const size_t a = static_cast<size_t>(norm_axis(axes[i], d.dims.size(), "axis"));
      const int64_t D = d.dims[a];
      if (steps[i] != 1) fail("Slice with step " + std::to_string(steps[i]) + " on a constant (only step 1)");
      int64_t lo = st[i] < 0 ? st[i] + D : st[i], hi = en[i] < 0 ? en[i] + D : en[i];
      lo = std::clamp<int64_t>(lo, 0, D);
      hi = std::clamp<int64_t>(hi, 0, D);
      b[a] = lo;
      cnt[a] = std::max<int64_t>(hi - lo, 0);
    }
    Const o;
    o.dtype = d.dtype;
    o.dims = cnt;
    for_each_index(cnt, [&](const std::vector<int64_t>& idx, int64_t) {
      int64_t f = 0;
      for (size_t i = 0; i < idx.size(); ++i) f = f * d.dims[i] + b[i] + idx[i];
      o.v.push_back(d.v[static_cast<size_t>(f)]);
    });
    return {o};
  }
  if (op == "Reshape") {
    Const o = need(in, 0, op);
    std::vector<int64_t> sh = as_ints(need(in, 1, op), "shape");
    int64_t known = 1;
    int neg = -1;
    for (size_t i = 0; i < sh.size(); ++i) {
      if (sh[i] == 0 && attr_int(n, "allowzero", 0) == 0) {
        if (i >= o.dims.size()) fail("Reshape copies a dimension the input lacks");
        sh[i] = o.dims[i];
      }
      if (sh[i] == -1) {
        if (neg >= 0) fail("Reshape with two -1 dimensions");
        neg = static_cast<int>(i);
      } else if (sh[i] < 0) {
        fail("Reshape to a negative dimension");
      } else {
        if (sh[i] > kMaxConstElems) fail("Reshape to a dimension of " + std::to_string(sh[i]));
        known = std::min(known * sh[i], kMaxConstElems + 1);  // both factors <= 2^28 + 1: no overflow
      }
    }
    if (neg >= 0) sh[static_cast<size_t>(neg)] = known ? o.numel() / known : 0;
    if (numel_of(sh) != o.numel()) fail("Reshape of " + dims_str(o.dims) + " to " + dims_str(sh) + " changes the size");
    o.dims = sh;
    o.qscale.clear();
    return {o};
  }
  if (op == "Transpose") {
    const Const& d = need(in, 0, op);
    std::vector<int64_t> perm = attr_ints(n, "perm");
    if (perm.empty())
      for (size_t i = d.dims.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
    if (perm.size() != d.dims.size()) fail("Transpose perm does not match the rank");
    Const o;
    o.dtype = d.dtype;
    for (int64_t p : perm) o.dims.push_back(d.dims[static_cast<size_t>(norm_axis(p, d.dims.size(), "perm entry"))]);
    o.v.resize(d.v.size());
    for_each_index(o.dims, [&](const std::vector<int64_t>& idx, int64_t k) {
      std::vector<int64_t> src(d.dims.size());
      for (size_t i = 0; i < perm.size(); ++i) src[static_cast<size_t>(perm[i])] = idx[i];
      int64_t f = 0;
      for (size_t i = 0; i < src.size(); ++i) f = f * d.dims[i] + src[i];
      o.v[static_cast<size_t>(k)] = d.v[static_cast<size_t>(f)];
    });
    return {o};
  }
  if (op == "QuantizeLinear" || op == "DequantizeLinear") {
    const Const& x = need(in, 0, op);
    const Const& sc = need(in, 1, op);
    const Const* zp = in.size() > 2 ? in[2] : nullptr;
    int64_t axis = -1;
    if (sc.numel() > 1) axis = norm_axis(attr_int(n, "axis", 1), x.dims.size(), "axis");
    if (zp && zp->numel() != sc.numel()) fail(op + ": zero point and scale differ in size");
    if (axis >= 0 && x.dims[static_cast<size_t>(axis)] != sc.numel())
      fail(op + ": " + std::to_string(sc.numel()) + " scales for axis " + std::to_string(axis) + " of " + dims_str(x.dims));
    for (double s : sc.v)
      if (!(s > 0)) fail(op + ": scale must be > 0");
    int64_t inner = 1;
    if (axis >= 0)
      for (size_t i = static_cast<size_t>(axis) + 1; i < x.dims.size(); ++i) inner *= x.dims[i];
    auto ch = [&](size_t k) -> size_t {
      return axis < 0 ? 0 : static_cast<size_t>((static_cast<int64_t>(k) / inner) % x.dims[static_cast<size_t>(axis)]);
    };
    Const o;
    o.dims = x.dims;
    o.v.resize(x.v.size());
    if (op == "QuantizeLinear") {
      o.dtype = zp ? zp->dtype : TP::UINT8;
      const double lo = o.dtype == TP::INT8 ? -128 : 0, hi = o.dtype == TP::INT8 ? 127 : 255;
      for (size_t k = 0; k < x.v.size(); ++k) {
        const double z = zp ? zp->v[ch(k)] : 0;
        o.v[k] = std::clamp(std::nearbyint(x.v[k] / sc.v[ch(k)]) + z, lo, hi);  // round half to even
      }
    } else {
      o.dtype = TP::FLOAT;
      bool sym = x.dtype == TP::INT8;
      for (size_t k = 0; k < x.v.size(); ++k) {
        const double z = zp ? zp->v[ch(k)] : 0;
        if (z != 0) sym = false;
        o.v[k] = static_cast<float>((x.v[k] - z) * static_cast<float>(sc.v[ch(k)]));
      }
      if (sym) {
        o.qscale = sc.v;
        o.qaxis = static_cast<int>(axis);
      }
    }
    return {o};
  }
  fail("op type '" + op + "' cannot be folded");
}

}  // namespace cimsim::onnx::detail
