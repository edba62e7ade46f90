#pragma once
// Conventions shared by every cimsim subcommand (docs/cli.md): usage errors exit 2 with a "did you mean"
// hint, defaults shown in every --help, one output convention (--out-dir DIR; the older per-file flags stay as
// aliases), outputs relative to the working directory, and refusal of option combinations that mean nothing.
#include <ostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace cimsim::cli {

/// Exit code of every usage or configuration error (docs/cli.md, "Exit codes").
constexpr int kUsageError = 2;

/// Edit distance: insertions, deletions, substitutions and swaps of neighbours (case-sensitive).
size_t edit_distance(const std::string& a, const std::string& b);
/// The candidate closest to `word` when it is close enough to be a plausible misspelling (distance at most a
/// third of the word's length, at least 1, at most 3), else "".
std::string closest_match(const std::string& word, const std::vector<std::string>& candidates);

/// Every long and short option name of `app` (with dashes: "--topology", "-j").
std::vector<std::string> option_names(const CLI::App& app);

/// Handles a CLI11 parse error: --help and --version print and return 0; every other error prints
/// "cimsim[ SUB]: error: ..." with a "did you mean ...?" line for a misspelt option or subcommand, and returns
/// kUsageError (CLI11's own codes 104-109 are never returned).
/// `args`: the command line without the program name (used to find a misspelt subcommand).
int handle_parse_error(CLI::App& app, const CLI::ParseError& e, const std::vector<std::string>& args,
                       std::ostream& out, std::ostream& err);

/// Applies the conventions to a freshly created application before any subcommand is added: every option
/// shows its default in --help.
void apply_conventions(CLI::App& app);

/// Where an output goes: the explicit path if one was given, else `out_dir/name` when an output directory was
/// given, else "" (not written).
std::string output_path(const std::string& explicit_path, const std::string& out_dir, const std::string& name);

/// Creates the output directory (and its parents) before any work starts; IoError naming it if impossible.
/// Nothing for "".
void make_out_dir(const std::string& dir, const std::string& cmd);

/// The path stem of a VCD trace asked for with a bare `--vcd` (no value): `out_dir/stem` with --out-dir, else
/// `$CIMSIM_TRACES/stem` when that is set, else `traces/stem` relative to the working directory.
std::string default_trace_stem(const std::string& out_dir, const std::string& stem);

/// Throws ConfigError("<cmd>: <option> ... needs <other>") when `given` is set and `needed` is not.
void require_with(bool given, const std::string& option, bool needed, const std::string& needs,
                  const std::string& cmd);

/// Throws ConfigError naming the first of `options` that was given on `sub`'s command line when `allowed` is
/// false: "<cmd>: <option> <why>".
void refuse_options(const CLI::App& sub, const std::vector<std::string>& options, bool allowed,
                    const std::string& why, const std::string& cmd);

/// `run`'s meaningless combinations: the per-layer operator options (--op, --mode, --adc-bits, --cim-rows,
/// --assignment) without a --topology workload (`topology_flag` empty); --vcd-detail without --vcd; --vcd at
/// a level without signals (LT).
void check_run_options(const CLI::App& sub, const std::string& topology_flag, const std::string& level,
                       bool vcd_on);

}  // namespace cimsim::cli
