#pragma once
// Sweep specs (docs/sweeps.md): a YAML file naming a base cimsim subcommand, fixed options, blocks of swept
// option values (grid = cartesian product, list = explicit points), point naming, per-point Slurm resources,
// the report figures that go into the merged table (JSON pointers into each point's report) and the plots.
// Plain C++ (no SystemC, no CLI11): the CLI (tb/cli/cmd_sweep.cpp) checks every point's argv against the real
// subcommand parser.
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace cimsim::sweep {

/// One option value as written in the spec. kind Flag: `true` (bare --opt), Off: `false` (omitted),
/// Bare: `~`/null (bare --opt, for options with an optional value), Text: --opt <text>.
struct Value {
  enum Kind { Text, Flag, Off, Bare } kind = Text;
  std::string text;  ///< the scalar exactly as written (Text), "true"/"false"/"" otherwise
};
using Options = std::vector<std::pair<std::string, Value>>;  // option name without dashes -> value, in order

struct Point {
  std::size_t index = 0;
  std::string name;   ///< folder name under <out>/points (unique, [A-Za-z0-9._-])
  std::string block;  ///< label of the block it came from
  std::vector<std::pair<std::string, std::string>> params;  ///< swept/block values, by column
  std::vector<std::string> args;  ///< argv after the program name: subcommand, options ("{dir}" unexpanded)
  std::string fingerprint;        ///< SHA-1 of args (identifies the point's computation)
  /// args with "{dir}" replaced by the point's folder.
  std::vector<std::string> expanded_args(const std::string& dir) const;
};

struct Resources {  // per array task
  int cpus = 1;
  std::string mem = "1G";        ///< sbatch --mem (per node = per task here)
  std::string time = "00:30:00"; ///< sbatch --time
  std::string partition, account, qos;
  int max_parallel = 0;          ///< the %M of --array=...%M; 0 = no limit
  std::vector<std::string> extra;  ///< further sbatch options, verbatim (e.g. --constraint=avx2)
};

struct Metric {
  std::string name;     ///< CSV column
  std::string pointer;  ///< RFC 6901 JSON pointer into the report
  std::string reduce;   ///< "" or min|max|mean|sum|count for array values
};

struct Plot {
  std::string file;   ///< PNG name under <out>/plots
  std::string x, y;   ///< columns (parameters or metrics)
  std::string kind = "scatter";  ///< scatter | line | pareto
  std::string group;  ///< optional column: one series per value
  std::string title;
  bool logx = false, logy = false;
  bool x_min = true, y_min = false;  ///< pareto: better = smaller x / smaller y
};

struct Spec {
  std::string path;     ///< the spec file
  std::string name;
  std::string command;  ///< cimsim subcommand
  std::string out;      ///< output root (relative to the working directory unless absolute)
  std::string report = "report.json";  ///< report file inside a point folder
  std::vector<std::string> drop;       ///< files deleted from a point folder after its run (large outputs)
  Options options;      ///< fixed options of every point
  std::vector<std::string> param_columns;
  std::vector<Point> points;
  Resources resources;
  std::vector<Metric> metrics;
  std::vector<Plot> plots;
};

/// Subcommands a spec may name.
const std::vector<std::string>& known_commands();

/// Parses and validates a spec; errors are ConfigError "FILE:LINE: KEY: what" (IoError if unreadable).
Spec load_spec(const std::string& path);
/// Same from text (`path` only names the source in errors).
Spec parse_spec(const std::string& text, const std::string& path);

/// Lower-case hex SHA-1 (Boost.UUID's implementation).
std::string sha1_hex(const std::string& bytes);

}  // namespace cimsim::sweep
