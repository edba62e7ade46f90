// GTKWave views generated per trace: see gtkw_view.hpp.
#include "cimsim/soc/gtkw_view.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"

namespace cimsim {
namespace fs = std::filesystem;

namespace {

double unit_seconds(const std::string& u) {
  if (u == "s") return 1;
  if (u == "ms") return 1e-3;
  if (u == "us") return 1e-6;
  if (u == "ns") return 1e-9;
  if (u == "ps") return 1e-12;
  if (u == "fs") return 1e-15;
  return 0;
}

std::string leaf(const std::string& path) {
  const auto p = path.rfind('.');
  return p == std::string::npos ? path : path.substr(p + 1);
}

}  // namespace

VcdInfo read_vcd_info(const std::string& vcd_path) {
  std::ifstream in(vcd_path, std::ios::binary);
  if (!in) throw IoError("cannot read VCD trace " + vcd_path + ": " + std::strerror(errno));
  VcdInfo info;
  std::vector<std::string> scope;
  std::string tok;
  bool defs_done = false;
  // Declarations: whitespace-separated tokens up to $enddefinitions.
  while (in >> tok) {
    if (tok == "$timescale") {
      std::string t, all;
      while (in >> t && t != "$end") all += t;
      size_t i = 0;
      while (i < all.size() && std::isdigit(static_cast<unsigned char>(all[i]))) ++i;
      const double n = i ? std::stod(all.substr(0, i)) : 1.0;
      info.timescale = (i ? all.substr(0, i) : "1") + " " + all.substr(i);
      info.timescale_s = n * unit_seconds(all.substr(i));
    } else if (tok == "$scope") {
      std::string kind, name, end;
      in >> kind >> name >> end;
      scope.push_back(name);
    } else if (tok == "$upscope") {
      std::string end;
      in >> end;
      if (!scope.empty()) scope.pop_back();
    } else if (tok == "$var") {
      std::string type, id, name, t;
      int width = 0;
      in >> type >> width >> id >> name;
      while (in >> t && t != "$end") {
      }
      std::string p;
      for (const auto& s : scope) p += s + ".";
      info.vars.push_back({p + name, width});
    } else if (tok == "$enddefinitions") {
      defs_done = true;
      break;
    } else if (tok[0] == '$') {
      std::string t;
      while (tok != "$end" && in >> t && t != "$end") {
      }
    }
  }
  if (!defs_done || info.timescale_s <= 0)
    throw IoError("VCD trace " + vcd_path + " has no $enddefinitions or no valid $timescale");
  // The last time stamp: scan the tail of the file (time stamps are lines "#<n>").
  in.clear();
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff back = std::min<std::streamoff>(size, 1 << 16);
  in.seekg(size - back);
  std::string tail(static_cast<size_t>(back), '\0');
  in.read(tail.data(), back);
  std::istringstream ts(tail);
  std::string line;
  while (std::getline(ts, line))
    if (line.size() > 1 && line[0] == '#' && std::isdigit(static_cast<unsigned char>(line[1])))
      info.end_time = std::max<uint64_t>(info.end_time, std::stoull(line.substr(1)));
  return info;
}

std::string gtkw_filter_text(const GtkwEnum& e) {
  std::ostringstream o;
  o << "# GTKWave translate filter: " << e.signal << " by name (decimal value -> name). Written by cimsim.\n";
  for (const auto& [v, n] : e.names) o << v << " " << n << "\n";
  return o.str();
}

double gtkw_zoom_for(double span, double pixels) {
  // GTKWave: time per pixel = zoombase^-zoom / pixelsperframe, with zoombase 2 and 200 pixels per frame.
  if (span <= 0 || pixels <= 0) return 0;
  return -std::log2(200.0 * span / pixels);
}

std::string write_gtkw_view(const std::string& vcd_path, const GtkwViewOptions& opt) {
  const VcdInfo info = read_vcd_info(vcd_path);
  const fs::path vcd = fs::absolute(vcd_path).lexically_normal();
  fs::path view = vcd;
  view.replace_extension(".gtkw");
  // Filters beside the view.
  std::vector<std::pair<std::string, std::string>> filter_of;  // leaf -> absolute filter path
  for (const auto& e : opt.enums) {
    const fs::path f = vcd.parent_path() / e.filter_name;
    atomic_write(f.string(), gtkw_filter_text(e));
    filter_of.emplace_back(e.signal, f.string());
  }
  // Signal order: the requested leaves first, then the rest as declared.
  std::vector<VcdVar> vars;
  for (const auto& l : opt.order)
    for (const auto& v : info.vars)
      if (leaf(v.path) == l) vars.push_back(v);
  for (const auto& v : info.vars)
    if (std::find(opt.order.begin(), opt.order.end(), leaf(v.path)) == opt.order.end()) vars.push_back(v);

  // Wave area: the window less the (collapsed) tree pane, the signal list and borders, measured on GTKWave
  // 3.3.118 under Xvfb; the run is given 3 % headroom so that its end is visible.
  const int signals_px = 240;
  const double wave_px = std::max(100, opt.width_px - signals_px - 230);
  const double span = std::max<double>(1, 1.03 * static_cast<double>(info.end_time));
  std::ostringstream g;
  g << "[*] GTKWave view written by cimsim for " << vcd.filename().string() << ": the whole run, "
    << info.end_time << " x " << info.timescale << "\n";
  if (!opt.comment.empty()) g << "[*] " << opt.comment << "\n";
  g << "[dumpfile] \"" << vcd.string() << "\"\n"
    << "[timestart] 0\n"
    << "[size] " << opt.width_px << " " << opt.height_px << "\n"
    << "[pos] -1 -1\n";
  char z[64];
  std::snprintf(z, sizeof z, "%.6f", gtkw_zoom_for(span, wave_px));
  g << "*" << z << " -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1\n";
  std::set<std::string> opened;
  for (const auto& v : vars) {
    std::string p;
    size_t pos = 0;
    while ((pos = v.path.find('.', pos)) != std::string::npos) {
      p = v.path.substr(0, pos + 1);
      if (opened.insert(p).second) g << "[treeopen] " << p << "\n";
      ++pos;
    }
  }
  g << "[sst_width] 200\n[signals_width] " << signals_px << "\n[sst_expanded] 0\n[sst_vpaned_height] 200\n";
  int filter_index = 0;
  for (const auto& v : vars) {
    const std::string l = leaf(v.path);
    const std::string ref = v.width > 1 ? v.path + "[" + std::to_string(v.width - 1) + ":0]" : v.path;
    const auto f = std::find_if(filter_of.begin(), filter_of.end(), [&](const auto& p) { return p.first == l; });
    if (f != filter_of.end()) {
      // TR_FTRANSLATED | TR_RJUSTIFY | TR_DEC: the decimal value looked up in the filter file.
      g << "@2024\n^" << ++filter_index << " " << f->second << "\n" << ref << "\n";
    } else if (v.width == 1) {
      g << "@28\n" << ref << "\n";
    } else if (std::find(opt.signed_leaves.begin(), opt.signed_leaves.end(), l) != opt.signed_leaves.end()) {
      g << "@424\n" << ref << "\n";  // TR_SIGNED | TR_RJUSTIFY | TR_DEC
    } else {
      g << "@24\n" << ref << "\n";  // TR_RJUSTIFY | TR_DEC
    }
  }
  g << "[pattern_trace] 1\n[pattern_trace] 0\n";
  atomic_write(view.string(), g.str());
  return view.string();
}

}  // namespace cimsim
