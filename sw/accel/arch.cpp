// Architecture files (YAML) -> ArrayConfig, validated key by key. See include/cimsim/accel/arch.hpp and
// docs/accelerator.md ("Architecture files").
#include "cimsim/accel/arch.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/core/yaml.hpp"

namespace cimsim::accel {
namespace fs = std::filesystem;

int64_t min_weight_buffer_bytes(const ArrayConfig& a) {
  const int64_t tile = std::max(int64_t{a.rows} * a.cols, int64_t{a.cim_rows} * a.cim_cols);
  return tile + int64_t{kRequantBytesPerChannel} * std::max(a.cols, a.cim_cols);
}

int64_t min_act_buffer_bytes(const ArrayConfig&) { return 2 * ArchLimits::kMinActStagingBytes; }

namespace {

constexpr size_t kMaxArchFileBytes = 1 << 20;

/// Reads one YAML document, keeps the file name and reports every problem as "<file>: key '<k>' (line n): ...".
class ArchReader {
 public:
  explicit ArchReader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& key, const YAML::Node& n, const std::string& what) const {
    std::ostringstream o;
    o << origin_ << ": key '" << key << "'";
    if (n.IsDefined() && n.Mark().line >= 0) o << " (line " << n.Mark().line + 1 << ")";
    o << ": " << what;
    throw ConfigError(o.str());
  }
  [[noreturn]] void fail_file(const std::string& what) const { throw ConfigError(origin_ + ": " + what); }

  /// The map's entries by key; refuses non-map nodes, non-scalar or duplicate keys and keys not in `allowed`.
  std::map<std::string, YAML::Node> entries(const YAML::Node& map, const std::string& prefix,
                                            const std::vector<std::string>& allowed) const {
    const std::string where = prefix.empty() ? std::string("top level") : prefix;
    if (!map.IsMap()) {
      if (prefix.empty()) fail_file("the file must be a YAML mapping of keys (see docs/accelerator.md)");
      fail(prefix, map, "must be a mapping with keys " + join(allowed));
    }
    std::map<std::string, YAML::Node> out;
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) fail(where, kv.first, "keys must be plain names");
      const std::string k = kv.first.Scalar();
      const std::string full = prefix.empty() ? k : prefix + "." + k;
      if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
        fail(full, kv.first, "unknown key (allowed in " + where + ": " + join(allowed) + ")");
      if (out.count(k)) fail(full, kv.first, "appears twice");
      out.emplace(k, kv.second);
    }
    return out;
  }

  /// The entry `k` of `e` (ConfigError "missing" if absent).
  const YAML::Node& need(const std::map<std::string, YAML::Node>& e, const std::string& prefix, const std::string& k,
                         const YAML::Node& parent) const {
    auto it = e.find(k);
    if (it == e.end()) fail(prefix.empty() ? k : prefix + "." + k, parent, "missing (required)");
    return it->second;
  }

  std::string scalar_text(const std::string& key, const YAML::Node& n, const char* expected) const {
    if (!n.IsScalar()) {
      if (n.IsNull()) fail(key, n, std::string("has no value; expected ") + expected);
      fail(key, n, std::string("must be ") + expected + ", not a " + (n.IsMap() ? "mapping" : "list"));
    }
    if (n.Tag() == "!") fail(key, n, std::string("must be ") + expected + ", not the quoted string '" + n.Scalar() + "'");
    return n.Scalar();
  }

  int64_t integer(const std::string& key, const YAML::Node& n, int64_t lo, int64_t hi) const {
    const std::string s = scalar_text(key, n, "an integer");
    int64_t v = 0;
    const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec == std::errc::result_out_of_range)
      fail(key, n, "= " + s + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
      if (is_number(s)) fail(key, n, "must be an integer, got '" + s + "'");
      fail(key, n, "must be an integer, got the non-numeric '" + s + "'");
    }
    if (v < lo || v > hi) {
      if (v <= 0) fail(key, n, "= " + s + " must be >= " + std::to_string(lo));
      fail(key, n, "= " + s + " is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    return v;
  }

  double real(const std::string& key, const YAML::Node& n, double lo, double hi) const {
    const std::string s = scalar_text(key, n, "a number");
    if (!is_number(s)) fail(key, n, "must be a number, got the non-numeric '" + s + "'");
    const double v = std::strtod(s.c_str(), nullptr);
    if (!std::isfinite(v) || v < lo || v > hi) {
      std::ostringstream o;
      o << "= " << s << " is out of range [" << lo << ", " << hi << "]";
      fail(key, n, o.str());
    }
    return v;
  }

  bool boolean(const std::string& key, const YAML::Node& n) const {
    const std::string s = scalar_text(key, n, "true or false");
    if (s == "true" || s == "True" || s == "TRUE") return true;
    if (s == "false" || s == "False" || s == "FALSE") return false;
    fail(key, n, "must be true or false, got '" + s + "'");
  }

  std::string text(const std::string& key, const YAML::Node& n) const {
    if (!n.IsScalar() || n.Scalar().empty()) fail(key, n, "must be a non-empty string");
    if (n.Scalar().size() > 256) fail(key, n, "is longer than 256 characters");
    return n.Scalar();
  }

  static bool is_number(const std::string& s) {
    if (s.empty()) return false;
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    return end == s.c_str() + s.size() && s.find_first_of("xXnN") == std::string::npos;  // no hex, inf, nan
  }

 private:
  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }
  std::string origin_;
};

}  // namespace

Architecture parse_architecture(const std::string& text, const std::string& origin) {
  const ArchReader r(origin);
  const YAML::Node root = load_yaml(text, origin);  // one document, alias expansion bounded
  if (!root.IsDefined() || root.IsNull()) throw ConfigError(origin + ": empty architecture file");

  using L = ArchLimits;
  Architecture a;
  a.origin = origin;
  a.name = fs::path(origin).stem().string();
  ArrayConfig& c = a.array;
  c.clock_hz = 0;

  const auto top = r.entries(root, "", {"name", "tech", "clock_hz", "array", "cim", "buffers", "dma", "vector",
                                        "double_buffering", "memory"});
  if (auto it = top.find("name"); it != top.end()) a.name = r.text("name", it->second);
  if (auto it = top.find("tech"); it != top.end()) {
    const fs::path p(r.text("tech", it->second));
    const fs::path resolved = p.is_absolute() ? p : fs::path(origin).parent_path() / p;
    std::error_code ec;
    if (!fs::is_regular_file(resolved, ec))
      r.fail("tech", it->second, "energy table '" + resolved.string() + "' does not exist or is not a file");
    a.tech_path = resolved.lexically_normal().string();
  }
  if (auto it = top.find("clock_hz"); it != top.end())
    c.clock_hz = r.real("clock_hz", it->second, L::kMinClockHz, L::kMaxClockHz);

  // One nested section: its entries, each required, read with `read(key, node)`.
  auto section = [&](const std::string& name, const std::vector<std::string>& keys,
                     const std::function<void(const std::string&, const YAML::Node&)>& read) {
    const YAML::Node& sec = r.need(top, "", name, root);
    const auto e = r.entries(sec, name, keys);
    for (const auto& k : keys) read(k, r.need(e, name, k, sec));
  };
  section("array", {"rows", "cols"}, [&](const std::string& k, const YAML::Node& n) {
    (k == "rows" ? c.rows : c.cols) = static_cast<int>(r.integer("array." + k, n, 1, L::kMaxArrayDim));
  });
  section("cim", {"rows", "cols", "adc_cycles_per_bit"}, [&](const std::string& k, const YAML::Node& n) {
    if (k == "adc_cycles_per_bit")
      c.adc_cycles_per_bit = static_cast<int>(r.integer("cim." + k, n, 1, L::kMaxAdcCyclesPerBit));
    else
      (k == "rows" ? c.cim_rows : c.cim_cols) = static_cast<int>(r.integer("cim." + k, n, 1, L::kMaxCimDim));
  });
  std::map<std::string, YAML::Node> buffer_nodes;
  section("buffers", {"weight_bytes", "act_bytes"}, [&](const std::string& k, const YAML::Node& n) {
    (k == "weight_bytes" ? c.weight_buffer_bytes : c.act_buffer_bytes) =
        r.integer("buffers." + k, n, 1, L::kMaxBufferBytes);
    buffer_nodes[k] = n;
  });
  section("dma", {"bytes_per_cycle"}, [&](const std::string& k, const YAML::Node& n) {
    c.dma_bytes_per_cycle = static_cast<int>(r.integer("dma." + k, n, 1, L::kMaxDmaBytesPerCycle));
  });
  section("vector", {"lanes"}, [&](const std::string& k, const YAML::Node& n) {
    c.vector_lanes = static_cast<int>(r.integer("vector." + k, n, 1, L::kMaxVectorLanes));
  });
  c.double_buffer = r.boolean("double_buffering", r.need(top, "", "double_buffering", root));
  if (top.count("memory")) {
    const auto e = r.entries(top.at("memory"), "memory", {"bytes"});
    a.memory_bytes = static_cast<uint64_t>(
        r.integer("memory.bytes", r.need(e, "memory", "bytes", top.at("memory")), 4096,
                  static_cast<int64_t>(kMaxMemoryBytes)));
  }

  if (c.weight_buffer_bytes < min_weight_buffer_bytes(c))
    r.fail("buffers.weight_bytes", buffer_nodes["weight_bytes"],
           "= " + std::to_string(c.weight_buffer_bytes) + " is smaller than one tile needs: " +
               std::to_string(min_weight_buffer_bytes(c)) + " bytes (max(array rows x cols, cim rows x cols) " +
               "weights + " + std::to_string(kRequantBytesPerChannel) + " bytes x max(cols, cim cols) requant)");
  if (c.act_buffer_bytes < min_act_buffer_bytes(c))
    r.fail("buffers.act_bytes", buffer_nodes["act_bytes"],
           "= " + std::to_string(c.act_buffer_bytes) + " is smaller than the minimum " +
               std::to_string(min_act_buffer_bytes(c)) + " bytes (an input and an output stage of " +
               std::to_string(ArchLimits::kMinActStagingBytes) + " bytes)");
  if (const std::string why = c.check(); !why.empty()) throw ConfigError(origin + ": " + why);
  return a;
}

Architecture load_architecture(const std::string& path) {
  if (fs::path(path).extension() == ".cfg") return load_scalesim_config(path);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxArchFileBytes)
    throw ConfigError(path + ": " + std::to_string(size) + " bytes is too large for an architecture file (limit " +
                      std::to_string(kMaxArchFileBytes) + ")");
  return parse_architecture(read_file(path), path);
}

}  // namespace cimsim::accel
