// The ENOS export file: JSON serialization, parsing and validation (docs/enos-export.md).
#include "cimsim/enos/export.hpp"

#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "cimsim/accel/arch.hpp"
#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"

namespace cimsim::enos {

using nlohmann::json;

namespace {

constexpr NodeKind kAllKinds[] = {NodeKind::Accel,          NodeKind::MaxPool, NodeKind::AvgPool,
                                  NodeKind::GlobalAvgPool,  NodeKind::ChannelShuffle, NodeKind::Split,
                                  NodeKind::Concat,         NodeKind::Add,     NodeKind::Flatten};

std::string shape_str(int c, int h, int w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}
std::string shape_str(const Shape3& s) { return shape_str(s.c, s.h, s.w); }

bool finite_pos(double v) { return std::isfinite(v) && v > 0; }

// ---- base64 (RFC 4648, standard alphabet, '=' padding) ----
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string b64_encode(const std::vector<uint8_t>& d) {
  std::string s;
  s.reserve((d.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < d.size(); i += 3) {
    const uint32_t v = (uint32_t{d[i]} << 16) | (uint32_t{d[i + 1]} << 8) | d[i + 2];
    s += kB64[(v >> 18) & 63];
    s += kB64[(v >> 12) & 63];
    s += kB64[(v >> 6) & 63];
    s += kB64[v & 63];
  }
  if (i < d.size()) {
    uint32_t v = uint32_t{d[i]} << 16;
    if (i + 1 < d.size()) v |= uint32_t{d[i + 1]} << 8;
    s += kB64[(v >> 18) & 63];
    s += kB64[(v >> 12) & 63];
    s += (i + 1 < d.size()) ? kB64[(v >> 6) & 63] : '=';
    s += '=';
  }
  return s;
}

// Returns false on a character outside the alphabet or bad padding.
bool b64_decode(const std::string& s, std::vector<uint8_t>& out) {
  out.clear();
  if (s.size() % 4 != 0) return false;
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.reserve(s.size() / 4 * 3);
  for (size_t i = 0; i < s.size(); i += 4) {
    const bool last = i + 4 == s.size();
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s[i + k];
      if (c == '=' && last && k >= 2) {
        v[k] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return false;  // data after '='
      v[k] = val(c);
      if (v[k] < 0) return false;
    }
    const uint32_t w = (uint32_t(v[0]) << 18) | (uint32_t(v[1]) << 12) | (uint32_t(v[2]) << 6) | uint32_t(v[3]);
    out.push_back(static_cast<uint8_t>(w >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(w >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(w));
  }
  return true;
}

uint64_t fnv1a64(const std::vector<uint8_t>& d) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : d) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex64(uint64_t v) {
  char buf[19];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

// ---- typed JSON access with messages naming the place ----
class Reader {
 public:
  explicit Reader(std::string origin) : origin_(std::move(origin)) {}
  [[noreturn]] void fail(const std::string& where, const std::string& msg) const {
    throw ConfigError(origin_ + ": " + (where.empty() ? "" : where + ": ") + msg);
  }
  const json& member(const json& o, const char* key, const std::string& where) const {
    if (!o.is_object()) fail(where, "expected a JSON object");
    auto it = o.find(key);
    if (it == o.end()) fail(where, std::string("missing field '") + key + "'");
    return *it;
  }
  bool has(const json& o, const char* key) const { return o.is_object() && o.contains(key); }
  int64_t integer(const json& o, const char* key, const std::string& where, int64_t lo, int64_t hi) const {
    const json& v = member(o, key, where);
    if (!v.is_number_integer()) fail(where, std::string("field '") + key + "' must be an integer");
    const int64_t x = v.is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(v.get<uint64_t>(), INT64_MAX))
                                             : v.get<int64_t>();
    if (x < lo || x > hi)
      fail(where, std::string("field '") + key + "' = " + std::to_string(x) + " is outside [" + std::to_string(lo) +
                      ", " + std::to_string(hi) + "]");
    return x;
  }
  int64_t integer_or(const json& o, const char* key, const std::string& where, int64_t lo, int64_t hi,
                     int64_t dflt) const {
    return has(o, key) ? integer(o, key, where, lo, hi) : dflt;
  }
  uint64_t uinteger(const json& o, const char* key, const std::string& where) const {
    const json& v = member(o, key, where);
    if (!v.is_number_integer() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0))
      fail(where, std::string("field '") + key + "' must be a non-negative integer");
    return v.get<uint64_t>();
  }
  double number(const json& o, const char* key, const std::string& where) const {
    const json& v = member(o, key, where);
    if (!v.is_number()) fail(where, std::string("field '") + key + "' must be a number (NaN/inf are not allowed)");
    return v.get<double>();
  }
  std::string string(const json& o, const char* key, const std::string& where) const {
    const json& v = member(o, key, where);
    if (!v.is_string()) fail(where, std::string("field '") + key + "' must be a string");
    return v.get<std::string>();
  }
  bool boolean_or(const json& o, const char* key, const std::string& where, bool dflt) const {
    if (!has(o, key)) return dflt;
    const json& v = o.at(key);
    if (!v.is_boolean()) fail(where, std::string("field '") + key + "' must be true or false");
    return v.get<bool>();
  }
  std::vector<int64_t> int64_array(const json& o, const char* key, const std::string& where) const {
    const json& v = member(o, key, where);
    if (!v.is_array()) fail(where, std::string("field '") + key + "' must be an array of integers");
    std::vector<int64_t> r;
    r.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      const json& e = v[i];
      if (!e.is_number_integer())
        fail(where, std::string("field '") + key + "[" + std::to_string(i) + "]' must be an integer");
      if (e.is_number_unsigned() && e.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        fail(where, std::string("field '") + key + "[" + std::to_string(i) + "]' = " + e.dump() +
                        " does not fit 64 bits");
      r.push_back(e.get<int64_t>());
    }
    return r;
  }
  std::vector<int32_t> int_array(const json& o, const char* key, const std::string& where) const {
    const std::vector<int64_t> v = int64_array(o, key, where);
    for (size_t i = 0; i < v.size(); ++i)
      if (v[i] < INT32_MIN || v[i] > INT32_MAX)
        fail(where, std::string("field '") + key + "[" + std::to_string(i) + "]' = " + std::to_string(v[i]) +
                        " does not fit 32 bits");
    return std::vector<int32_t>(v.begin(), v.end());
  }
  std::vector<double> num_array(const json& o, const char* key, const std::string& where) const {
    const json& v = member(o, key, where);
    if (!v.is_array()) fail(where, std::string("field '") + key + "' must be an array of numbers");
    std::vector<double> r;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_number())
        fail(where, std::string("field '") + key + "[" + std::to_string(i) + "]' must be a finite number");
      r.push_back(v[i].get<double>());
    }
    return r;
  }

 private:
  std::string origin_;
};

json tensor_to_json(const TensorInfo& t) {
  return json{{"name", t.name}, {"c", t.c}, {"h", t.h}, {"w", t.w}, {"scale", t.scale}};
}

TensorInfo tensor_from_json(const Reader& r, const json& j, const std::string& where) {
  TensorInfo t;
  t.name = r.string(j, "name", where);
  const std::string w2 = where + " '" + t.name + "'";
  t.c = static_cast<int>(r.integer(j, "c", w2, 1, 1 << 20));
  t.h = static_cast<int>(r.integer(j, "h", w2, 1, 1 << 20));
  t.w = static_cast<int>(r.integer(j, "w", w2, 1, 1 << 20));
  t.scale = r.number(j, "scale", w2);
  return t;
}

std::string node_label(const Node& n, size_t i) { return "node '" + n.name + "' (#" + std::to_string(i) + ")"; }

}  // namespace

const char* node_kind_name(NodeKind k) {
  switch (k) {
    case NodeKind::Accel: return "accel";
    case NodeKind::MaxPool: return "maxpool";
    case NodeKind::AvgPool: return "avgpool";
    case NodeKind::GlobalAvgPool: return "globalavgpool";
    case NodeKind::ChannelShuffle: return "channelshuffle";
    case NodeKind::Split: return "split";
    case NodeKind::Concat: return "concat";
    case NodeKind::Add: return "add";
    case NodeKind::Flatten: return "flatten";
  }
  return "?";
}

bool parse_node_kind(const std::string& s, NodeKind& out) {
  for (NodeKind k : kAllKinds)
    if (s == node_kind_name(k)) {
      out = k;
      return true;
    }
  return false;
}

const TensorInfo* NetworkExport::find_tensor(const std::string& name) const {
  if (name == input.name) return &input;
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

std::string infer_node_shape(const Node& n, const std::vector<Shape3>& in, Shape3& out) {
  auto need_inputs = [&](size_t lo, size_t hi) -> std::string {
    if (in.size() < lo || in.size() > hi) {
      std::string want = lo == hi ? std::to_string(lo) : "at least " + std::to_string(lo);
      return std::string(node_kind_name(n.kind)) + " takes " + want + " input(s), got " + std::to_string(in.size());
    }
    return {};
  };
  std::string e;
  switch (n.kind) {
    case NodeKind::Accel: {
      if (!(e = need_inputs(1, 1)).empty()) return e;
      const auto& s = n.layer.shape;
      if (in[0].c != s.cin || in[0].h != s.h || in[0].w != s.w)
        return "input tensor '" + n.inputs[0] + "' is " + shape_str(in[0]) + " but the layer expects " +
               shape_str(s.cin, s.h, s.w);
      const std::string sc = s.check();
      if (!sc.empty()) return sc;
      out = {s.cout, s.out_h(), s.out_w()};
      return {};
    }
    case NodeKind::MaxPool:
    case NodeKind::AvgPool: {
      if (!(e = need_inputs(1, 1)).empty()) return e;
      if (n.kernel < 1 || n.stride < 1 || n.pad < 0)
        return "kernel = " + std::to_string(n.kernel) + ", stride = " + std::to_string(n.stride) +
               ", pad = " + std::to_string(n.pad) + ": need kernel >= 1, stride >= 1, pad >= 0";
      if (n.kind == NodeKind::AvgPool && n.pad != 0) return "avgpool needs pad = 0 (got " + std::to_string(n.pad) + ")";
      if (2 * n.pad > n.kernel)
        return "pad = " + std::to_string(n.pad) + " exceeds half the kernel " + std::to_string(n.kernel);
      if (n.kernel > in[0].h + 2 * n.pad || n.kernel > in[0].w + 2 * n.pad)
        return "kernel " + std::to_string(n.kernel) + " is larger than the padded input " + shape_str(in[0]);
      out = {in[0].c, (in[0].h + 2 * n.pad - n.kernel) / n.stride + 1, (in[0].w + 2 * n.pad - n.kernel) / n.stride + 1};
      return {};
    }
    case NodeKind::GlobalAvgPool:
      if (!(e = need_inputs(1, 1)).empty()) return e;
      out = {in[0].c, 1, 1};
      return {};
    case NodeKind::ChannelShuffle:
      if (!(e = need_inputs(1, 1)).empty()) return e;
      if (n.groups < 1 || in[0].c % n.groups != 0)
        return "groups = " + std::to_string(n.groups) + " does not divide the " + std::to_string(in[0].c) +
               " channels of '" + n.inputs[0] + "'";
      out = in[0];
      return {};
    case NodeKind::Split:
      if (!(e = need_inputs(1, 1)).empty()) return e;
      if (n.begin < 0 || n.end <= n.begin || n.end > in[0].c)
        return "channels [" + std::to_string(n.begin) + ", " + std::to_string(n.end) + ") are not a non-empty part of the " +
               std::to_string(in[0].c) + " channels of '" + n.inputs[0] + "'";
      out = {n.end - n.begin, in[0].h, in[0].w};
      return {};
    case NodeKind::Flatten: {
      if (!(e = need_inputs(1, 1)).empty()) return e;
      int64_t c = 0;
      if (!accel::checked_product({in[0].c, in[0].h, in[0].w}, c) || c > (1 << 20))
        return "flattening " + shape_str(in[0]) + " gives more than 2^20 channels";
      out = {static_cast<int>(c), 1, 1};
      return {};
    }
    case NodeKind::Concat:
    case NodeKind::Add: {
      if (!(e = need_inputs(n.kind == NodeKind::Add ? 2 : 1, SIZE_MAX)).empty()) return e;
      if (n.in_mult.size() != in.size() || n.in_shift.size() != in.size())
        return "in_mult/in_shift have " + std::to_string(n.in_mult.size()) + "/" + std::to_string(n.in_shift.size()) +
               " values for " + std::to_string(in.size()) + " inputs";
      for (size_t i = 0; i < in.size(); ++i) {
        if (n.in_mult[i] < 0) return "in_mult[" + std::to_string(i) + "] = " + std::to_string(n.in_mult[i]) + " must be >= 0";
        if (n.in_shift[i] < 0 || n.in_shift[i] > 62)
          return "in_shift[" + std::to_string(i) + "] = " + std::to_string(n.in_shift[i]) + " must be in [0, 62]";
      }
      out = in[0];
      for (size_t i = 1; i < in.size(); ++i) {
        if (n.kind == NodeKind::Add) {
          if (in[i].c != in[0].c || in[i].h != in[0].h || in[i].w != in[0].w)
            return "add inputs differ in shape: '" + n.inputs[0] + "' is " + shape_str(in[0]) + ", '" + n.inputs[i] +
                   "' is " + shape_str(in[i]);
        } else {
          if (in[i].h != in[0].h || in[i].w != in[0].w)
            return "concat inputs differ in H x W: '" + n.inputs[0] + "' is " + shape_str(in[0]) + ", '" +
                   n.inputs[i] + "' is " + shape_str(in[i]);
          if (int64_t{out.c} + in[i].c > (1 << 20)) return "concat output has more than 2^20 channels";
          out.c += in[i].c;
        }
      }
      return {};
    }
  }
  return "unknown node kind " + std::to_string(static_cast<int>(n.kind));
}

std::string NetworkExport::check() const {
  if (version != kExportVersion)
    return "unsupported export version " + std::to_string(version) + " (this build reads version " +
           std::to_string(kExportVersion) + ")";
  if (input.name.empty()) return "input tensor has no name";
  if (input.c < 1 || input.h < 1 || input.w < 1)
    return "input tensor '" + input.name + "' has shape " + shape_str(input.c, input.h, input.w) + " (need >= 1)";
  if (!finite_pos(input.scale)) return "input tensor '" + input.name + "': scale must be finite and > 0";
  auto too_big = [](const std::string& name, int c, int h, int w) -> std::string {
    int64_t n = 0;
    if (!accel::checked_product({c, h, w}, n) || n > kMaxTensorElems)
      return "tensor '" + name + "' has shape " + shape_str(c, h, w) + ": more than " +
             std::to_string(kMaxTensorElems) + " elements";
    return {};
  };
  if (std::string b = too_big(input.name, input.c, input.h, input.w); !b.empty()) return b;
  if (!input_mean.empty() && input_mean.size() != static_cast<size_t>(input.c))
    return "input_mean has " + std::to_string(input_mean.size()) + " values for " + std::to_string(input.c) + " channels";
  if (!input_std.empty() && input_std.size() != static_cast<size_t>(input.c))
    return "input_std has " + std::to_string(input_std.size()) + " values for " + std::to_string(input.c) + " channels";
  for (double m : input_mean)
    if (!std::isfinite(m)) return "input_mean must be finite";
  for (double s : input_std)
    if (!finite_pos(s)) return "input_std must be finite and > 0";
  if (classes < 1) return "classes = " + std::to_string(classes) + " must be >= 1";
  if (std::string a = array.check(); !a.empty()) return "array: " + a;

  std::map<std::string, const TensorInfo*> declared;
  for (const auto& t : tensors) {
    if (t.name.empty()) return "a tensor has an empty name";
    if (t.name == input.name) return "tensor '" + t.name + "' has the input tensor's name";
    if (!declared.emplace(t.name, &t).second) return "tensor '" + t.name + "' is declared twice";
    if (t.c < 1 || t.h < 1 || t.w < 1) return "tensor '" + t.name + "' has shape " + shape_str(t.c, t.h, t.w);
    if (std::string b = too_big(t.name, t.c, t.h, t.w); !b.empty()) return b;
    if (!finite_pos(t.scale)) return "tensor '" + t.name + "': scale must be finite and > 0";
  }
  // Which node produces each tensor (to tell "later" from "nowhere").
  std::map<std::string, size_t> producer;
  std::set<std::string> node_names;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    if (n.name.empty()) return "node #" + std::to_string(i) + " has an empty name";
    if (!node_names.insert(n.name).second) return node_label(n, i) + ": duplicate node name";
    if (n.output.empty()) return node_label(n, i) + ": no output tensor";
    if (n.output == input.name) return node_label(n, i) + ": writes the input tensor '" + input.name + "'";
    if (!producer.emplace(n.output, i).second)
      return node_label(n, i) + ": tensor '" + n.output + "' is already produced by node '" +
             nodes[producer[n.output]].name + "'";
  }
  std::map<std::string, Shape3> avail{{input.name, {input.c, input.h, input.w}}};
  for (size_t i = 0; i < nodes.size(); ++i) {
    const Node& n = nodes[i];
    const std::string lab = node_label(n, i);
    std::vector<Shape3> ins;
    for (const auto& name : n.inputs) {
      auto it = avail.find(name);
      if (it == avail.end()) {
        auto p = producer.find(name);
        if (p != producer.end())
          return lab + ": input tensor '" + name + "' is produced later by node '" + nodes[p->second].name +
                 "' (nodes must be in topological order)";
        return lab + ": input tensor '" + name + "' is not the input and no node produces it (dangling name)";
      }
      ins.push_back(it->second);
    }
    Shape3 out;
    std::string e = infer_node_shape(n, ins, out);
    if (!e.empty()) return lab + ": " + e;
    if (n.kind == NodeKind::Accel) {
      const auto& L = n.layer;
      if (L.shape.n != 1) return lab + ": layer shape.n = " + std::to_string(L.shape.n) + " must be 1 in an export";
      e = L.check();
      if (!e.empty()) return lab + ": " + e;
      if (L.mode == accel::Mode::Cim && L.cim.rows > array.cim_rows)
        return lab + ": cim.rows = " + std::to_string(L.cim.rows) + " exceeds the macro's " +
               std::to_string(array.cim_rows) + " rows (array.cim_rows)";
      if (!std::isfinite(n.predicted_energy_pj) || n.predicted_energy_pj < 0)
        return lab + ": predicted_energy_pj must be finite and >= 0";
    }
    auto d = declared.find(n.output);
    if (d == declared.end()) return lab + ": output tensor '" + n.output + "' is not declared in tensors";
    const TensorInfo& t = *d->second;
    if (t.c != out.c || t.h != out.h || t.w != out.w)
      return lab + ": output tensor '" + n.output + "' is declared " + shape_str(t.c, t.h, t.w) + " but the node produces " +
             shape_str(out);
    avail[n.output] = out;
  }
  for (const auto& t : tensors)
    if (!producer.count(t.name)) return "tensor '" + t.name + "' is declared but no node produces it";
  if (output.empty()) return "no output tensor named";
  auto o = avail.find(output);
  if (o == avail.end()) return "output tensor '" + output + "' is not produced by any node (dangling name)";
  const int64_t oe = static_cast<int64_t>(o->second.c) * o->second.h * o->second.w;
  if (oe != classes)
    return "output tensor '" + output + "' has " + std::to_string(oe) + " elements but classes = " +
           std::to_string(classes);
  return {};
}

// ---------------------------------------------------------------- JSON
json export_to_json(const NetworkExport& e) {
  const std::string err = e.check();
  if (!err.empty()) throw ConfigError("export '" + e.network + "': " + err);
  json j;
  j["format"] = kExportFormat;
  j["version"] = e.version;
  j["network"] = e.network;
  j["dataset"] = e.dataset;
  j["classes"] = e.classes;
  j["input"] = tensor_to_json(e.input);
  if (!e.input_mean.empty()) j["input"]["mean"] = e.input_mean;
  if (!e.input_std.empty()) j["input"]["std"] = e.input_std;
  j["output"] = e.output;
  j["array"] = json{{"rows", e.array.rows},
                    {"cols", e.array.cols},
                    {"cim_rows", e.array.cim_rows},
                    {"cim_cols", e.array.cim_cols},
                    {"weight_buffer_bytes", e.array.weight_buffer_bytes},
                    {"act_buffer_bytes", e.array.act_buffer_bytes},
                    {"dma_bytes_per_cycle", e.array.dma_bytes_per_cycle},
                    {"adc_cycles_per_bit", e.array.adc_cycles_per_bit}};
  {  // written only when not the default: exports of the default hardware keep their bytes
    const accel::ArrayConfig d{};
    if (e.array.vector_lanes != d.vector_lanes) j["array"]["vector_lanes"] = e.array.vector_lanes;
    if (e.array.double_buffer != d.double_buffer) j["array"]["double_buffer"] = e.array.double_buffer;
    if (e.array.clock_hz != d.clock_hz) j["array"]["clock_hz"] = e.array.clock_hz;
  }
  json ts = json::array();
  for (const auto& t : e.tensors) ts.push_back(tensor_to_json(t));
  j["tensors"] = ts;
  json ns = json::array();
  for (const auto& n : e.nodes) {
    json jn{{"name", n.name}, {"kind", node_kind_name(n.kind)}, {"inputs", n.inputs}, {"output", n.output}};
    switch (n.kind) {
      case NodeKind::Accel: {
        const auto& L = n.layer;
        const auto& s = L.shape;
        json jl{{"kind", s.kind == accel::LayerKind::FullyConnected ? "fc" : "conv2d"},
                {"cin", s.cin}, {"h", s.h}, {"w", s.w}, {"cout", s.cout}, {"kh", s.kh}, {"kw", s.kw},
                {"stride", s.stride}, {"pad", s.pad}, {"groups", s.groups},
                {"op", accel::op_name(L.op)}, {"mode", accel::mode_name(L.mode)}};
        jl["cim"] = json{{"rows", L.cim.rows},           {"adc_bits", L.cim.adc_bits},
                         {"adc_range", L.cim.adc_range}, {"noise_lsb", L.cim.noise_lsb},
                         {"gain_sigma", L.cim.gain_sigma}, {"seed", L.cim.seed}};
        jl["requant"] = json{{"mult", L.rq.mult}, {"shift", L.rq.shift}, {"bias", L.rq.bias}, {"relu", L.rq.relu}};
        const auto packed = accel::pack_weights(L.op, L.weights, s.cout, s.reduction());
        jl["weights"] = json{{"encoding", "packed-base64"},
                             {"bits", accel::weight_bits(L.op)},
                             {"bytes", packed.size()},
                             {"fnv1a64", hex64(fnv1a64(packed))},
                             {"data", b64_encode(packed)}};
        jn["layer"] = jl;
        jn["predicted_energy_pj"] = n.predicted_energy_pj;
        break;
      }
      case NodeKind::MaxPool:
        jn["kernel"] = n.kernel, jn["stride"] = n.stride, jn["pad"] = n.pad;
        break;
      case NodeKind::AvgPool:
        jn["kernel"] = n.kernel, jn["stride"] = n.stride;
        break;
      case NodeKind::ChannelShuffle:
        jn["groups"] = n.groups;
        break;
      case NodeKind::Split:
        jn["begin"] = n.begin, jn["end"] = n.end;
        break;
      case NodeKind::Add:
        jn["relu"] = n.relu;
        [[fallthrough]];
      case NodeKind::Concat:
        jn["in_mult"] = n.in_mult, jn["in_shift"] = n.in_shift;
        break;
      case NodeKind::GlobalAvgPool:
      case NodeKind::Flatten:
        break;
    }
    ns.push_back(jn);
  }
  j["nodes"] = ns;
  j["meta"] = e.meta.is_null() ? json::object() : e.meta;
  return j;
}

namespace {
NetworkExport export_from_json_impl(const json& j, const std::string& origin);
}  // namespace

NetworkExport export_from_json(const json& j, const std::string& origin) {
  try {
    return export_from_json_impl(j, origin);
  } catch (const json::exception& ex) {  // a type the typed readers did not anticipate
    throw ConfigError(origin + ": malformed export: " + ex.what());
  }
}

namespace {
NetworkExport export_from_json_impl(const json& j, const std::string& origin) {
  Reader r(origin);
  if (!j.is_object()) r.fail("", "the document is not a JSON object");
  if (r.has(j, "format") && (!j["format"].is_string() || j["format"].get<std::string>() != kExportFormat))
    r.fail("", std::string("field 'format' must be \"") + kExportFormat + "\"");
  if (!r.has(j, "version")) r.fail("", "missing field 'version' (not an ENOS export?)");
  if (!j["version"].is_number_integer()) r.fail("", "field 'version' must be an integer");
  NetworkExport e;
  // Version 1 carried the requant bias in accumulator units, added before the multiply; it is read with that
  // meaning (bias = bias_v1 * mult, exact). Version 2: bias in units of 2^-shift, added after the multiply.
  const bool v1 = j["version"] == json(1);
  if (!v1 && j["version"] != json(kExportVersion))
    r.fail("", "unsupported export version " + j["version"].dump() + " (this build reads versions 1 and " +
                   std::to_string(kExportVersion) + ")");
  e.version = kExportVersion;
  e.network = r.has(j, "network") ? r.string(j, "network", "") : "";
  e.dataset = r.has(j, "dataset") ? r.string(j, "dataset", "") : "";
  e.classes = static_cast<int>(r.integer(j, "classes", "", 1, 1 << 20));
  const json& ji = r.member(j, "input", "");
  e.input = tensor_from_json(r, ji, "input");
  if (r.has(ji, "mean")) e.input_mean = r.num_array(ji, "mean", "input");
  if (r.has(ji, "std")) e.input_std = r.num_array(ji, "std", "input");
  e.output = r.string(j, "output", "");
  if (r.has(j, "array")) {
    const json& a = j["array"];
    const std::string w = "array";
    // The limits of an architecture file (accel::ArchLimits): what the simulator can build. A 1 TiB weight
    // buffer used to be accepted here and fail allocating in the model (issue 24).
    using L = accel::ArchLimits;
    e.array.rows = static_cast<int>(r.integer_or(a, "rows", w, 1, L::kMaxArrayDim, e.array.rows));
    e.array.cols = static_cast<int>(r.integer_or(a, "cols", w, 1, L::kMaxArrayDim, e.array.cols));
    e.array.cim_rows = static_cast<int>(r.integer_or(a, "cim_rows", w, 1, L::kMaxCimDim, e.array.cim_rows));
    e.array.cim_cols = static_cast<int>(r.integer_or(a, "cim_cols", w, 1, L::kMaxCimDim, e.array.cim_cols));
    e.array.weight_buffer_bytes =
        r.integer_or(a, "weight_buffer_bytes", w, 1, L::kMaxBufferBytes, e.array.weight_buffer_bytes);
    e.array.act_buffer_bytes = r.integer_or(a, "act_buffer_bytes", w, 1, L::kMaxBufferBytes, e.array.act_buffer_bytes);
    e.array.dma_bytes_per_cycle = static_cast<int>(
        r.integer_or(a, "dma_bytes_per_cycle", w, 1, L::kMaxDmaBytesPerCycle, e.array.dma_bytes_per_cycle));
    e.array.adc_cycles_per_bit = static_cast<int>(
        r.integer_or(a, "adc_cycles_per_bit", w, 1, L::kMaxAdcCyclesPerBit, e.array.adc_cycles_per_bit));
    e.array.vector_lanes = static_cast<int>(r.integer_or(a, "vector_lanes", w, 1, L::kMaxVectorLanes, e.array.vector_lanes));
    e.array.double_buffer = r.boolean_or(a, "double_buffer", w, e.array.double_buffer);
    if (r.has(a, "clock_hz")) {
      const double hz = r.number(a, "clock_hz", w);
      if (!(std::isfinite(hz) && hz >= 0)) r.fail(w, "field 'clock_hz' must be a finite number >= 0 (0: the table's)");
      e.array.clock_hz = hz;
    }
  }
  const json& jt = r.member(j, "tensors", "");
  if (!jt.is_array()) r.fail("", "field 'tensors' must be an array");
  for (size_t i = 0; i < jt.size(); ++i) e.tensors.push_back(tensor_from_json(r, jt[i], "tensors[" + std::to_string(i) + "]"));
  const json& jn = r.member(j, "nodes", "");
  if (!jn.is_array()) r.fail("", "field 'nodes' must be an array");
  for (size_t i = 0; i < jn.size(); ++i) {
    const json& o = jn[i];
    Node n;
    std::string where = "nodes[" + std::to_string(i) + "]";
    n.name = r.string(o, "name", where);
    where = "node '" + n.name + "' (#" + std::to_string(i) + ")";
    const std::string kind = r.string(o, "kind", where);
    if (!parse_node_kind(kind, n.kind))
      r.fail(where, "unknown node kind '" + kind +
                        "' (known: accel, maxpool, avgpool, globalavgpool, channelshuffle, split, concat, add, flatten)");
    const json& ins = r.member(o, "inputs", where);
    if (!ins.is_array()) r.fail(where, "field 'inputs' must be an array of tensor names");
    for (const auto& s : ins) {
      if (!s.is_string()) r.fail(where, "field 'inputs' must be an array of tensor names");
      n.inputs.push_back(s.get<std::string>());
    }
    n.output = r.string(o, "output", where);
    switch (n.kind) {
      case NodeKind::Accel: {
        const json& jl = r.member(o, "layer", where);
        auto& L = n.layer;
        auto& s = L.shape;
        const std::string lk = r.string(jl, "kind", where + " layer");
        if (lk == "conv2d") s.kind = accel::LayerKind::Conv2d;
        else if (lk == "fc") s.kind = accel::LayerKind::FullyConnected;
        else r.fail(where, "unknown layer kind '" + lk + "' (known: conv2d, fc)");
        const std::string wl = where + " layer";
        const int64_t kMax = 1 << 20;
        s.n = 1;
        s.cin = static_cast<int>(r.integer(jl, "cin", wl, 1, kMax));
        s.h = static_cast<int>(r.integer(jl, "h", wl, 1, kMax));
        s.w = static_cast<int>(r.integer(jl, "w", wl, 1, kMax));
        s.cout = static_cast<int>(r.integer(jl, "cout", wl, 1, kMax));
        s.kh = static_cast<int>(r.integer(jl, "kh", wl, 1, kMax));
        s.kw = static_cast<int>(r.integer(jl, "kw", wl, 1, kMax));
        s.stride = static_cast<int>(r.integer(jl, "stride", wl, 1, kMax));
        s.pad = static_cast<int>(r.integer(jl, "pad", wl, 0, kMax));
        s.groups = static_cast<int>(r.integer(jl, "groups", wl, 1, kMax));
        const std::string op = r.string(jl, "op", wl);
        auto pop = accel::parse_op(op);
        if (!pop) r.fail(wl, "unknown operator '" + op + "' (known: mac8, mac4, bwn, xnor, mf, deepshift, adder)");
        L.op = *pop;
        const std::string mode = r.string(jl, "mode", wl);
        auto pm = accel::parse_mode(mode);
        if (!pm) r.fail(wl, "unknown mode '" + mode + "' (known: digital, cim)");
        L.mode = *pm;
        if (r.has(jl, "cim")) {
          const json& c = jl["cim"];
          const std::string wc = wl + " cim";
          L.cim.rows = static_cast<int>(r.integer_or(c, "rows", wc, 1, 4096, L.cim.rows));
          L.cim.adc_bits = static_cast<int>(r.integer_or(c, "adc_bits", wc, 1, 16, L.cim.adc_bits));
          L.cim.adc_range = static_cast<int32_t>(r.integer_or(c, "adc_range", wc, 1, INT32_MAX, L.cim.adc_range));
          if (r.has(c, "noise_lsb")) L.cim.noise_lsb = r.number(c, "noise_lsb", wc);
          if (r.has(c, "gain_sigma")) L.cim.gain_sigma = r.number(c, "gain_sigma", wc);
          if (r.has(c, "seed")) L.cim.seed = r.uinteger(c, "seed", wc);
        }
        if (L.mode == accel::Mode::Cim && !accel::cim_supported(L.op))
          r.fail(wl, std::string("operator ") + accel::op_name(L.op) +
                         " is not supported in CIM mode (CIM supports mac4, bwn, xnor, mf)");
        const json& jq = r.member(jl, "requant", wl);
        L.rq.mult = r.int_array(jq, "mult", wl + " requant");
        L.rq.shift = r.int_array(jq, "shift", wl + " requant");
        if (v1) {
          const std::vector<int32_t> b32 = r.int_array(jq, "bias", wl + " requant");
          L.rq.bias.assign(b32.begin(), b32.end());
          if (L.rq.bias.size() == L.rq.mult.size())
            for (size_t i = 0; i < L.rq.bias.size(); ++i) L.rq.bias[i] *= L.rq.mult[i];  // |.| < 2^62
        } else {
          L.rq.bias = r.int64_array(jq, "bias", wl + " requant");
        }
        L.rq.relu = r.boolean_or(jq, "relu", wl + " requant", false);
        const std::string sc = s.check();
        if (!sc.empty()) r.fail(where, sc);
        const json& jw = r.member(jl, "weights", wl);
        const std::string ww = wl + " weights";
        const std::string enc = r.string(jw, "encoding", ww);
        if (enc != "packed-base64") r.fail(ww, "unknown encoding '" + enc + "' (known: packed-base64)");
        std::vector<uint8_t> bytes;
        if (!b64_decode(r.string(jw, "data", ww), bytes)) r.fail(ww, "field 'data' is not valid base64");
        const int64_t K = s.reduction();
        const size_t expect = accel::packed_row_bytes(L.op, K) * static_cast<size_t>(s.cout);
        if (bytes.size() < expect)
          r.fail(ww, "truncated weights: " + std::to_string(bytes.size()) + " bytes, the layer needs " +
                         std::to_string(expect) + " (" + std::to_string(s.cout) + " rows x " +
                         std::to_string(accel::packed_row_bytes(L.op, K)) + " bytes of " +
                         std::to_string(accel::weight_bits(L.op)) + "-bit " + op + " weights)");
        if (bytes.size() > expect)
          r.fail(ww, "oversized weights: " + std::to_string(bytes.size()) + " bytes, the layer needs " +
                         std::to_string(expect));
        if (r.has(jw, "bytes") && r.uinteger(jw, "bytes", ww) != bytes.size())
          r.fail(ww, "field 'bytes' = " + jw["bytes"].dump() + " but 'data' holds " + std::to_string(bytes.size()) +
                         " bytes");
        if (r.has(jw, "fnv1a64") && r.string(jw, "fnv1a64", ww) != hex64(fnv1a64(bytes)))
          r.fail(ww, "checksum mismatch (fnv1a64 " + jw["fnv1a64"].get<std::string>() + " in the file, " +
                         hex64(fnv1a64(bytes)) + " computed): corrupted weights");
        try {
          L.weights = accel::unpack_weights(L.op, bytes.data(), bytes.size(), s.cout, K);
        } catch (const std::exception& ex) {
          r.fail(ww, std::string("invalid weight value: ") + ex.what());
        }
        n.predicted_energy_pj = r.number(o, "predicted_energy_pj", where);
        break;
      }
      case NodeKind::MaxPool:
        n.kernel = static_cast<int>(r.integer(o, "kernel", where, 1, 1 << 20));
        n.stride = static_cast<int>(r.integer(o, "stride", where, 1, 1 << 20));
        n.pad = static_cast<int>(r.integer_or(o, "pad", where, 0, 1 << 20, 0));
        break;
      case NodeKind::AvgPool:
        n.kernel = static_cast<int>(r.integer(o, "kernel", where, 1, 1 << 20));
        n.stride = static_cast<int>(r.integer(o, "stride", where, 1, 1 << 20));
        n.pad = static_cast<int>(r.integer_or(o, "pad", where, 0, 0, 0));
        break;
      case NodeKind::ChannelShuffle:
        n.groups = static_cast<int>(r.integer(o, "groups", where, 1, 1 << 20));
        break;
      case NodeKind::Split:
        n.begin = static_cast<int>(r.integer(o, "begin", where, 0, 1 << 20));
        n.end = static_cast<int>(r.integer(o, "end", where, 1, 1 << 20));
        break;
      case NodeKind::Add:
        n.relu = r.boolean_or(o, "relu", where, false);
        [[fallthrough]];
      case NodeKind::Concat:
        n.in_mult = r.int_array(o, "in_mult", where);
        n.in_shift = r.int_array(o, "in_shift", where);
        break;
      case NodeKind::GlobalAvgPool:
      case NodeKind::Flatten:
        break;
    }
    e.nodes.push_back(std::move(n));
  }
  if (r.has(j, "meta")) e.meta = j["meta"];
  const std::string err = e.check();
  if (!err.empty()) r.fail("", err);
  return e;
}
}  // namespace

void save_export(const std::string& path, const NetworkExport& e) {
  json j;
  try {
    j = export_to_json(e);
  } catch (const ConfigError& ex) {
    throw ConfigError("cannot write export " + path + ": " + ex.what());
  }
  atomic_write(path, j.dump(1) + "\n");
}

NetworkExport load_export(const std::string& path) {
  // A regular file within the export limit; JSON depth bounded (a 200,000-deep "meta" overflowed the stack in
  // the copy below), duplicate keys and numbers beyond a double refused.
  const std::string text = read_file(path, InputKind::Export);
  json j;
  try {
    j = parse_json(text, path);
  } catch (const ConfigError& ex) {
    throw ConfigError("not valid JSON (corrupt or truncated file): " + std::string(ex.what()));
  }
  return export_from_json(j, path);
}

}  // namespace cimsim::enos
