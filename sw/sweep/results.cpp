#include "cimsim/sweep/results.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <map>
#include <sstream>

#include <unistd.h>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/diag/diagnostics.hpp"
#include "cimsim/sweep/process.hpp"

namespace cimsim::sweep {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char b[32];
  std::strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return b;
}

std::string hostname() {
  char b[256] = {0};
  if (::gethostname(b, sizeof b - 1) != 0) return "";
  return b;
}

// The last lines of a log, at most `max` characters, for error messages.
std::string tail_of(const std::string& path, size_t max = 1500) {
  std::string t;
  try {
    t = read_file(path);
  } catch (const IoError&) {
    return "";
  }
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ' || t.back() == '\r')) t.pop_back();
  if (t.size() > max) t = "..." + t.substr(t.size() - max);
  return t;
}

json metric_value(const json& report, const Metric& m) {
  try {
    const json::json_pointer ptr(m.pointer);
    if (!report.contains(ptr)) return nullptr;
    const json& v = report.at(ptr);
    if (m.reduce.empty()) return v;
    if (!v.is_array()) return nullptr;
    if (m.reduce == "count") return v.size();
    json best;
    double sum = 0;
    bool all_int = true;
    size_t n = 0;
    for (const auto& e : v) {
      if (!e.is_number()) continue;
      const double x = e.get<double>();
      all_int = all_int && e.is_number_integer();
      sum += x;
      ++n;
      if (best.is_null() || (m.reduce == "min" ? x < best.get<double>() : x > best.get<double>())) best = e;
    }
    if (n == 0) return nullptr;
    if (m.reduce == "min" || m.reduce == "max") return best;
    if (m.reduce == "sum") return all_int ? json(static_cast<long long>(sum)) : json(sum);
    return sum / static_cast<double>(n);
  } catch (const json::exception&) {
    return nullptr;
  }
}

std::string cell_of(const json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos && (s.empty() || (s.front() != ' ' && s.back() != ' ')))
    return s;
  std::string o = "\"";
  for (char ch : s) o += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return o + "\"";
}

bool as_number(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && std::isfinite(v);
}

// Column value of one point: parameter, metric or fixed column.
std::string column(const Spec& s, const Point& p, const PointStatus& st, const std::string& col) {
  if (col == "index") return std::to_string(p.index);
  if (col == "point") return p.name;
  if (col == "block") return p.block;
  if (col == "status") return state_name(st.state);
  for (const auto& [k, v] : p.params)
    if (k == col) return v;
  for (const auto& m : s.metrics)
    if (m.name == col) return st.state == State::Done ? metric_cell(st.report, m) : "";
  return "";
}

// A human axis label with its unit for the columns the shipped specs use; otherwise the name with its unit
// taken from the suffix (_pj, _uj, _ms, _s, _bytes, _hz).
std::string human_label(const std::string& name) {
  static const std::pair<const char*, const char*> kKnown[] = {
      {"cycles", "Cycles per inference"},
      {"energy_pj", "Energy per inference (pJ)"},
      {"operator_energy_pj", "Operator-only energy per inference (pJ)"},
      {"dram_bytes", "DRAM traffic per inference (bytes)"},
      {"utilisation", "Array utilisation (fraction of peak)"},
      {"macs", "MACs per inference"},
      {"pj_per_mac", "Energy per MAC, system (pJ)"},
      {"operator_pj_per_mac", "Energy per MAC, operator-only (pJ)"},
      {"tops_per_w", "TOPS/W, system"},
      {"latency_ms", "Latency per inference (ms)"},
      {"inferences_per_s", "Inferences per second"},
      {"edp_uj_ms", "Energy-delay product (uJ ms)"},
      {"array", "MAC array (rows x columns)"},
      {"arch", "Architecture file"},
      {"topology", "Topology"},
      {"accuracy", "Accuracy"},
      {"rows", "Array rows"},
      {"cols", "Array columns"}};
  for (const auto& [k, v] : kKnown)
    if (name == k) return v;
  static const std::pair<const char*, const char*> kUnits[] = {
      {"_pj", " (pJ)"}, {"_uj", " (uJ)"}, {"_ms", " (ms)"}, {"_s", " (s)"}, {"_bytes", " (bytes)"}, {"_hz", " (Hz)"}};
  std::string base = name, unit;
  for (const auto& [suf, u] : kUnits) {
    const std::string sf = suf;
    if (base.size() > sf.size() && base.compare(base.size() - sf.size(), sf.size(), sf) == 0) {
      base.resize(base.size() - sf.size());
      unit = u;
      break;
    }
  }
  for (char& c : base)
    if (c == '_') c = ' ';
  if (!base.empty()) base[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(base[0])));
  return base + unit;
}

void draw_plot(const Spec& s, const std::vector<PointStatus>& st, const Plot& pl, const std::string& png) {
  struct Row {
    std::string x, group, name;
    double xv = 0, y = 0;
  };
  std::vector<Row> rows;
  bool numeric_x = true;
  for (size_t i = 0; i < s.points.size(); ++i) {
    if (st[i].state != State::Done) continue;
    Row r;
    r.x = column(s, s.points[i], st[i], pl.x);
    if (!as_number(column(s, s.points[i], st[i], pl.y), r.y) || r.x.empty()) continue;
    r.group = pl.group.empty() ? "" : column(s, s.points[i], st[i], pl.group);
    r.name = s.points[i].name;
    numeric_x = numeric_x && as_number(r.x, r.xv);
    rows.push_back(r);
  }
  if (rows.empty()) throw ConfigError("no finished point has numeric values of " + pl.y);
  std::vector<std::string> cats, groups;
  for (auto& r : rows) {
    if (!numeric_x) {
      auto it = std::find(cats.begin(), cats.end(), r.x);
      if (it == cats.end()) cats.push_back(r.x), it = cats.end() - 1;
      r.xv = static_cast<double>(it - cats.begin());
    }
    if (std::find(groups.begin(), groups.end(), r.group) == groups.end()) groups.push_back(r.group);
  }
  if (pl.kind == "pareto" && !numeric_x) throw ConfigError("a pareto plot needs a numeric x column, '" + pl.x + "' is not");
  // Categorical x (architecture files, array shapes): clustered bars, one colour per group, in first-seen order;
  // numeric x: lines (sorted) or points. Non-negative y axes start at 0 unless logarithmic.
  const bool bars = !numeric_x && pl.kind != "pareto";
  bool nonneg = true;
  for (const auto& r : rows) nonneg = nonneg && r.y >= 0;
  const double bw = bars ? 0.8 / static_cast<double>(groups.size()) : 0.0;
  std::ostringstream data;
  data.precision(17);
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const auto& g = groups[gi];
    std::vector<const Row*> mine;
    for (const auto& r : rows)
      if (r.group == g) mine.push_back(&r);
    if (pl.kind == "line")
      std::stable_sort(mine.begin(), mine.end(), [](const Row* a, const Row* b) { return a->xv < b->xv; });
    const double off = bars ? (static_cast<double>(gi) - 0.5 * static_cast<double>(groups.size() - 1)) * bw : 0.0;
    for (const Row* r : mine) data << r->xv + off << " " << r->y << "\n";
    data << "\n\n";
  }
  std::vector<std::pair<std::string, std::string>> files = {{"data.dat", data.str()}};
  std::ostringstream sc;
  using diag::gnuplot_quote;
  const std::string xl = human_label(pl.x), yl = human_label(pl.y);
  sc << diag::gnuplot_png_terminal(1000, 620) << "set output OUT\nset title " << gnuplot_quote(pl.title)
     << " noenhanced\n"
     << "set xlabel " << gnuplot_quote(xl) << " noenhanced\nset ylabel " << gnuplot_quote(yl)
     << " noenhanced\nset grid ytics\n"
     << (groups.size() == 1 && pl.kind != "pareto" ? "unset key\n" : "set key below noenhanced\n");
  if (pl.logx) sc << "set logscale x\n";
  if (pl.logy) sc << "set logscale y\n";
  else if (nonneg) sc << "set yrange [0:*]\n";
  if (!pl.logy) sc << "set format y '%.1s%c'\n";  // engineering ticks: 1.6M, 800.0k
  if (!numeric_x) {
    sc << "set xtics (";
    for (size_t i = 0; i < cats.size(); ++i) sc << (i ? ", " : "") << gnuplot_quote(cats[i]) << " " << i;
    sc << ") rotate by -30 noenhanced\nset xrange [-0.5:" << cats.size() - 0.5 << "]\n";
  }
  if (bars) sc << "set style fill solid 0.8 border -1\nset boxwidth " << bw * 0.95 << " absolute\n";
  sc << "plot ";
  const std::string style = bars ? "boxes" : pl.kind == "line" ? "linespoints lw 1.5" : "points ps 1.2";
  static const int kPointTypes[] = {7, 5, 9, 13, 11};  // gnuplot repeats its 8 colours: vary the symbol too
  for (size_t g = 0; g < groups.size(); ++g) {
    sc << (g ? ", \\\n     " : "") << "'data.dat' index " << g << " using 1:2 with " << style;
    if (!bars) sc << " pt " << kPointTypes[(g / 8) % 5];
    sc << " title " << gnuplot_quote(pl.group.empty() ? yl : human_label(pl.group) + ": " + groups[g]);
  }
  if (pl.kind == "pareto") {
    std::vector<std::pair<double, double>> xy;
    for (const auto& r : rows) xy.push_back({r.xv, r.y});
    std::ostringstream f;
    f.precision(17);
    for (size_t i : pareto_front(xy, pl.x_min, pl.y_min)) {
      std::string label = rows[i].name;
      for (char& c : label)
        if (c == '"' || c == ' ') c = '_';
      f << xy[i].first << " " << xy[i].second << " \"" << label << "\"\n";
    }
    files.push_back({"front.dat", f.str()});
    sc << ", \\\n     'front.dat' using 1:2 with linespoints lw 2 lc rgb 'black' pt 6 ps 2 title 'Pareto front'"
       << ", \\\n     'front.dat' using 1:2:3 with labels offset char 1,1 left font ',8' noenhanced notitle";
  }
  sc << "\n";
  diag::render_gnuplot(png, files, sc.str());
}

}  // namespace

std::vector<size_t> pareto_front(const std::vector<std::pair<double, double>>& xy, bool x_min, bool y_min) {
  auto better = [](double a, double b, bool min) { return min ? a <= b : a >= b; };
  std::vector<size_t> front;
  for (size_t i = 0; i < xy.size(); ++i) {
    bool dominated = false;
    for (size_t j = 0; j < xy.size() && !dominated; ++j)
      dominated = j != i && better(xy[j].first, xy[i].first, x_min) && better(xy[j].second, xy[i].second, y_min) &&
                  xy[j] != xy[i];
    if (!dominated) front.push_back(i);
  }
  std::stable_sort(front.begin(), front.end(), [&](size_t a, size_t b) { return xy[a].first < xy[b].first; });
  return front;
}

const char* state_name(State s) {
  switch (s) {
    case State::Pending: return "pending";
    case State::Running: return "running";
    case State::Done: return "done";
    case State::Failed: return "failed";
  }
  return "?";
}

std::string points_root(const std::string& out) { return out + "/points"; }
std::string point_dir(const std::string& out, const Point& p) { return points_root(out) + "/" + p.name; }

namespace {
PointStatus read_status_impl(const Spec& s, const std::string& out, const Point& p, bool check_lock) {
  PointStatus st;
  const std::string dir = point_dir(out, p);
  const std::string rec_path = dir + "/point.json";
  if (!fs::exists(rec_path)) return st;
  json rec;
  try {
    rec = json::parse(read_file(rec_path));
  } catch (const std::exception& e) {
    st.error = rec_path + " is unreadable; the point will be rerun";
    return st;
  }
  if (!rec.is_object() || rec.value("fingerprint", "") != p.fingerprint) {
    st.error = rec_path + " belongs to another point or spec; the point will be rerun";
    return st;
  }
  const std::string status = rec.value("status", "");
  st.exit_code = rec.value("exit_code", -1);
  st.wall_s = rec.value("wall_s", 0.0);
  if (status == "running") {
    if (check_lock) {
      FileLock lock(dir + "/.lock");
      if (!lock.try_lock()) st.state = State::Running;
    }
    if (st.state != State::Running) st.error = "interrupted while running; the point will be rerun";
    return st;
  }
  if (status == "failed") {
    st.state = State::Failed;
    st.error = rec.value("error", std::string("failed"));
    return st;
  }
  if (status != "done") return st;
  const std::string rp = dir + "/" + s.report;
  std::string bytes;
  try {
    bytes = read_file(rp);
  } catch (const IoError&) {
    st.error = "the report " + rp + " is missing; the point will be rerun";
    return st;
  }
  if (sha1_hex(bytes) != rec.value("report_sha1", "")) {
    st.error = "the report " + rp + " is not the one this point wrote (checksum); the point will be rerun";
    return st;
  }
  try {
    st.report = json::parse(bytes);
  } catch (const json::exception&) {
    st.error = "the report " + rp + " is not valid JSON; the point will be rerun";
    return st;
  }
  st.state = State::Done;
  return st;
}
}  // namespace

PointStatus read_status(const Spec& s, const std::string& out, const Point& p) {
  return read_status_impl(s, out, p, true);
}

int run_point(const Spec& s, const std::string& out, const Point& p, const std::string& exe) {
  const std::string dir = point_dir(out, p);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw IoError("cannot create the point folder " + dir + ": " + ec.message());
  FileLock lock(dir + "/.lock");
  if (!lock.try_lock()) {
    std::cerr << "point " << p.index << " (" << p.name << ") is being run by another process; skipped\n";
    return 75;
  }
  const PointStatus before = read_status_impl(s, out, p, false);
  if (before.state == State::Done) {
    std::cout << "point " << p.index << " (" << p.name << ") already done\n";
    return 0;
  }
  fs::remove(dir + "/point.json", ec);
  fs::remove(dir + "/" + s.report, ec);
  json params = json::object();
  for (const auto& [k, v] : p.params) params[k] = v;
  json rec = {{"index", p.index}, {"point", p.name},     {"block", p.block},     {"params", params},
              {"args", p.args},   {"fingerprint", p.fingerprint}, {"status", "running"},
              {"host", hostname()}, {"started", utc_now()}};
  if (const char* j = std::getenv("SLURM_ARRAY_JOB_ID")) rec["slurm_job_id"] = j;
  else if (const char* j = std::getenv("SLURM_JOB_ID")) rec["slurm_job_id"] = j;
  if (const char* t = std::getenv("SLURM_ARRAY_TASK_ID")) rec["slurm_array_task_id"] = t;
  atomic_write_json(dir + "/point.json", rec);

  std::vector<std::string> argv = {exe};
  for (auto& a : p.expanded_args(dir)) argv.push_back(a);
  const auto t0 = std::chrono::steady_clock::now();
  int rc = 127;
  std::string error;
  try {
    rc = wait_exit(spawn(argv, dir + "/stdout.log", dir + "/stderr.log", true));
  } catch (const IoError& e) {
    error = e.what();
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& d : s.drop) fs::remove(dir + "/" + d, ec);
  std::string sha;
  const std::string rp = dir + "/" + s.report;
  if (error.empty() && rc != 0) {
    error = "exit status " + std::to_string(rc);
    if (const std::string t = tail_of(dir + "/stderr.log"); !t.empty()) error += ": " + t;
  }
  if (error.empty()) {
    try {
      const std::string bytes = read_file(rp);
      const json parsed = json::parse(bytes);
      (void)parsed;
      sha = sha1_hex(bytes);
    } catch (const IoError&) {
      error = "exit status 0 but no report at " + rp;
    } catch (const json::exception& e) {
      error = "the report " + rp + " is not valid JSON: " + e.what();
    }
  }
  rec["status"] = error.empty() ? "done" : "failed";
  rec["exit_code"] = rc;
  rec["wall_s"] = wall;
  rec["finished"] = utc_now();
  if (error.empty()) rec["report_sha1"] = sha;
  else rec["error"] = error;
  atomic_write_json(dir + "/point.json", rec);
  if (!error.empty()) std::cerr << "point " << p.index << " (" << p.name << ") failed: " << error << "\n";
  return error.empty() ? 0 : 1;
}

std::string metric_cell(const json& report, const Metric& m) { return cell_of(metric_value(report, m)); }

std::string merged_csv(const Spec& s, const std::vector<PointStatus>& st) {
  std::vector<std::string> cols = {"index", "point", "block"};
  cols.insert(cols.end(), s.param_columns.begin(), s.param_columns.end());
  cols.push_back("status");
  for (const auto& m : s.metrics) cols.push_back(m.name);
  std::string o;
  for (size_t i = 0; i < cols.size(); ++i) o += (i ? "," : "") + csv_escape(cols[i]);
  o += "\n";
  for (size_t r = 0; r < s.points.size(); ++r) {
    for (size_t i = 0; i < cols.size(); ++i) o += (i ? "," : "") + csv_escape(column(s, s.points[r], st[r], cols[i]));
    o += "\n";
  }
  return o;
}

Collected collect(const Spec& s, const std::string& out) {
  Collected c;
  std::vector<PointStatus> st;
  for (const auto& p : s.points) st.push_back(read_status(s, out, p));
  json pts = json::array();
  for (size_t i = 0; i < s.points.size(); ++i) {
    const Point& p = s.points[i];
    switch (st[i].state) {
      case State::Done: ++c.done; break;
      case State::Failed: ++c.failed; break;
      case State::Running: ++c.running; break;
      case State::Pending: ++c.pending; break;
    }
    json params = json::object(), metrics = json::object();
    for (const auto& [k, v] : p.params) params[k] = v;
    if (st[i].state == State::Done)
      for (const auto& m : s.metrics) metrics[m.name] = metric_value(st[i].report, m);
    json e = {{"index", p.index}, {"point", p.name}, {"block", p.block}, {"params", params},
              {"status", state_name(st[i].state)}, {"metrics", metrics}, {"dir", point_dir(out, p)}};
    if (!st[i].error.empty()) e["error"] = st[i].error;
    if (st[i].state == State::Done || st[i].state == State::Failed) {
      e["exit_code"] = st[i].exit_code;
      e["wall_s"] = st[i].wall_s;
    }
    pts.push_back(e);
  }
  json metrics = json::array();
  for (const auto& m : s.metrics) {
    json mm = {{"name", m.name}, {"path", m.pointer}};
    if (!m.reduce.empty()) mm["reduce"] = m.reduce;
    metrics.push_back(mm);
  }
  const json summary = {{"sweep", s.name},
                        {"spec", s.path},
                        {"command", s.command},
                        {"generated", utc_now()},
                        {"points", s.points.size()},
                        {"done", c.done},
                        {"failed", c.failed},
                        {"running", c.running},
                        {"pending", c.pending},
                        {"metrics", metrics},
                        {"results", pts}};
  atomic_write(out + "/merged.csv", merged_csv(s, st));
  atomic_write_json(out + "/summary.json", summary);
  c.written = {out + "/merged.csv", out + "/summary.json"};
  for (const auto& pl : s.plots) {
    const std::string png = out + "/plots/" + pl.file;
    try {
      draw_plot(s, st, pl, png);
      c.written.push_back(png);
    } catch (const std::exception& e) {
      std::cerr << "sweep: plot " << pl.file << " not drawn: " << e.what() << "\n";
    }
  }
  return c;
}

}  // namespace cimsim::sweep
