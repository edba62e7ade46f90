// Sweep spec parsing and validation (docs/sweeps.md). yaml-cpp is used directly (not load_json_or_yaml) so
// option values keep the exact text written and errors can name the line.
#include "cimsim/sweep/spec.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <regex>
#include <set>

#include <boost/uuid/detail/sha1.hpp>
#include <nlohmann/json.hpp>
#include <filesystem>

#include <yaml-cpp/yaml.h>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/core/yaml.hpp"

namespace cimsim::sweep {
namespace {
/// Points of one sweep, all blocks together (docs/sweeps.md); checked before a block is expanded.
constexpr size_t kMaxSweepPoints = 100000;

struct Ctx {
  std::string path;
  [[noreturn]] void fail(const YAML::Node& n, const std::string& key, const std::string& what) const {
    std::string where = path;
    if (n.IsDefined() && n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1);
    throw ConfigError(where + ": " + key + ": " + what);
  }
};

void check_keys(const Ctx& c, const YAML::Node& map, const std::string& key, const std::set<std::string>& allowed) {
  if (!map.IsMap()) c.fail(map, key, "must be a mapping");
  for (const auto& kv : map) {
    const std::string k = kv.first.Scalar();
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      c.fail(kv.first, key.empty() ? k : key + "." + k, "unknown key (allowed: " + list + ")");
    }
  }
}

std::string scalar(const Ctx& c, const YAML::Node& n, const std::string& key) {
  if (!n.IsDefined() || n.IsNull()) c.fail(n, key, "missing value");
  if (!n.IsScalar()) c.fail(n, key, "must be a single value");
  return n.Scalar();
}

long integer(const Ctx& c, const YAML::Node& n, const std::string& key, long lo, long hi) {
  const std::string s = scalar(c, n, key);
  try {
    size_t pos = 0;
    const long v = std::stol(s, &pos);
    if (pos == s.size() && v >= lo && v <= hi) return v;
  } catch (...) {
  }
  c.fail(n, key, "must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got '" + s + "'");
}

bool boolean(const Ctx& c, const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(c, n, key);
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  c.fail(n, key, "must be true or false, got '" + s + "'");
}

Value value_of(const Ctx& c, const YAML::Node& n, const std::string& key) {
  if (!n.IsDefined()) c.fail(n, key, "missing value");
  if (n.IsNull()) return {Value::Bare, ""};
  if (!n.IsScalar()) c.fail(n, key, "must be a single value (a list of values belongs under grid:)");
  const std::string s = n.Scalar();
  const bool quoted = n.Tag() == "!";
  if (!quoted && (s == "true" || s == "True")) return {Value::Flag, "true"};
  if (!quoted && (s == "false" || s == "False")) return {Value::Off, "false"};
  if (s.find('\n') != std::string::npos || s.find('\0') != std::string::npos)
    c.fail(n, key, "values must be one line");
  return {Value::Text, s};
}

std::string option_name(const Ctx& c, const YAML::Node& k, const std::string& where) {
  std::string s = k.Scalar();
  while (!s.empty() && s[0] == '-') s.erase(0, 1);
  static const std::regex ok("[A-Za-z0-9][A-Za-z0-9_-]*");
  if (!std::regex_match(s, ok)) c.fail(k, where, "'" + k.Scalar() + "' is not an option name");
  return s;
}

void set_opt(Options& o, const std::string& k, const Value& v) {
  for (auto& [kk, vv] : o)
    if (kk == k) {
      vv = v;
      return;
    }
  o.push_back({k, v});
}

Options options_of(const Ctx& c, const YAML::Node& n, const std::string& key) {
  Options o;
  if (!n.IsDefined() || n.IsNull()) return o;
  if (!n.IsMap()) c.fail(n, key, "must be a mapping of option: value");
  for (const auto& kv : n) {
    const std::string k = option_name(c, kv.first, key);
    set_opt(o, k, value_of(c, kv.second, key + "." + k));
  }
  return o;
}

std::string text_of(const Value& v) { return v.kind == Value::Bare ? "" : v.text; }

std::string sanitize(const std::string& s) {
  std::string o;
  for (char ch : s) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
                    ch == '_' || ch == '-';
    o += ok ? ch : '_';
  }
  return o;
}

struct Block {
  std::string label;
  Options fixed;
  std::vector<Options> swept;  // one entry per point
};

const std::set<std::string> kFixedColumns = {"index", "point", "block", "status"};

}  // namespace

const std::vector<std::string>& known_commands() {
  static const std::vector<std::string> c = {"run", "infer", "sample", "search"};
  return c;
}

std::string sha1_hex(const std::string& bytes) {
  boost::uuids::detail::sha1 h;
  h.process_bytes(bytes.data(), bytes.size());
  boost::uuids::detail::sha1::digest_type d;
  h.get_digest(d);
  char buf[41];
  for (int i = 0; i < 5; ++i) std::snprintf(buf + 8 * i, 9, "%08x", d[i]);
  return std::string(buf, 40);
}

std::vector<std::string> Point::expanded_args(const std::string& dir) const {
  std::vector<std::string> out;
  for (std::string a : args) {
    for (size_t p = a.find("{dir}"); p != std::string::npos; p = a.find("{dir}", p + dir.size())) a.replace(p, 5, dir);
    out.push_back(a);
  }
  return out;
}

Spec load_spec(const std::string& path) { return parse_spec(read_file(path), path); }

Spec parse_spec(const std::string& text, const std::string& path) {
  const Ctx c{path};
  const YAML::Node root = load_yaml(text, path);  // one document, alias expansion bounded
  if (!root.IsMap()) throw ConfigError(path + ": a sweep spec must be a YAML mapping (name:, command:, points:, ...)");
  check_keys(c, root, "",
             {"name", "description", "command", "out", "options", "output", "points", "naming", "resources",
              "metrics", "plots"});
  Spec s;
  s.path = path;
  s.name = scalar(c, root["name"], "name");
  if (!std::regex_match(s.name, std::regex("[A-Za-z0-9][A-Za-z0-9._-]*")))
    c.fail(root["name"], "name", "use letters, digits, '.', '_' and '-' only, got '" + s.name + "'");
  s.command = scalar(c, root["command"], "command");
  const auto& kc = known_commands();
  if (std::find(kc.begin(), kc.end(), s.command) == kc.end())
    c.fail(root["command"], "command", "must be one of run, infer, sample, search; got '" + s.command + "'");
  s.out = root["out"].IsDefined() ? scalar(c, root["out"], "out") : "sweeps/" + s.name;
  s.options = options_of(c, root["options"], "options");

  // Where each point writes its report: the subcommand's output option pointed at the point folder.
  std::vector<std::string> out_args;
  if (s.command == "run" || s.command == "infer")
    out_args = {"--report", "{dir}/report.json"};
  else if (s.command == "search")  // a point rerun after an interruption continues from its checkpoint
    out_args = {"--out-dir", "{dir}", "--resume"};
  else
    out_args = {"--out-dir", "{dir}"};
  if (const YAML::Node o = root["output"]; o.IsDefined()) {
    check_keys(c, o, "output", {"args", "report", "drop"});
    if (o["drop"].IsDefined()) {
      if (!o["drop"].IsSequence()) c.fail(o["drop"], "output.drop", "must be a list of file names");
      for (const auto& d : o["drop"]) {
        const std::string f = scalar(c, d, "output.drop");
        if (!std::regex_match(f, std::regex("[A-Za-z0-9._-]+")) || f == "." || f == ".." || f == "point.json")
          c.fail(d, "output.drop", "must be a plain file name inside the point folder, got '" + f + "'");
        s.drop.push_back(f);
      }
    }
    if (o["args"].IsDefined()) {
      if (!o["args"].IsSequence()) c.fail(o["args"], "output.args", "must be a list of arguments");
      out_args.clear();
      for (const auto& a : o["args"]) out_args.push_back(scalar(c, a, "output.args"));
    }
    if (o["report"].IsDefined()) s.report = scalar(c, o["report"], "output.report");
  }
  if (s.report.empty() || s.report.find("..") != std::string::npos || s.report[0] == '/')
    c.fail(root["output"], "output.report", "must be a relative path inside the point folder");
  for (const auto& d : s.drop)
    if (d == s.report) c.fail(root["output"], "output.drop", "would delete the report " + d);
  // The sweep's own files in a point folder: a report of that name would be overwritten by the sweep (a report
  // named point.json made every point rerun forever).
  for (const char* own : {"point.json", "stdout.log", "stderr.log", ".lock"}) {
    const std::string o = own;
    if (std::filesystem::path(s.report).lexically_normal() == std::filesystem::path(o))
      c.fail(root["output"], "output.report", "'" + s.report + "' is reserved: the sweep writes " + o +
                                                  " into each point folder itself");
    for (const auto& d : s.drop)
      if (d == o) c.fail(root["output"], "output.drop", "'" + d + "' is the sweep's own file");
  }
  std::set<std::string> reserved;
  for (const auto& a : out_args)
    if (a.rfind("--", 0) == 0) reserved.insert(a.substr(2));
  auto check_reserved = [&](const Options& o, const YAML::Node& n, const std::string& key) {
    for (const auto& [k, v] : o)
      if (reserved.count(k))
        c.fail(n, key + "." + k, "is set by the sweep (each point writes into its own folder; see output.args)");
  };
  check_reserved(s.options, root["options"], "options");

  // Blocks of points.
  const YAML::Node pts = root["points"];
  if (!pts.IsDefined()) c.fail(root, "points", "missing (a list of blocks with grid: or list:)");
  if (!pts.IsSequence() || pts.size() == 0) c.fail(pts, "points", "must be a non-empty list of blocks");
  std::vector<Block> blocks;
  size_t total_points = 0;  // over every block: checked before a block is expanded
  for (size_t b = 0; b < pts.size(); ++b) {
    const YAML::Node bn = pts[b];
    const std::string bkey = "points[" + std::to_string(b) + "]";
    check_keys(c, bn, bkey, {"block", "options", "grid", "list"});
    Block blk;
    blk.label = bn["block"].IsDefined() ? scalar(c, bn["block"], bkey + ".block") : std::to_string(b);
    blk.fixed = options_of(c, bn["options"], bkey + ".options");
    check_reserved(blk.fixed, bn["options"], bkey + ".options");
    const bool has_grid = bn["grid"].IsDefined(), has_list = bn["list"].IsDefined();
    if (has_grid == has_list) c.fail(bn, bkey, "needs exactly one of grid: or list:");
    if (has_grid) {
      const YAML::Node g = bn["grid"];
      if (!g.IsMap() || g.size() == 0) c.fail(g, bkey + ".grid", "must map option names to lists of values");
      std::vector<std::pair<std::string, std::vector<Value>>> axes;
      for (const auto& kv : g) {
        const std::string k = option_name(c, kv.first, bkey + ".grid");
        const std::string key = bkey + ".grid." + k;
        std::vector<Value> vals;
        if (kv.second.IsSequence()) {
          if (kv.second.size() == 0) c.fail(kv.second, key, "empty list of values");
          for (const auto& v : kv.second) vals.push_back(value_of(c, v, key));
        } else {
          vals.push_back(value_of(c, kv.second, key));
        }
        for (const auto& [kk, vv] : axes)
          if (kk == k) c.fail(kv.first, key, "swept twice in one grid");
        axes.push_back({k, vals});
      }
      size_t grid_points = 1;
      for (const auto& [k, vals] : axes) {
        if (vals.size() > kMaxSweepPoints / grid_points)
          c.fail(g, bkey + ".grid", "expands to more than " + std::to_string(kMaxSweepPoints) + " points");
        grid_points *= vals.size();
      }
      if (grid_points > kMaxSweepPoints - total_points)
        c.fail(g, bkey + ".grid", "brings the sweep to more than " + std::to_string(kMaxSweepPoints) +
                                      " points in total (" + std::to_string(total_points) + " before this block)");
      Options o(axes.size());
      for (size_t i = 0; i < axes.size(); ++i) o[i].first = axes[i].first;
      std::vector<size_t> idx(axes.size(), 0);  // odometer, last axis fastest
      while (true) {
        for (size_t i = 0; i < axes.size(); ++i) o[i].second = axes[i].second[idx[i]];
        blk.swept.push_back(o);
        size_t i = axes.size();
        while (i > 0 && ++idx[i - 1] == axes[i - 1].second.size()) idx[--i] = 0;
        if (i == 0) break;
      }
    } else {
      const YAML::Node l = bn["list"];
      if (!l.IsSequence() || l.size() == 0) c.fail(l, bkey + ".list", "must be a non-empty list of option maps");
      if (l.size() > kMaxSweepPoints - total_points)
        c.fail(l, bkey + ".list", "brings the sweep to more than " + std::to_string(kMaxSweepPoints) +
                                      " points in total (" + std::to_string(total_points) + " before this block)");
      for (size_t i = 0; i < l.size(); ++i) {
        const std::string key = bkey + ".list[" + std::to_string(i) + "]";
        if (!l[i].IsMap()) c.fail(l[i], key, "must be a mapping of option: value");
        blk.swept.push_back(options_of(c, l[i], key));
      }
    }
    for (size_t i = 0; i < blk.swept.size(); ++i) check_reserved(blk.swept[i], bn, bkey);
    total_points += blk.swept.size();
    blocks.push_back(std::move(blk));
  }

  // Columns: every block-level or swept option, in order of first appearance.
  for (const auto& blk : blocks) {
    auto add = [&](const std::string& k) {
      if (std::find(s.param_columns.begin(), s.param_columns.end(), k) == s.param_columns.end())
        s.param_columns.push_back(k);
    };
    for (const auto& [k, v] : blk.fixed) add(k);
    for (const auto& sw : blk.swept)
      for (const auto& [k, v] : sw) add(k);
  }
  for (const auto& k : s.param_columns)
    if (kFixedColumns.count(k)) c.fail(pts, "points", "option '" + k + "' clashes with a fixed column name");

  // Naming template.
  std::string naming;
  if (root["naming"].IsDefined()) {
    naming = scalar(c, root["naming"], "naming");
    static const std::regex ph("\\{([^{}]*)\\}");
    for (auto it = std::sregex_iterator(naming.begin(), naming.end(), ph); it != std::sregex_iterator(); ++it) {
      const std::string k = (*it)[1];
      if (k != "index" && k != "block" &&
          std::find(s.param_columns.begin(), s.param_columns.end(), k) == s.param_columns.end())
        c.fail(root["naming"], "naming", "placeholder {" + k + "} is neither {index}, {block} nor a swept option");
    }
  }

  size_t total = 0;
  for (const auto& blk : blocks) total += blk.swept.size();
  const int width = std::max<int>(3, static_cast<int>(std::to_string(total > 0 ? total - 1 : 0).size()));
  std::map<std::string, size_t> names;
  for (const auto& blk : blocks) {
    for (const auto& sw : blk.swept) {
      Point p;
      p.index = s.points.size();
      p.block = blk.label;
      Options eff = s.options;
      for (const auto& [k, v] : blk.fixed) set_opt(eff, k, v);
      for (const auto& [k, v] : sw) set_opt(eff, k, v);
      for (const auto& col : s.param_columns) {
        std::string val;
        for (const auto& [k, v] : eff)
          if (k == col) val = text_of(v);
        p.params.push_back({col, val});
      }
      char ib[32];
      std::snprintf(ib, sizeof ib, "%0*zu", width, p.index);
      if (naming.empty()) {
        p.name = std::string("p") + ib;
        for (const auto& [k, v] : blk.fixed) p.name += "-" + k + text_of(v);
        for (const auto& [k, v] : sw) p.name += "-" + k + text_of(v);
      } else {
        p.name = naming;
        auto rep = [&](const std::string& k, const std::string& v) {
          const std::string t = "{" + k + "}";
          for (size_t q = p.name.find(t); q != std::string::npos; q = p.name.find(t, q + v.size()))
            p.name.replace(q, t.size(), v);
        };
        rep("index", ib);
        rep("block", blk.label);
        for (const auto& [k, v] : p.params) rep(k, v);
      }
      p.name = sanitize(p.name);
      if (p.name.size() > 120) p.name = p.name.substr(0, 120);
      if (p.name.empty() || p.name == "." || p.name == "..") p.name = std::string("p") + ib;
      if (auto it = names.find(p.name); it != names.end())
        c.fail(root["naming"].IsDefined() ? root["naming"] : pts, "naming",
               "points " + std::to_string(it->second) + " and " + std::to_string(p.index) + " would share the folder '" +
                   p.name + "' (add {index} or a swept option to the template)");
      names[p.name] = p.index;
      p.args.push_back(s.command);
      p.args.insert(p.args.end(), out_args.begin(), out_args.end());
      for (const auto& [k, v] : eff) {
        if (v.kind == Value::Off) continue;
        p.args.push_back("--" + k);
        if (v.kind == Value::Text) p.args.push_back(v.text);
      }
      std::string joined;
      for (const auto& a : p.args) joined += a + '\0';
      p.fingerprint = sha1_hex(joined);
      s.points.push_back(std::move(p));
    }
  }

  // Slurm resources.
  if (const YAML::Node r = root["resources"]; r.IsDefined()) {
    check_keys(c, r, "resources", {"cpus", "mem", "time", "partition", "account", "qos", "max_parallel", "extra"});
    if (r["cpus"].IsDefined()) s.resources.cpus = static_cast<int>(integer(c, r["cpus"], "resources.cpus", 1, 4096));
    if (r["mem"].IsDefined()) {
      s.resources.mem = scalar(c, r["mem"], "resources.mem");
      if (!std::regex_match(s.resources.mem, std::regex("[0-9]+[KMGT]?")))
        c.fail(r["mem"], "resources.mem", "must be a size like 500M or 4G, got '" + s.resources.mem + "'");
    }
    if (r["time"].IsDefined()) {
      s.resources.time = scalar(c, r["time"], "resources.time");
      if (!std::regex_match(s.resources.time, std::regex("([0-9]+-)?[0-9]+(:[0-9]{2}){0,2}")))
        c.fail(r["time"], "resources.time", "must be minutes, HH:MM:SS or D-HH:MM:SS, got '" + s.resources.time + "'");
    }
    for (const char* k : {"partition", "account", "qos"}) {
      if (!r[k].IsDefined()) continue;
      const std::string v = scalar(c, r[k], std::string("resources.") + k);
      if (!std::regex_match(v, std::regex("[A-Za-z0-9._,-]+")))
        c.fail(r[k], std::string("resources.") + k, "unexpected characters in '" + v + "'");
      (std::string(k) == "partition" ? s.resources.partition : std::string(k) == "account" ? s.resources.account
                                                                                            : s.resources.qos) = v;
    }
    if (r["max_parallel"].IsDefined())
      s.resources.max_parallel = static_cast<int>(integer(c, r["max_parallel"], "resources.max_parallel", 0, 100000));
    if (r["extra"].IsDefined()) {
      if (!r["extra"].IsSequence()) c.fail(r["extra"], "resources.extra", "must be a list of sbatch options");
      for (const auto& e : r["extra"]) {
        const std::string v = scalar(c, e, "resources.extra");
        if (v.rfind("--", 0) != 0 || v.find_first_of("\n'\"\\$`") != std::string::npos)
          c.fail(e, "resources.extra", "must be one sbatch option like --constraint=avx2, got '" + v + "'");
        s.resources.extra.push_back(v);
      }
    }
  }

  // Key figures: column name -> JSON pointer (or {path, reduce}).
  std::set<std::string> columns(kFixedColumns);
  columns.insert(s.param_columns.begin(), s.param_columns.end());
  if (const YAML::Node m = root["metrics"]; m.IsDefined()) {
    if (!m.IsMap()) c.fail(m, "metrics", "must map column names to JSON pointers into the report");
    for (const auto& kv : m) {
      Metric mt;
      mt.name = kv.first.Scalar();
      const std::string key = "metrics." + mt.name;
      if (!std::regex_match(mt.name, std::regex("[A-Za-z0-9_.-]+"))) c.fail(kv.first, key, "bad column name");
      if (columns.count(mt.name)) c.fail(kv.first, key, "column name already used");
      if (kv.second.IsMap()) {
        check_keys(c, kv.second, key, {"path", "reduce"});
        mt.pointer = scalar(c, kv.second["path"], key + ".path");
        if (kv.second["reduce"].IsDefined()) {
          mt.reduce = scalar(c, kv.second["reduce"], key + ".reduce");
          if (mt.reduce != "min" && mt.reduce != "max" && mt.reduce != "mean" && mt.reduce != "sum" &&
              mt.reduce != "count")
            c.fail(kv.second["reduce"], key + ".reduce", "must be min, max, mean, sum or count");
        }
      } else {
        mt.pointer = scalar(c, kv.second, key);
      }
      try {
        nlohmann::json::json_pointer jp(mt.pointer);
        (void)jp;
      } catch (const nlohmann::json::exception&) {
        c.fail(kv.second, key, "'" + mt.pointer + "' is not a JSON pointer (like /totals/cycles)");
      }
      if (mt.pointer.empty()) c.fail(kv.second, key, "empty JSON pointer (use a path like /totals/cycles)");
      columns.insert(mt.name);
      s.metrics.push_back(mt);
    }
  }

  if (const YAML::Node pl = root["plots"]; pl.IsDefined()) {
    if (!pl.IsSequence()) c.fail(pl, "plots", "must be a list");
    std::set<std::string> files;
    for (size_t i = 0; i < pl.size(); ++i) {
      const std::string key = "plots[" + std::to_string(i) + "]";
      const YAML::Node n = pl[i];
      check_keys(c, n, key, {"file", "x", "y", "kind", "group", "title", "logx", "logy", "pareto"});
      Plot p;
      p.file = scalar(c, n["file"], key + ".file");
      if (!std::regex_match(p.file, std::regex("[A-Za-z0-9._-]+\\.png")) || !files.insert(p.file).second)
        c.fail(n["file"], key + ".file", "must be a unique file name ending in .png, got '" + p.file + "'");
      p.x = scalar(c, n["x"], key + ".x");
      p.y = scalar(c, n["y"], key + ".y");
      for (const auto& [k, v] : {std::pair<std::string, std::string>{"x", p.x}, {"y", p.y}})
        if (!columns.count(v)) c.fail(n[k], key + "." + k, "'" + v + "' is not a column (swept option or metric)");
      if (n["kind"].IsDefined()) {
        p.kind = scalar(c, n["kind"], key + ".kind");
        if (p.kind != "scatter" && p.kind != "line" && p.kind != "pareto")
          c.fail(n["kind"], key + ".kind", "must be scatter, line or pareto");
      }
      if (n["group"].IsDefined()) {
        p.group = scalar(c, n["group"], key + ".group");
        if (!columns.count(p.group)) c.fail(n["group"], key + ".group", "'" + p.group + "' is not a column");
      }
      p.title = n["title"].IsDefined() ? scalar(c, n["title"], key + ".title") : s.name + ": " + p.y + " vs " + p.x;
      if (n["logx"].IsDefined()) p.logx = boolean(c, n["logx"], key + ".logx");
      if (n["logy"].IsDefined()) p.logy = boolean(c, n["logy"], key + ".logy");
      if (const YAML::Node pp = n["pareto"]; pp.IsDefined()) {
        check_keys(c, pp, key + ".pareto", {"x", "y"});
        for (const char* a : {"x", "y"}) {
          if (!pp[a].IsDefined()) continue;
          const std::string v = scalar(c, pp[a], key + ".pareto." + a);
          if (v != "min" && v != "max") c.fail(pp[a], key + ".pareto." + a, "must be min or max");
          (std::string(a) == "x" ? p.x_min : p.y_min) = v == "min";
        }
      }
      s.plots.push_back(p);
    }
  }
  return s;
}

}  // namespace cimsim::sweep
