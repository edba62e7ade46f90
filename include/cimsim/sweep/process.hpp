#pragma once
// POSIX process helpers for the sweep runners: spawn with redirected output, wait, capture output.
#include <string>
#include <sys/types.h>
#include <vector>

namespace cimsim::sweep {

/// Starts argv[0] (a path) with argv; stdout/stderr go to the given files ("" = /dev/null, same path = one
/// file). With `die_with_parent` the child gets SIGKILL when this process dies (kill -9 of a sweep stops its
/// points). Throws IoError if the program cannot be started.
pid_t spawn(const std::vector<std::string>& argv, const std::string& out_path, const std::string& err_path,
            bool die_with_parent);
/// Waits for `pid`; returns its exit status, or 128 + signal number if a signal ended it.
int wait_exit(pid_t pid);
/// Waits for any child; sets `pid` and returns the status as wait_exit does. Returns -1 if there is none.
int wait_any(pid_t& pid);
/// Runs argv to completion; returns the exit status (127 if it cannot be started) and its stdout+stderr.
int run_capture(const std::vector<std::string>& argv, std::string& output);
/// Absolute path of a program found on PATH ("" if none).
std::string find_program(const std::string& name);
/// Absolute path of the running executable.
std::string self_exe();

/// An exclusive advisory lock on a file (flock), released when the object or the process dies.
class FileLock {
 public:
  explicit FileLock(const std::string& path);  ///< creates the file; does not lock yet
  ~FileLock();
  bool try_lock();  ///< false if another process holds it
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace cimsim::sweep
