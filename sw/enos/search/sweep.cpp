// ENOS Pareto sweeps: uni-operator baselines, ENOS and mixed-precision runs per lambda, CSV and gnuplot front.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cimsim/core/io.hpp"
#include "cimsim/enos/search/search.hpp"

namespace cimsim::enos::search {

namespace fs = std::filesystem;

bool write_pareto(const std::vector<SweepPoint>& pts, const std::string& csv_path, const std::string& png_path,
                  const std::string& title) {
  std::ostringstream csv;
  csv << "label,kind,lambda,energy_pj,accuracy,seconds\n";
  for (const auto& p : pts)
    csv << p.label << ',' << p.kind << ',' << p.lambda << ',' << p.energy_pj << ',' << p.acc << ',' << p.sec << '\n';
  atomic_write(csv_path, csv.str());
  if (png_path.empty()) return true;
  const fs::path dir = fs::temp_directory_path() / ("cimsim-pareto-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto dat = [&](const std::string& kind) {
    const std::string f = (dir / (kind + ".dat")).string();
    std::ofstream o(f);
    std::vector<SweepPoint> v;
    for (const auto& p : pts)
      if (p.kind == kind) v.push_back(p);
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.energy_pj < b.energy_pj; });
    for (const auto& p : v) o << p.energy_pj << ' ' << 100.0 * p.acc << " \"" << p.label << "\"\n";
    if (v.empty()) o << "nan nan \"\"\n";
    return f;
  };
  const std::string uni = dat("uni"), mp = dat("mixed-precision"), enos = dat("enos");
  const std::string tmp_png = png_path + ".tmp.png";
  const std::string script = (dir / "plot.gp").string();
  {
    std::ofstream g(script);
    g << "set terminal pngcairo size 900,600\nset output '" << tmp_png << "'\n"
      << "set title '" << title << "' noenhanced\nset xlabel 'energy per image (pJ)'\n"
      << "set ylabel 'test accuracy (%), integer inference'\nset grid\nset key bottom right\n"
      << "plot '" << uni << "' using 1:2 with points pt 7 ps 1.2 title 'uni-operator', \\\n"
      << "     '" << uni << "' using 1:2:3 with labels offset 0,0.8 font ',8' notitle, \\\n"
      << "     '" << mp << "' using 1:2 with linespoints pt 5 title 'mixed-precision (mac8/mac4)', \\\n"
      << "     '" << enos << "' using 1:2 with linespoints pt 9 ps 1.4 lw 2 title 'ENOS'\n";
  }
  const std::string cmd = "gnuplot '" + script + "' 2>" + (dir / "err.txt").string();
  const int rc = std::system(cmd.c_str());
  bool ok = rc == 0 && fs::exists(tmp_png);
  if (ok) {
    std::error_code ec;
    fs::rename(tmp_png, png_path, ec);
    ok = !ec;
  } else {
    std::cerr << "cimsim: gnuplot failed (rc " << rc << "); the CSV is at " << csv_path << "\n";
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return ok;
}

std::vector<SweepPoint> run_sweep(const SweepConfig& sc, const ProgressFn& progress) {
  std::vector<SweepPoint> pts;
  auto run = [&](SearchConfig c, const std::string& label, const std::string& kind) {
    if (!sc.out_dir.empty()) c.out_dir = sc.out_dir + "/runs/" + label;
    c.tag = label;
    std::cerr << "cimsim: run " << label << "\n";
    const SearchResult r = run_search(c, progress);
    SweepPoint p;
    p.label = label;
    p.kind = kind;
    p.lambda = c.lambda;
    p.energy_pj = r.energy_pj;
    p.acc = r.test_acc_int;
    p.sec = r.total_sec;
    p.report = r.report();
    pts.push_back(p);
    if (!sc.out_dir.empty()) {
      nlohmann::json all = nlohmann::json::array();
      for (const auto& q : pts)
        all.push_back({{"label", q.label}, {"kind", q.kind}, {"lambda", q.lambda}, {"energy_pj", q.energy_pj},
                       {"accuracy", q.acc}, {"seconds", q.sec}});
      atomic_write_json(sc.out_dir + "/sweep.json", all);
    }
  };
  if (sc.baselines)
    for (const auto& cand : all_candidates()) {
      SearchConfig c = sc.base;
      c.mode = "fixed";
      c.candidates = {cand};
      c.lambda = 0;
      c.budget_pj = 0;
      run(c, "uni-" + candidate_name(cand), "uni");
    }
  for (double lam : sc.lambdas) {
    SearchConfig c = sc.base;
    c.lambda = lam;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s-lambda%g", c.mode.c_str(), lam);
    run(c, buf, "enos");
    if (sc.mixed_precision) {
      c.candidates = {parse_candidate("mac8"), parse_candidate("mac4")};
      std::snprintf(buf, sizeof buf, "mp-%s-lambda%g", c.mode.c_str(), lam);
      run(c, buf, "mixed-precision");
    }
  }
  if (!sc.out_dir.empty())
    write_pareto(pts, sc.out_dir + "/pareto.csv", sc.out_dir + "/pareto.png",
                 "ENOS " + (sc.base.onnx_path.empty() ? sc.base.net : sc.base.onnx_path) + " (" + sc.base.mode + "), " + sc.base.dataset +
                     (sc.base.arch_path.empty() ? std::string() : ", arch " + sc.base.arch_path));
  return pts;
}

}  // namespace cimsim::enos::search
