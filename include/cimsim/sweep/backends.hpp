#pragma once
// The two ways to execute a sweep (docs/sweeps.md). Both start the same per-point runner,
// `cimsim sweep SPEC --out OUT --point I` (run_point), one process per point: the local backend as child
// processes, the Slurm backend as the tasks of one job array.
#include <cstddef>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cimsim/sweep/spec.hpp"

namespace cimsim::sweep {

struct Context {
  std::string exe;   ///< absolute path of the cimsim binary
  std::string spec;  ///< absolute path of the spec
  std::string out;   ///< absolute output root
  std::string workdir;  ///< absolute working directory of every point (relative paths in options)
};

/// argv of the per-point runner for point `index`.
std::vector<std::string> runner_argv(const Context& c, std::size_t index);

/// Indices of the points that are neither done nor being run now.
std::vector<std::size_t> todo_points(const Spec& s, const std::string& out);

/// Runs the pending points, `jobs` at a time, with a progress line on `progress` (redrawn in place when
/// `tty`), then collects. Returns 0 if every point is done, 1 otherwise.
int run_local(const Spec& s, const Context& c, int jobs, std::ostream& progress, bool tty);

/// "0-3,5,7-9" for sorted indices.
std::string array_ranges(const std::vector<std::size_t>& idx);
/// The sbatch job-array script running `todo` (one point per array task).
std::string sbatch_script(const Spec& s, const Context& c, const std::vector<std::size_t>& todo);

/// Writes <out>/slurm/<name>.sbatch and, unless `dry_run`, submits it with sbatch. Throws SlurmError if
/// sbatch is missing (code 2) or the submission fails (code 3). Returns the exit code.
int submit_slurm(const Spec& s, const Context& c, bool dry_run, std::ostream& os);
/// Prints point states (and, when squeue is available, the queue state of the last submitted job).
int print_status(const Spec& s, const Context& c, std::ostream& os);

struct SlurmError : std::runtime_error {
  int code;
  SlurmError(const std::string& what, int c) : std::runtime_error(what), code(c) {}
};

}  // namespace cimsim::sweep
