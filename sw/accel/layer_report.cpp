// Per-layer reports: CSV table, gnuplot stacked energy plot, progress line. See layer_report.hpp and
// docs/accelerator.md ("Reports").
#include "cimsim/accel/layer_report.hpp"
#include "cimsim/accel/headline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"

extern char** environ;

namespace cimsim::accel {
namespace fs = std::filesystem;

namespace {

// Ledger components in report order; any other component follows, alphabetically.
const char* const kComponentOrder[] = {"compute", "adc",         "dac",  "requant", "vector",     "weight_buffer",
                                       "act_buffer", "cim_write", "dma", "dram",    "descriptor", "leakage"};

std::string num(double v, const char* fmt) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char b[64];
  std::snprintf(b, sizeof b, fmt, v);
  return b;
}

/// RFC 4180 quoting where needed.
std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

/// A gnuplot single-quoted string literal.
std::string gp_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q += "''";
    else if (c == '\n' || c == '\r')
      q += ' ';
    else
      q += c;
  }
  return q + "'";
}

/// A gnuplot double-quoted string (line breaks kept as \n).
std::string gp_dquote(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    if (c == '\n') q += "\\n";
    else if (c != '\r') q += c;
  }
  return q + "\"";
}

double component(const LayerReportRow& r, const std::string& c) {
  const auto it = r.energy_pj.find(c);
  return it == r.energy_pj.end() ? 0.0 : it->second;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// A temporary directory removed on scope exit.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "cimsim-plot-XXXXXX").string();
    std::vector<char> b(t.begin(), t.end());
    b.push_back('\0');
    if (!::mkdtemp(b.data())) throw IoError(std::string("cannot create a temporary directory: ") + std::strerror(errno));
    path = b.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

std::vector<std::string> report_components(const std::vector<LayerReportRow>& rows) {
  std::vector<std::string> out;
  for (const char* c : kComponentOrder)
    for (const auto& r : rows)
      if (r.energy_pj.count(c)) {
        out.push_back(c);
        break;
      }
  std::vector<std::string> extra;
  for (const auto& r : rows)
    for (const auto& kv : r.energy_pj)
      if (std::find(std::begin(kComponentOrder), std::end(kComponentOrder), kv.first) == std::end(kComponentOrder) &&
          std::find(extra.begin(), extra.end(), kv.first) == extra.end())
        extra.push_back(kv.first);
  std::sort(extra.begin(), extra.end());
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::string component_colour(const std::string& component) {
  // One colour per component, the same in every plot: a qualitative palette (no two alike).
  static const std::pair<const char*, const char*> kFixed[] = {
      {"compute", "#1f77b4"},   {"adc", "#ff7f0e"},        {"dac", "#2ca02c"},     {"requant", "#d62728"},
      {"vector", "#9467bd"},    {"weight_buffer", "#8c564b"}, {"act_buffer", "#e377c2"}, {"cim_write", "#bcbd22"},
      {"dma", "#17becf"},       {"dram", "#7f7f7f"},       {"descriptor", "#393b79"}, {"leakage", "#f7b6d2"},
      {"rng", "#637939"},       {"array", "#843c39"},      {"logic", "#7b4173"}};
  for (const auto& [k, c] : kFixed)
    if (component == k) return c;
  unsigned h = 2166136261u;
  for (char ch : component) h = (h ^ static_cast<unsigned char>(ch)) * 16777619u;
  char b[16];
  std::snprintf(b, sizeof b, "#%06x", h & 0xffffff);
  return b;
}

std::string layer_report_csv(const std::vector<LayerReportRow>& rows, double clock_hz) {
  const std::vector<std::string> comps = report_components(rows);
  std::ostringstream o;
  o << "layer,kind,op,mode,macs,cycles,utilisation,dram_bytes,weight_buffer_read_bytes,weight_buffer_write_bytes,"
       "act_buffer_read_bytes,act_buffer_write_bytes";
  for (const auto& c : comps) o << "," << c << "_pj";
  o << ",system_pj,operator_pj";
  if (clock_hz > 0)
    for (const auto& c : Headline::csv_columns()) o << "," << c;
  o << "\n";

  LayerReportRow total;
  total.name = "total";
  double util_cycles = 0;
  auto line = [&](const LayerReportRow& r) {
    o << csv_field(r.name) << "," << csv_field(r.kind) << "," << csv_field(r.op) << "," << csv_field(r.mode) << ","
      << r.macs << "," << r.cycles << "," << num(r.utilisation, "%.6f") << "," << r.dram_bytes << ","
      << r.weight_buffer_read << "," << r.weight_buffer_write << "," << r.act_buffer_read << ","
      << r.act_buffer_write;
    for (const auto& c : comps) o << "," << num(component(r, c), "%.6f");
    o << "," << num(r.system_pj, "%.6f") << "," << num(r.operator_pj, "%.6f");
    if (clock_hz > 0) {
      const Headline h = headline({static_cast<double>(r.macs), r.system_pj, r.operator_pj,
                                   static_cast<double>(r.cycles), clock_hz});
      for (double v : h.csv_values()) o << "," << (std::isfinite(v) ? num(v, "%.6g") : std::string());
    }
    o << "\n";
  };
  for (const auto& r : rows) {
    line(r);
    total.macs += r.macs;
    total.cycles += r.cycles;
    util_cycles += r.utilisation * static_cast<double>(r.cycles);
    total.dram_bytes += r.dram_bytes;
    total.weight_buffer_read += r.weight_buffer_read;
    total.weight_buffer_write += r.weight_buffer_write;
    total.act_buffer_read += r.act_buffer_read;
    total.act_buffer_write += r.act_buffer_write;
    for (const auto& c : comps) total.energy_pj[c] += component(r, c);
    total.system_pj += r.system_pj;
    total.operator_pj += r.operator_pj;
  }
  // The total row's utilisation is the cycle-weighted mean of the layers' utilisations.
  total.utilisation = total.cycles > 0 ? util_cycles / static_cast<double>(total.cycles) : 0.0;
  line(total);
  return o.str();
}

void write_layer_report_csv(const std::string& path, const std::vector<LayerReportRow>& rows, double clock_hz) {
  atomic_write(path, layer_report_csv(rows, clock_hz));
}

void plot_layer_energy(const std::string& png_path, const std::vector<LayerReportRow>& rows,
                       const std::string& title) {
  if (rows.empty()) throw IoError("plot " + png_path + ": no layers to plot");
  // Components that carry energy somewhere (an all-zero series would only clutter the key).
  std::vector<std::string> comps;
  for (const auto& c : report_components(rows))
    for (const auto& r : rows)
      if (component(r, c) != 0.0) {
        comps.push_back(c);
        break;
      }
  if (comps.empty()) throw IoError("plot " + png_path + ": every layer has zero energy, nothing to plot");

  TempDir tmp;
  const fs::path data = tmp.path / "energy.dat", script = tmp.path / "plot.gp", png = tmp.path / "plot.png",
                 log = tmp.path / "gnuplot.log";
  std::ostringstream d;
  d << "layer";
  for (const auto& c : comps) d << "\t" << c;
  d << "\n";
  // The energy axis in the unit that keeps its numbers short (pJ, nJ or uJ by the tallest bar).
  double tallest = 0;
  for (const auto& r : rows) {
    double t = 0;
    for (const auto& c : comps) t += component(r, c);
    tallest = std::max(tallest, t);
  }
  const double scale = tallest >= 1e6 ? 1e-6 : tallest >= 1e3 ? 1e-3 : 1.0;
  const char* unit = tallest >= 1e6 ? "µJ" : tallest >= 1e3 ? "nJ" : "pJ";
  for (const auto& r : rows) {
    std::string label = r.name;
    for (char& ch : label)
      if (std::isspace(static_cast<unsigned char>(ch)) || ch == '"') ch = '_';
    d << '"' << label << '"';
    for (const auto& c : comps) d << "\t" << num(component(r, c) * scale, "%.9g");
    d << "\n";
  }
  atomic_write(data.string(), d.str());

  const size_t n = rows.size();
  const int width = static_cast<int>(std::clamp<size_t>(200 + 28 * n, 900, 4000));
  std::ostringstream g;
  g << "set terminal pngcairo size " << width << ",640 font 'sans,10'\n"
    << "set output " << gp_quote(png.string()) << "\n"
    << "set title " << gp_dquote(title) << " noenhanced\n"
    << "set ylabel 'Energy per inference (" << unit << ")'\n"
    << "set xlabel 'Layer (execution order)'\n"
    << "set style data histograms\n"
    << "set style histogram rowstacked\n"
    << "set style fill solid 0.85 border -1\n"
    << "set boxwidth 0.75\n"
    << "set key outside right top vertical noenhanced\n"
    << "set xtics rotate by -60 noenhanced\n"
    << "set grid ytics\n"
    << "set yrange [0:*]\n"
    << "plot " << gp_quote(data.string()) << " using 2:xtic(1) title columnheader(2) lc rgb '"
    << component_colour(comps[0]) << "'";
  for (size_t i = 1; i < comps.size(); ++i)
    g << ", '' using " << i + 2 << " title columnheader(" << i + 2 << ") lc rgb '" << component_colour(comps[i]) << "'";
  g << "\n";
  atomic_write(script.string(), g.str());

  // gnuplot script.gp, stdin from /dev/null, stdout/stderr to the log (shown in the error message).
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::string prog = "gnuplot", arg = script.string();
  char* argv[] = {prog.data(), arg.data(), nullptr};
  pid_t pid = 0;
  const int err = ::posix_spawnp(&pid, "gnuplot", &fa, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0)
    throw IoError("plot " + png_path + ": cannot run gnuplot (" + std::strerror(err) +
                  "); install the gnuplot-nox package");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw IoError("plot " + png_path + ": waiting for gnuplot failed");
  }
  std::string out;
  try {
    out = read_file(log.string());
  } catch (const IoError&) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    throw IoError("plot " + png_path + ": gnuplot is not installed (install the gnuplot-nox package)");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw IoError("plot " + png_path + ": gnuplot failed: " + out.substr(0, 2000));
  std::error_code ec;
  if (!fs::is_regular_file(png, ec) || fs::file_size(png, ec) == 0)
    throw IoError("plot " + png_path + ": gnuplot wrote no image: " + out.substr(0, 2000));
  atomic_write(png_path, read_file(png.string()));
}

ProgressLine::ProgressLine(std::string label, int64_t total, double after_s)
    : label_(std::move(label)), total_(total), after_s_(after_s), t0_(now_s()) {
  tty_ = ::isatty(2) != 0;
  const char* env = std::getenv("CIMSIM_PROGRESS");
  enabled_ = env && *env ? std::string(env) != "0" : tty_;
}

void ProgressLine::update(int64_t done) {
  if (!enabled_) return;
  const double t = now_s();
  const double elapsed = t - t0_;
  if (elapsed < after_s_) return;
  if (shown_ && t - last_ < (tty_ ? 0.2 : 1.0)) return;
  last_ = t;
  shown_ = true;
  std::ostringstream o;
  if (tty_) o << "\r";
  o << label_ << "  " << done << "/" << total_;
  if (total_ > 0) {
    const double frac = std::clamp(static_cast<double>(done) / static_cast<double>(total_), 0.0, 1.0);
    o << "  " << static_cast<int>(frac * 100.0) << "%";
    if (frac > 0 && frac < 1) o << "  ETA " << static_cast<int64_t>(std::ceil(elapsed * (1.0 - frac) / frac)) << " s";
  }
  o << (tty_ ? "\033[K" : "\n");
  const std::string s = o.str();
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
}

void ProgressLine::done() {
  if (!shown_) return;
  std::ostringstream o;
  if (tty_) o << "\r";
  o << label_ << "  " << total_ << "/" << total_ << "  100%  " << num(now_s() - t0_, "%.1f") << " s"
    << (tty_ ? "\033[K\n" : "\n");
  const std::string s = o.str();
  std::fwrite(s.data(), 1, s.size(), stderr);
  std::fflush(stderr);
  shown_ = false;
}

}  // namespace cimsim::accel
