// `cimsim sweep SPEC`: design-space sweeps (docs/sweeps.md). Runs the points of a YAML spec locally in
// parallel processes (--jobs N) or as a Slurm job array (--slurm), resumable, and merges every point's report
// into one table. The logic lives in sw/sweep; this file is the command line, plus the check of every point's
// argv against the real subcommand parsers of this binary (the registry) before anything runs.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/command_registry.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/sweep/backends.hpp"
#include "cimsim/sweep/process.hpp"
#include "cimsim/sweep/results.hpp"

namespace {

namespace fs = std::filesystem;
using namespace cimsim;
using namespace cimsim::sweep;

struct Options {
  std::string spec, out;
  int jobs = 0;
  long point = -1;
  bool slurm = false, dry_run = false, status = false, collect = false;
};

// Parses every point's argv with a fresh copy of the CLI (all registered subcommands; nothing runs). Returns
// false if the spec's subcommand is not built into this binary.
bool check_points(const Spec& s, std::ostream& os) {
  CLI::App probe{"probe"};
  probe.require_subcommand(1);
  bool found = false;
  // The runners own the option values the probe's options write into: keep them alive while parsing
  // (discarding them was a heap-use-after-free, found by the sanitizer suite).
  std::vector<cli::Runner> owners;
  for (auto& e : cli::registry())
    if (e.name != "sweep") {
      owners.push_back(e.setup(probe));
      found = found || e.name == s.command;
    }
  for (auto* sub : probe.get_subcommands([](CLI::App*) { return true; })) sub->allow_extras();
  if (!found) return false;
  std::string errors;
  size_t bad = 0;
  for (const auto& p : s.points) {
    std::vector<std::string> args = p.expanded_args(point_dir(s.out, p));
    std::reverse(args.begin(), args.end());  // CLI11 consumes from the back
    std::string why;
    try {
      probe.clear();
      probe.parse(args);
      std::vector<std::string> extra = probe.remaining(true);
      for (const auto& a : extra)
        if (a.rfind("--", 0) == 0) {
          why = "`cimsim " + s.command + "` has no option " + a;
          break;
        }
      if (why.empty() && !extra.empty()) why = "unexpected argument '" + extra.front() + "'";
    } catch (const CLI::ParseError& e) {
      why = e.what();
    }
    if (!why.empty() && ++bad <= 20) errors += "  point " + std::to_string(p.index) + " (" + p.name + "): " + why + "\n";
  }
  if (bad) {
    if (bad > 20) errors += "  ... and " + std::to_string(bad - 20) + " more\n";
    throw ConfigError(s.path + ": " + std::to_string(bad) + " of " + std::to_string(s.points.size()) +
                      " points are rejected by `cimsim " + s.command + "` (nothing was run):\n" + errors);
  }
  os << "sweep " << s.name << ": all " << s.points.size() << " points pass `cimsim " << s.command
     << "`'s option checks\n";
  return true;
}

int do_sweep(const Options& o) {
  // Point logs and recorded errors without the SystemC banner (children inherit it; a user's value wins).
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  Spec s = load_spec(o.spec);
  if (!o.out.empty()) s.out = o.out;
  Context c;
  c.exe = self_exe();
  c.spec = fs::absolute(o.spec).lexically_normal().string();
  c.out = fs::absolute(s.out).lexically_normal().string();
  c.workdir = fs::current_path().string();
  s.out = c.out;

  if (o.point >= 0) {  // the per-point runner (local child process or Slurm array task)
    if (static_cast<size_t>(o.point) >= s.points.size())
      throw ConfigError(o.spec + ": --point " + std::to_string(o.point) + " is out of range (the spec has " +
                        std::to_string(s.points.size()) + " points)");
    return run_point(s, c.out, s.points[static_cast<size_t>(o.point)], c.exe);
  }
  if (o.status) return print_status(s, c, std::cout);
  if (o.collect) {
    const Collected col = collect(s, c.out);
    std::cout << "sweep " << s.name << ": collected " << col.done << "/" << s.points.size() << " done, " << col.failed
              << " failed, " << col.running << " running, " << col.pending << " pending -> " << c.out
              << "/merged.csv, summary.json" << (s.plots.empty() ? "" : ", plots/") << "\n";
    return col.done == s.points.size() ? 0 : 1;
  }
  const bool checked = check_points(s, std::cout);
  if (!checked) {
    if (!o.dry_run)
      throw ConfigError(o.spec + ": command: `cimsim " + s.command +
                        "` is not built into this binary (the ENOS search needs -DCIMSIM_WITH_TORCH=ON)");
    std::cout << "sweep " << s.name << ": warning: `cimsim " << s.command
              << "` is not built into this binary; point options not checked\n";
  }
  if (o.slurm) {
    try {
      return submit_slurm(s, c, o.dry_run, std::cout);
    } catch (const SlurmError& e) {
      std::cerr << "cimsim sweep: " << e.what() << "\n";
      return e.code;
    }
  }
  if (o.dry_run) {
    const auto todo = todo_points(s, c.out);
    std::cout << "sweep " << s.name << ": " << s.points.size() << " points, " << todo.size()
              << " to run (--dry-run: nothing run)\n";
    for (const auto& p : s.points) {
      std::cout << "  " << p.index << " " << p.name << ":";
      for (const auto& a : p.expanded_args(point_dir(c.out, p))) std::cout << " " << a;
      std::cout << "\n";
    }
    return 0;
  }
  const int jobs = o.jobs > 0 ? o.jobs : static_cast<int>(std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN)));
  return run_local(s, c, jobs, std::cerr, ::isatty(2));
}

cimsim::cli::Registrar reg("sweep", [](CLI::App& app) -> cimsim::cli::Runner {
  auto* sub = app.add_subcommand("sweep",
                                 "Design-space sweep from a YAML spec: local parallel processes or a Slurm job array; "
                                 "resumable; merged CSV/JSON/plots (docs/sweeps.md)");
  auto o = std::make_shared<Options>();
  sub->add_option("spec", o->spec, "sweep spec (YAML), e.g. data/sweeps/accel-dse.yaml")->required();
  sub->add_option("--out-dir,--out", o->out,
                  "output root (default: the spec's out:, else sweeps/<name>; relative to the working directory; "
                  "--out is the older name)");
  sub->add_option("--jobs,-j", o->jobs, "local: points run in parallel (0: number of CPUs)")
      ->check(CLI::Range(1, 4096));
  auto* slurm = sub->add_flag("--slurm", o->slurm, "write an sbatch job-array script and submit it");
  sub->add_flag("--dry-run", o->dry_run, "validate and list the points (with --slurm: write the script only)");
  auto* st = sub->add_flag("--status", o->status, "print the state of every point (and of the Slurm job)");
  auto* co = sub->add_flag("--collect", o->collect, "merge the finished points: merged.csv, summary.json, plots");
  auto* pt = sub->add_option("--point", o->point, "run one point (the per-point runner; used by both backends)")
                 ->check(CLI::NonNegativeNumber);
  st->excludes(slurm, co, pt);
  co->excludes(slurm, pt);
  pt->excludes(slurm);
  return [sub, o] { return sub->parsed() ? do_sweep(*o) : -1; };
});

}  // namespace
