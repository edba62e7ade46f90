// SCALE-Sim topology CSV files and per-layer assignment files. Formats: docs/accelerator.md ("Workloads").
#include "cimsim/accel/topology.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"

namespace cimsim::accel {
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxFileBytes = size_t{16} << 20;  // topology and assignment files
constexpr size_t kMaxLayers = 100000;
constexpr int64_t kMaxDim = 1 << 20;  // as LayerShape::check()
constexpr size_t kMaxNameChars = 256;

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

/// One non-blank line of a CSV file: its 1-based line number and its fields (trimmed). A '#' starts a comment
/// to the end of the line; trailing empty fields (SCALE-Sim ends every line with a comma) are dropped.
struct CsvLine {
  int row;
  std::vector<std::string> fields;
};

std::vector<CsvLine> csv_lines(const std::string& text, const std::string& origin) {
  std::vector<CsvLine> out;
  size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // a UTF-8 byte-order mark (spreadsheet export)
  int row = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++row;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    if (trim(line).empty()) continue;
    for (char ch : line)
      if (ch == '\0' || ch == '"')
        throw ConfigError(origin + ": row " + std::to_string(row) + ": " +
                          (ch == '"' ? "quoted fields are not supported" : "contains a NUL byte"));
    CsvLine l{row, {}};
    size_t b = 0;
    while (true) {
      const size_t c = line.find(',', b);
      l.fields.push_back(trim(line.substr(b, c == std::string::npos ? std::string::npos : c - b)));
      if (c == std::string::npos) break;
      b = c + 1;
    }
    while (!l.fields.empty() && l.fields.back().empty()) l.fields.pop_back();
    out.push_back(std::move(l));
  }
  return out;
}

std::string file_text(const std::string& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!ec && size > kMaxFileBytes)
    throw ConfigError(path + ": " + std::to_string(size) + " bytes is too large (limit " +
                      std::to_string(kMaxFileBytes) + ")");
  return read_file(path);
}

std::string where(const std::string& origin, int row, const std::string& field) {
  return origin + ": row " + std::to_string(row) + ", field '" + field + "': ";
}

/// An integer field in [lo, hi]: ConfigError naming file, row and field otherwise.
int int_field(const std::string& s, int64_t lo, int64_t hi, const std::string& origin, int row,
              const std::string& field) {
  const std::string w = where(origin, row, field);
  if (s.empty()) throw ConfigError(w + "empty");
  int64_t v = 0;
  const char* b = s.data();
  if (*b == '+') ++b;
  const auto r = std::from_chars(b, s.data() + s.size(), v);
  if (r.ec == std::errc::result_out_of_range)
    throw ConfigError(w + "'" + s + "' is out of range [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) {
    char* end = nullptr;
    std::strtod(s.c_str(), &end);
    const bool numeric = end == s.c_str() + s.size() && s.find_first_of("xXnN") == std::string::npos;
    throw ConfigError(w + "'" + s + "' is " + (numeric ? "not an integer" : "not a number"));
  }
  if (v < lo) throw ConfigError(w + s + " must be >= " + std::to_string(lo));
  if (v > hi) throw ConfigError(w + s + " exceeds the limit " + std::to_string(hi));
  return static_cast<int>(v);
}

std::string check_name(const std::string& s, const std::string& origin, int row, const std::string& field) {
  if (s.empty()) throw ConfigError(where(origin, row, field) + "empty");
  if (s.size() > kMaxNameChars)
    throw ConfigError(where(origin, row, field) + "longer than " + std::to_string(kMaxNameChars) + " characters");
  for (char ch : s)
    if (std::iscntrl(static_cast<unsigned char>(ch)))
      throw ConfigError(where(origin, row, field) + "contains a control character");
  return s;
}

// Topology columns: SCALE-Sim's eight (plus its optional "Stride width") and ours (Padding, Groups).
enum Col { kName, kH, kW, kKh, kKw, kCin, kCout, kStride, kStrideW, kPad, kGroups, kNumCols };
const char* const kColNames[kNumCols] = {"Layer name",   "IFMAP Height", "IFMAP Width", "Filter Height",
                                         "Filter Width", "Channels",     "Num Filter",  "Strides",
                                         "Stride width", "Padding",      "Groups"};
constexpr int kRequiredCols = kStrideW;  // kName .. kStride

int column_of(std::string h) {
  std::string k;
  for (char ch : h) {
    const unsigned char u = static_cast<unsigned char>(ch);
    if (std::isspace(u) || ch == '_') {
      if (!k.empty() && k.back() != ' ') k += ' ';
    } else {
      k += static_cast<char>(std::tolower(u));
    }
  }
  if (!k.empty() && k.back() == ' ') k.pop_back();
  static const std::map<std::string, int> names = {
      {"layer name", kName},     {"ifmap height", kH},        {"ifmap width", kW},      {"filter height", kKh},
      {"filter width", kKw},     {"channels", kCin},          {"channel", kCin},        {"num filter", kCout},    {"num filters", kCout},
      {"strides", kStride},      {"stride", kStride},         {"stride height", kStride}, {"stride width", kStrideW},
      {"padding", kPad},         {"groups", kGroups}};
  const auto it = names.find(k);
  return it == names.end() ? -1 : it->second;
}

}  // namespace

namespace {

/// Warnings of one kind: the first kMaxEach lines as they come, then one line counting the rest.
class Warnings {
 public:
  explicit Warnings(std::vector<std::string>& out) : out_(out) {}
  void add(const std::string& kind, const std::string& line) {
    if (++count_[kind] <= kMaxEach) out_.push_back(line);
  }
  void finish(const std::string& origin) {
    for (const auto& [k, n] : count_)
      if (n > kMaxEach)
        out_.push_back(origin + ": ... and " + std::to_string(n - kMaxEach) + " more rows: " + k);
  }

 private:
  static constexpr int kMaxEach = 3;
  std::vector<std::string>& out_;
  std::map<std::string, int> count_;
};

bool all_empty(const std::vector<std::string>& f, size_t from) {
  for (size_t i = from; i < f.size(); ++i)
    if (!f[i].empty()) return false;
  return true;
}

// GEMM header columns.
int gemm_column_of(const std::string& h) {
  std::string k;
  for (char ch : h)
    if (!std::isspace(static_cast<unsigned char>(ch)) && ch != '_') k += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (k == "layer" || k == "layername") return 0;
  if (k == "m") return 1;
  if (k == "n") return 2;
  if (k == "k") return 3;
  return -1;
}

// An M-pixel map laid out as H x W with H the largest divisor of M not above sqrt(M) (both <= 65535 when M
// allows, so that the layer fits the descriptor's 16-bit fields).
std::pair<int64_t, int64_t> gemm_map(int64_t m) {
  int64_t best = 1;
  for (int64_t d = 1; d * d <= m; ++d)
    if (m % d == 0) best = d;
  return {best, m / best};
}

}  // namespace

Topology parse_topology(const std::string& text, const std::string& origin, TopologyFormat format) {
  Topology t;
  t.origin = origin;
  t.name = fs::path(origin).stem().string();
  // Separator: comma, or tab when the header line has tabs and no comma (SCALE-Sim's UNet_maestro.csv).
  std::string body = text;
  {
    size_t b = body.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;
    while (b < body.size() && (body[b] == '\n' || body[b] == '\r' || body[b] == ' ')) ++b;
    const size_t e = body.find('\n', b);
    const std::string head = body.substr(b, e == std::string::npos ? std::string::npos : e - b);
    if (head.find(',') == std::string::npos && head.find('\t') != std::string::npos) {
      for (char& ch : body)
        if (ch == '\t') ch = ',';
      t.warnings.push_back(origin + ": tab-separated: read with tabs as the field separator");
    }
  }
  // Non-breaking spaces (spreadsheet exports) count as spaces.
  for (size_t i = 0; (i = body.find("\xC2\xA0", i)) != std::string::npos;) body.replace(i, 2, " ");
  const std::vector<CsvLine> lines = csv_lines(body, origin);
  if (lines.empty()) throw ConfigError(origin + ": empty topology file (expected a header line and layer rows)");
  Warnings warn(t.warnings);
  const CsvLine& head = lines.front();

  bool gemm = format == TopologyFormat::Gemm;
  if (format == TopologyFormat::Auto) {
    int found = 0;
    for (const auto& f : head.fields)
      if (int c = gemm_column_of(f); c > 0) found |= 1 << c;
    gemm = found == 0xE;
  }
  t.gemm = gemm;
  std::map<std::string, int> seen_names;
  auto unique_name = [&](std::string name, int row) {
    const auto [it, fresh] = seen_names.emplace(name, row);
    if (fresh) return name;
    int k = 2;
    std::string n2;
    do n2 = name + "~" + std::to_string(k++);
    while (seen_names.count(n2));
    seen_names.emplace(n2, row);
    warn.add("repeated layer names renamed", origin + ": row " + std::to_string(row) + ": layer name '" + name +
                                                 "' was used at row " + std::to_string(it->second) + ": renamed '" + n2 + "'");
    return n2;
  };
  // Rows with a name and nothing else (MLPerf's network titles) or no fields at all.
  auto skip_row = [&](const CsvLine& l) {
    if (l.fields.empty() || all_empty(l.fields, 0)) {
      warn.add("empty rows skipped", origin + ": row " + std::to_string(l.row) + ": empty row skipped");
      return true;
    }
    if (all_empty(l.fields, 1)) {
      warn.add("section rows skipped", origin + ": row " + std::to_string(l.row) + ": '" + l.fields[0] +
                                           "' has no layer sizes: read as a section title and skipped");
      return true;
    }
    return false;
  };

  if (gemm) {
    int pos[4] = {-1, -1, -1, -1};
    for (size_t i = 0; i < head.fields.size(); ++i) {
      const int c = gemm_column_of(head.fields[i]);
      if (c < 0 || pos[c] >= 0) {
        if (!head.fields[i].empty())
          t.warnings.push_back(origin + ": row " + std::to_string(head.row) + ": column '" + head.fields[i] +
                               "' is not a GEMM column (Layer, M, N, K): ignored");
        continue;
      }
      pos[c] = static_cast<int>(i);
    }
    if (format == TopologyFormat::Gemm && (pos[1] < 0 || pos[2] < 0 || pos[3] < 0))
      for (int c = 0; c < 4; ++c) pos[c] = c;  // forced: by position, as SCALE-Sim reads GEMM files
    const char* const names[4] = {"Layer", "M", "N", "K"};
    for (int c = 0; c < 4; ++c)
      if (pos[c] < 0)
        throw ConfigError(origin + ": row " + std::to_string(head.row) + ": the GEMM header lacks the column '" +
                          names[c] + "'");
    for (size_t li = 1; li < lines.size(); ++li) {
      const CsvLine& l = lines[li];
      if (skip_row(l)) continue;
      if (t.layers.size() >= kMaxLayers)
        throw ConfigError(origin + ": more than " + std::to_string(kMaxLayers) + " layers");
      auto field = [&](int c) -> const std::string& {
        const size_t i = static_cast<size_t>(pos[c]);
        if (i >= l.fields.size())
          throw ConfigError(origin + ": row " + std::to_string(l.row) + ": missing field '" + names[c] + "'");
        return l.fields[i];
      };
      TopologyLayer L;
      L.row = l.row;
      L.name = unique_name(check_name(field(0), origin, l.row, "Layer"), l.row);
      const int64_t M = int_field(field(1), 1, int64_t{1} << 30, origin, l.row, "M");
      const int N = int_field(field(2), 1, kMaxDim, origin, l.row, "N");
      const int K = int_field(field(3), 1, kMaxDim, origin, l.row, "K");
      const auto [h, w] = gemm_map(M);
      if (w > kMaxDim)
        throw ConfigError(where(origin, l.row, "M") + std::to_string(M) + " rows cannot be laid out as an H x W map " +
                          "with both sides <= " + std::to_string(kMaxDim) + " (it has no divisor near its square root)");
      // M x K times K x N: a 1x1 convolution with K input and N output channels over the M rows as pixels.
      LayerShape& s = L.shape;
      s = LayerShape::conv(1, K, static_cast<int>(h), static_cast<int>(w), N, 1);
      if (h == 1 && w == 1) s.kind = LayerKind::FullyConnected;
      if (const std::string why = s.check(); !why.empty())
        throw ConfigError(origin + ": row " + std::to_string(l.row) + " (layer '" + L.name + "'): " + why);
      t.layers.push_back(std::move(L));
    }
    warn.finish(origin);
    if (t.layers.empty()) throw ConfigError(origin + ": no layers (only a header)");
    return t;
  }

  // Header: column name -> position. Columns we do not know are ignored with a warning (SCALE-Sim ignores them
  // too when they are empty); a column named twice among SCALE-Sim's eight makes us read those by position.
  int pos[kNumCols];
  std::fill(pos, pos + kNumCols, -1);
  std::vector<int> colof(head.fields.size(), -1);
  bool repeated = false;
  int empty_cols = 0;
  for (size_t i = 0; i < head.fields.size(); ++i) {
    const std::string& f = head.fields[i];
    if (f.empty()) {
      ++empty_cols;
      continue;
    }
    const int c = column_of(f);
    if (c < 0) {
      t.warnings.push_back(origin + ": row " + std::to_string(head.row) + ": column '" + f +
                           "' is not a topology column: ignored (columns: Layer name, IFMAP Height, IFMAP Width, "
                           "Filter Height, Filter Width, Channels, Num Filter, Strides[, Stride width]; ours: "
                           "Padding, Groups)");
      continue;
    }
    if (pos[c] >= 0) {
      if (i < static_cast<size_t>(kRequiredCols) && pos[c] < kRequiredCols) {
        repeated = true;
        continue;
      }
      throw ConfigError(origin + ": row " + std::to_string(head.row) + ": column '" + f + "' appears twice");
    }
    pos[c] = static_cast<int>(i);
    colof[i] = c;
  }
  if (repeated) {
    // SCALE-Sim reads its eight columns by position whatever the header says (DeepBench files name
    // "IFMAP Width" twice): so do we, for those eight.
    std::string got;
    for (int c = 0; c < kRequiredCols; ++c) {
      if (static_cast<size_t>(c) >= head.fields.size())
        throw ConfigError(origin + ": row " + std::to_string(head.row) + ": the header lacks the column '" +
                          kColNames[c] + "'");
      pos[c] = c;
    }
    for (int c = kRequiredCols; c < kNumCols; ++c)
      if (pos[c] >= 0 && pos[c] < kRequiredCols) pos[c] = -1;
    t.warnings.push_back(origin + ": row " + std::to_string(head.row) +
                         ": a column is named twice among the first eight: they are read by position, as SCALE-Sim "
                         "reads them (Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
                         "Num Filter, Strides)");
  }
  if (empty_cols > 0 && head.fields.size() > static_cast<size_t>(kRequiredCols))
    t.warnings.push_back(origin + ": row " + std::to_string(head.row) + ": " + std::to_string(empty_cols) +
                         " column(s) without a name: ignored");
  for (int c = 0; c < kRequiredCols; ++c)
    if (pos[c] < 0)
      throw ConfigError(origin + ": row " + std::to_string(head.row) + ": the header lacks the column '" +
                        kColNames[c] + "' (the first line must be the header: Layer name, IFMAP Height, IFMAP Width, "
                        "Filter Height, Filter Width, Channels, Num Filter, Strides)");
  const size_t ncols = head.fields.size();

  for (size_t li = 1; li < lines.size(); ++li) {
    const CsvLine& l = lines[li];
    if (skip_row(l)) continue;
    if (t.layers.size() >= kMaxLayers)
      throw ConfigError(origin + ": more than " + std::to_string(kMaxLayers) + " layers");
    if (l.fields.size() > ncols && !all_empty(l.fields, ncols))
      warn.add("fields beyond the header ignored", origin + ": row " + std::to_string(l.row) + ": " +
                                                       std::to_string(l.fields.size()) + " fields, the header has " +
                                                       std::to_string(ncols) + " columns: the extra ones are ignored");
    auto field = [&](int c) -> const std::string& {
      const size_t i = static_cast<size_t>(pos[c]);
      if (i >= l.fields.size())
        throw ConfigError(origin + ": row " + std::to_string(l.row) + ": missing field '" + kColNames[c] + "'");
      return l.fields[i];
    };
    auto num = [&](int c, int64_t lo) { return int_field(field(c), lo, kMaxDim, origin, l.row, kColNames[c]); };
    auto bad = [&](int c, const std::string& why) { return ConfigError(where(origin, l.row, kColNames[c]) + why); };

    TopologyLayer L;
    L.row = l.row;
    L.name = check_name(field(kName), origin, l.row, kColNames[kName]);
    const std::string given = L.name;
    L.name = unique_name(L.name, l.row);
    LayerShape& s = L.shape;
    s.n = 1;
    s.h = num(kH, 1);
    s.w = num(kW, 1);
    s.kh = num(kKh, 1);
    s.kw = num(kKw, 1);
    s.cin = num(kCin, 1);
    const int filters = num(kCout, 1);
    s.stride = num(kStride, 1);
    if (pos[kStrideW] >= 0 && static_cast<size_t>(pos[kStrideW]) < l.fields.size() && !field(kStrideW).empty() &&
        num(kStrideW, 1) != s.stride)
      throw bad(kStrideW, field(kStrideW) + " differs from Strides = " + std::to_string(s.stride) +
                              " (only equal strides are supported)");
    s.pad = pos[kPad] >= 0 ? num(kPad, 0) : 0;
    s.cout = filters;
    s.groups = 1;
    if (pos[kGroups] >= 0) {
      s.groups = num(kGroups, 1);
      if (s.cin % s.groups != 0)
        throw bad(kCin, std::to_string(s.cin) + " channels are not divisible by Groups = " + std::to_string(s.groups));
      if (s.cout % s.groups != 0)
        throw bad(kCout, std::to_string(s.cout) + " filters are not divisible by Groups = " +
                             std::to_string(s.groups));
    } else if (given.find("DP") != std::string::npos) {
      // SCALE-Sim's depthwise convention: a layer whose name contains "DP" is run as Channels separate
      // single-channel convolutions with Num Filter filters each = groups = Channels, Channels x Num Filter outputs.
      s.groups = s.cin;
      if (int64_t{s.cin} * filters > kMaxDim)
        throw bad(kCout, "Channels x Num Filter = " + std::to_string(int64_t{s.cin} * filters) +
                             " (depthwise 'DP' layer) exceeds the limit " + std::to_string(kMaxDim));
      s.cout = s.cin * filters;
    }
    if (s.kh > s.h + 2 * s.pad)
      throw bad(kKh, std::to_string(s.kh) + " is larger than the padded input height " + std::to_string(s.h) +
                         " + 2 x " + std::to_string(s.pad));
    if (s.kw > s.w + 2 * s.pad)
      throw bad(kKw, std::to_string(s.kw) + " is larger than the padded input width " + std::to_string(s.w) +
                         " + 2 x " + std::to_string(s.pad));
    if (s.h == 1 && s.w == 1 && s.kh == 1 && s.kw == 1 && s.pad == 0 && s.stride == 1 && s.groups == 1)
      s.kind = LayerKind::FullyConnected;
    if (const std::string why = s.check(); !why.empty())
      throw ConfigError(origin + ": row " + std::to_string(l.row) + " (layer '" + L.name + "'): " + why);
    t.layers.push_back(std::move(L));
  }
  warn.finish(origin);
  if (t.layers.empty()) throw ConfigError(origin + ": no layers (only a header)");
  return t;
}

Topology load_topology(const std::string& path, TopologyFormat format) {
  return parse_topology(file_text(path), path, format);
}

std::vector<size_t> topology_segment_starts(const Topology& t, std::vector<std::string>* warnings) {
  std::vector<size_t> starts;
  auto dims = [](int c, int h, int w) {
    return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
  };
  for (size_t i = 0; i < t.layers.size(); ++i) {
    if (i == 0) {
      starts.push_back(0);
      continue;
    }
    const LayerShape& p = t.layers[i - 1].shape;
    const LayerShape& s = t.layers[i].shape;
    const int oc = p.cout, oh = p.out_h(), ow = p.out_w();
    if (p.n == s.n && ((oc == s.cin && oh == s.h && ow == s.w) ||
                       static_cast<int64_t>(oc) * oh * ow == static_cast<int64_t>(s.cin) * s.h * s.w))
      continue;
    starts.push_back(i);
    if (!warnings || t.gemm) continue;
    std::string why;
    if (oc != s.cin) {
      why = "the channels differ (" + std::to_string(oc) + " vs " + std::to_string(s.cin) +
            "): a branch, concatenation or layer not in the file";
    } else if (s.h > oh && s.w > ow && (s.h - oh) % 2 == 0 && s.h - oh == s.w - ow) {
      why = "the input is " + std::to_string(s.h - oh) + " larger per side pair: padding (" +
            std::to_string((s.h - oh) / 2) + " per side) folded into the IFMAP size, which is read as given";
    } else if (s.h < oh || s.w < ow) {
      why = "the input is smaller (" + std::to_string(oh) + "x" + std::to_string(ow) + " -> " + std::to_string(s.h) +
            "x" + std::to_string(s.w) + "): a pooling or strided layer not in the file";
    } else {
      why = "the sizes differ";
    }
    warnings->push_back(t.origin + ": rows " + std::to_string(t.layers[i - 1].row) + " -> " +
                        std::to_string(t.layers[i].row) + ": '" + t.layers[i - 1].name + "' produces " +
                        dims(oc, oh, ow) + ", '" + t.layers[i].name + "' reads " + dims(s.cin, s.h, s.w) + ": " + why +
                        "; '" + t.layers[i].name + "' starts a new program with its input from DRAM");
  }
  return starts;
}

int64_t topology_macs(const Topology& t) {
  int64_t m = 0;
  for (const auto& l : t.layers) m += l.shape.macs();
  return m;
}

std::vector<LayerChoice> parse_assignment(const std::string& text, const std::string& origin) {
  static const char* const kFields[5] = {"layer", "op", "mode", "adc_bits", "cim_rows"};
  auto lower = [](std::string x) {
    for (char& ch : x) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return x;
  };
  std::vector<LayerChoice> out;
  std::set<std::string> seen;
  bool first = true;
  for (const CsvLine& l : csv_lines(text, origin)) {
    if (first && !l.fields.empty() && lower(l.fields[0]) == "layer") {  // optional header line
      first = false;
      continue;
    }
    first = false;
    if (out.size() >= kMaxLayers) throw ConfigError(origin + ": more than " + std::to_string(kMaxLayers) + " rows");
    const std::string r = origin + ": row " + std::to_string(l.row) + ": ";
    if (l.fields.size() < 3)
      throw ConfigError(r + "missing field '" + kFields[l.fields.size()] + "' (format: layer,op,mode[,adc_bits,cim_rows])");
    if (l.fields.size() > 5)
      throw ConfigError(r + std::to_string(l.fields.size()) + " fields (format: layer,op,mode[,adc_bits,cim_rows])");
    LayerChoice c;
    c.origin = origin;
    c.row = l.row;
    c.layer = check_name(l.fields[0], origin, l.row, "layer");
    if (!seen.insert(c.layer).second)
      throw ConfigError(where(origin, l.row, "layer") + "layer '" + c.layer + "' is assigned twice");
    const auto op = parse_op(lower(l.fields[1]));
    if (!op)
      throw ConfigError(where(origin, l.row, "op") + "unknown operator '" + l.fields[1] +
                        "' (mac8, mac4, bwn, xnor, mf, deepshift, adder)");
    const auto mode = parse_mode(lower(l.fields[2]));
    if (!mode) throw ConfigError(where(origin, l.row, "mode") + "unknown mode '" + l.fields[2] + "' (digital, cim)");
    c.op = *op;
    c.mode = *mode;
    if (c.mode == Mode::Cim && !cim_supported(c.op))
      throw ConfigError(where(origin, l.row, "mode") + "operator " + op_name(c.op) +
                        " cannot run in CIM mode (CIM supports mac4, bwn, xnor, mf)");
    for (size_t i = 3; i < l.fields.size(); ++i) {
      if (l.fields[i].empty()) continue;
      if (c.mode != Mode::Cim)
        throw ConfigError(where(origin, l.row, kFields[i]) + "given for a digital layer (CIM parameters only)");
      if (i == 3)
        c.cim.adc_bits = int_field(l.fields[i], 1, 16, origin, l.row, kFields[i]);
      else
        c.cim.rows = int_field(l.fields[i], 1, 4096, origin, l.row, kFields[i]);
    }
    out.push_back(std::move(c));
  }
  if (out.empty()) throw ConfigError(origin + ": no assignments (expected rows layer,op,mode[,adc_bits,cim_rows])");
  return out;
}

std::vector<LayerChoice> load_assignment(const std::string& path) { return parse_assignment(file_text(path), path); }

std::vector<LayerChoice> apply_assignment(const Topology& t, const std::vector<LayerChoice>& assignment,
                                          const LayerChoice& uniform) {
  if (uniform.mode == Mode::Cim && !cim_supported(uniform.op))
    throw ConfigError(std::string("operator ") + op_name(uniform.op) +
                      " cannot run in CIM mode (CIM supports mac4, bwn, xnor, mf)");
  std::map<std::string, size_t> index;
  std::vector<LayerChoice> out;
  out.reserve(t.layers.size());
  for (size_t i = 0; i < t.layers.size(); ++i) {
    index.emplace(t.layers[i].name, i);
    LayerChoice c = uniform;
    c.layer = t.layers[i].name;
    out.push_back(std::move(c));
  }
  std::set<std::string> seen;
  for (const LayerChoice& a : assignment) {
    const std::string r = (a.origin.empty() ? std::string("assignment") : a.origin) +
                          (a.row > 0 ? ": row " + std::to_string(a.row) : std::string()) + ": ";
    const auto it = index.find(a.layer);
    if (it == index.end())
      throw ConfigError(r + "layer '" + a.layer + "' is not in the topology " + t.origin);
    if (!seen.insert(a.layer).second) throw ConfigError(r + "layer '" + a.layer + "' is assigned twice");
    if (a.mode == Mode::Cim && !cim_supported(a.op))
      throw ConfigError(r + "operator " + op_name(a.op) + " cannot run in CIM mode (CIM supports mac4, bwn, xnor, mf)");
    out[it->second] = a;
  }
  return out;
}

}  // namespace cimsim::accel
