// SCALE-Sim v2 configuration files (INI) read as architectures (include/cimsim/accel/arch.hpp). The mapping and
// what is refused are in docs/accelerator.md ("Running SCALE-Sim's files").
#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <map>
#include <set>

#include "cimsim/accel/arch.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"

namespace cimsim::accel {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxCfgBytes = 1 << 20;

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Entry {
  std::string key;    ///< as written
  std::string value;  ///< trimmed
  int line = 0;
};

// Known sections and keys (lower case, as SCALE-Sim's INI reader matches keys case-insensitively).
const std::map<std::string, std::set<std::string>>& known() {
  static const std::map<std::string, std::set<std::string>> k = {
      {"general", {"run_name"}},
      {"architecture_presets",
       {"arrayheight", "arraywidth", "ifmapsramszkb", "filtersramszkb", "ofmapsramszkb", "ifmapoffset",
        "filteroffset", "ofmapoffset", "dataflow", "bandwidth", "memorybanks"}},
      {"run_presets", {"interfacebandwidth"}},
      {"network_presets", {"topologycsvloc"}},
  };
  return k;
}

}  // namespace

Architecture parse_scalesim_config(const std::string& text, const std::string& origin) {
  auto fail = [&](int line, const std::string& what) -> ConfigError {
    return ConfigError(origin + (line > 0 ? ": line " + std::to_string(line) : std::string()) + ": " + what);
  };
  std::map<std::string, std::map<std::string, Entry>> sec;  // section -> lower key -> entry
  std::string cur;
  int line = 0;
  size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++line;
    for (char ch : raw)
      if (ch == '\0') throw fail(line, "contains a NUL byte (not a text file)");
    const std::string l = trim(raw);
    if (l.empty() || l[0] == '#' || l[0] == ';') continue;
    if (l.front() == '[') {
      if (l.back() != ']') throw fail(line, "malformed section header '" + l + "'");
      cur = lower(trim(l.substr(1, l.size() - 2)));
      if (!known().count(cur))
        throw fail(line, "unknown section '[" + trim(l.substr(1, l.size() - 2)) +
                             "]' (SCALE-Sim sections: [general], [architecture_presets], [run_presets], "
                             "[network_presets])");
      if (sec.count(cur)) throw fail(line, "section '[" + cur + "]' appears twice");
      sec[cur];
      continue;
    }
    const size_t sep = l.find_first_of(":=");
    if (sep == std::string::npos) throw fail(line, "expected 'key: value' or 'key = value', got '" + l + "'");
    if (cur.empty()) throw fail(line, "key before any [section]");
    Entry e{trim(l.substr(0, sep)), trim(l.substr(sep + 1)), line};
    const std::string k = lower(e.key);
    if (!known().at(cur).count(k)) {
      std::string allowed;
      for (const auto& x : known().at(cur)) allowed += (allowed.empty() ? "" : ", ") + x;
      throw fail(line, "unknown key '" + e.key + "' in [" + cur + "] (known: " + allowed + ")");
    }
    if (sec[cur].count(k)) throw fail(line, "key '" + e.key + "' appears twice in [" + cur + "]");
    sec[cur][k] = e;
  }
  if (!sec.count("architecture_presets")) throw fail(0, "missing section [architecture_presets]");
  const auto& ap = sec["architecture_presets"];
  auto need = [&](const std::string& k, const char* shown) -> const Entry& {
    const auto it = ap.find(k);
    if (it == ap.end()) throw fail(0, std::string("[architecture_presets]: missing key '") + shown + "'");
    return it->second;
  };
  auto integer = [&](const Entry& e, int64_t lo, int64_t hi) {
    int64_t v = 0;
    const auto r = std::from_chars(e.value.data(), e.value.data() + e.value.size(), v);
    if (e.value.empty() || r.ec != std::errc() || r.ptr != e.value.data() + e.value.size())
      throw fail(e.line, "key '" + e.key + "': '" + e.value + "' is not an integer");
    if (v < lo || v > hi)
      throw fail(e.line, "key '" + e.key + "': " + e.value + " is out of range [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
    return v;
  };

  using L = ArchLimits;
  Architecture a;
  a.origin = origin;
  a.name = fs::path(origin).stem().string();
  if (sec.count("general") && sec["general"].count("run_name") && !sec["general"]["run_name"].value.empty())
    a.name = sec["general"]["run_name"].value.substr(0, 256);
  ArrayConfig& c = a.array;
  c.clock_hz = 0;

  const Entry& df = need("dataflow", "Dataflow");
  const std::string d = lower(df.value);
  if (d != "ws") {
    if (d == "os" || d == "is")
      throw fail(df.line, "key 'Dataflow': '" + df.value + "' (" + (d == "os" ? "output" : "input") +
                              " stationary) is not modelled: cimsim's array is weight stationary; use Dataflow : ws");
    throw fail(df.line, "key 'Dataflow': unknown dataflow '" + df.value + "' (SCALE-Sim: ws, os, is; cimsim runs ws)");
  }
  c.rows = static_cast<int>(integer(need("arrayheight", "ArrayHeight"), 1, L::kMaxArrayDim));
  c.cols = static_cast<int>(integer(need("arraywidth", "ArrayWidth"), 1, L::kMaxArrayDim));
  const int64_t kib_max = L::kMaxBufferBytes / 1024;
  const int64_t ifm = integer(need("ifmapsramszkb", "IfmapSramSzkB"), 1, kib_max);
  const int64_t flt = integer(need("filtersramszkb", "FilterSramSzkB"), 1, kib_max);
  const int64_t ofm = integer(need("ofmapsramszkb", "OfmapSramSzkB"), 1, kib_max);
  c.weight_buffer_bytes = flt * 1024;
  c.act_buffer_bytes = (ifm + ofm) * 1024;
  if (c.act_buffer_bytes > L::kMaxBufferBytes)
    throw fail(ap.at("ifmapsramszkb").line, "IfmapSramSzkB + OfmapSramSzkB exceeds " +
                                                std::to_string(kib_max) + " kB (the activation buffer limit)");
  for (const char* k : {"ifmapoffset", "filteroffset", "ofmapoffset", "memorybanks"})
    if (ap.count(k)) (void)integer(ap.at(k), 0, INT64_MAX);
  const auto bw = ap.find("bandwidth");
  if (bw == ap.end())
    throw fail(0, "[architecture_presets]: missing key 'Bandwidth' (cimsim needs the DMA bandwidth in bytes per cycle; "
                  "it has no computed-bandwidth mode)");
  Entry first = bw->second;
  if (const size_t comma = first.value.find(','); comma != std::string::npos) {
    first.value = trim(first.value.substr(0, comma));
    a.warnings.push_back(origin + ": line " + std::to_string(first.line) +
                         ": Bandwidth lists several values; cimsim has one DMA port and uses the first, " + first.value);
  }
  c.dma_bytes_per_cycle = static_cast<int>(integer(first, 1, L::kMaxDmaBytesPerCycle));
  if (sec.count("run_presets") && sec["run_presets"].count("interfacebandwidth")) {
    const Entry& ib = sec["run_presets"]["interfacebandwidth"];
    const std::string m = lower(ib.value);
    if (m != "calc" && m != "user")
      throw fail(ib.line, "key 'InterfaceBandwidth': '" + ib.value + "' must be USER or CALC");
    if (m == "calc")
      a.warnings.push_back(origin + ": line " + std::to_string(ib.line) +
                           ": InterfaceBandwidth = CALC (SCALE-Sim computes the bandwidth that never stalls); cimsim "
                           "models a fixed DMA bandwidth and uses Bandwidth = " +
                           std::to_string(c.dma_bytes_per_cycle) + " bytes/cycle");
  }
  if (sec.count("network_presets"))
    a.warnings.push_back(origin + ": [network_presets] ignored (give the topology with --topology)");
  // Not in SCALE-Sim's file: the CIM macro (as wide as the array, 64 rows), the vector unit (one lane per
  // column), double-buffered staging (SCALE-Sim's SRAMs are double buffered), the default energy table and clock.
  c.cim_rows = 64;
  c.cim_cols = c.cols;
  c.vector_lanes = c.cols;
  c.double_buffer = true;
  a.warnings.push_back(origin + ": read as a SCALE-Sim configuration: weight buffer = FilterSramSzkB, activation "
                       "buffer = IfmapSramSzkB + OfmapSramSzkB, double buffered; CIM macro 64 x ArrayWidth, " +
                       std::to_string(c.vector_lanes) + " vector lanes, default energy table and clock");
  if (c.weight_buffer_bytes < min_weight_buffer_bytes(c))
    throw fail(ap.at("filtersramszkb").line, "key 'FilterSramSzkB': " + std::to_string(flt) +
                                                 " kB is smaller than one array tile needs: " +
                                                 std::to_string(min_weight_buffer_bytes(c)) + " bytes");
  if (c.act_buffer_bytes < min_act_buffer_bytes(c))
    throw fail(ap.at("ifmapsramszkb").line, "IfmapSramSzkB + OfmapSramSzkB = " + std::to_string(ifm + ofm) +
                                                " kB is smaller than the minimum " +
                                                std::to_string(min_act_buffer_bytes(c)) + " bytes");
  if (const std::string why = c.check(); !why.empty()) throw ConfigError(origin + ": " + why);
  return a;
}

Architecture load_scalesim_config(const std::string& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw IoError(path + ": not a readable regular file");
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxCfgBytes)
    throw ConfigError(path + ": " + std::to_string(size) + " bytes is too large for a SCALE-Sim configuration");
  return parse_scalesim_config(read_file(path), path);
}

}  // namespace cimsim::accel
