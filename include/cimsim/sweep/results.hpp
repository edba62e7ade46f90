#pragma once
// Per-point state and the merged results of a sweep (docs/sweeps.md).
//
// Each point owns <out>/points/<name>/: the subcommand's outputs (its report), stdout.log, stderr.log and
// point.json, written atomically last: {"fingerprint", "args", "status": running|done|failed, "exit_code",
// "error", "report_sha1", ...}. A point counts as done only if point.json says done, its fingerprint is the
// point's (SHA-1 of its argv) and the report's SHA-1 is the one recorded: a foreign, edited or corrupt report
// makes the point pending again, and it is rerun rather than merged.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cimsim/sweep/spec.hpp"

namespace cimsim::sweep {

enum class State { Pending, Running, Done, Failed };
const char* state_name(State s);

struct PointStatus {
  State state = State::Pending;
  std::string error;      ///< failed: what went wrong; pending: why an earlier result was not accepted
  int exit_code = -1;
  double wall_s = 0;
  nlohmann::json report;  ///< done: the parsed report
};

std::string points_root(const std::string& out);
std::string point_dir(const std::string& out, const Point& p);

/// The point's state as recorded on disk (reads the report of a done point and checks its checksum).
PointStatus read_status(const Spec& s, const std::string& out, const Point& p);

/// The per-point runner (local processes and Slurm array tasks alike): unless the point is done, runs
/// `exe <point args>` in the working directory with logs in the point folder and records the outcome.
/// Returns 0 if the point is done, 1 if it failed, 75 if another runner holds the point.
int run_point(const Spec& s, const std::string& out, const Point& p, const std::string& exe);

/// A report figure as it appears in the merged CSV ("" if absent).
std::string metric_cell(const nlohmann::json& report, const Metric& m);
/// The merged table: header index,point,block,<params>,status,<metrics>; one row per point in spec order;
/// no timestamps (same results, same bytes).
std::string merged_csv(const Spec& s, const std::vector<PointStatus>& st);

/// Indices of the non-dominated points (better = smaller x if x_min, else larger; likewise y), sorted by x.
std::vector<size_t> pareto_front(const std::vector<std::pair<double, double>>& xy, bool x_min, bool y_min);

struct Collected {
  size_t done = 0, failed = 0, running = 0, pending = 0;
  std::vector<std::string> written;  ///< files written
};
/// Reads every point, writes <out>/merged.csv, <out>/summary.json and <out>/plots/*.png (plots need gnuplot;
/// a plot that cannot be drawn is reported on stderr, not fatal).
Collected collect(const Spec& s, const std::string& out);

}  // namespace cimsim::sweep
