#pragma once
// Opt-in VCD tracing. A VcdTrace is created only when tracing is asked for; models take a
// `sc_core::sc_trace_file*` that is null when tracing is off (no cost).
//
// Output integrity: SystemC writes the trace through a stdio FILE it never checks, so a full disk used to
// leave a truncated trace that was then renamed into place (exit 0). Here SystemC writes into a FIFO; a
// thread copies the bytes into a temporary file next to the final one, checking every write. close() fsyncs,
// checks, and only then renames the temporary onto <path>.vcd (refusing to replace anything that is not a
// regular file); on any failure it removes the temporary and throws IoError naming the trace. A directory
// that cannot be written is an IoError at construction, before the simulation starts.
#include <atomic>
#include <string>
#include <thread>

#include <systemc>

namespace cimsim {

class VcdTrace {
 public:
  /// `path` without the .vcd extension, relative to the working directory (a bare name goes under
  /// $CIMSIM_TRACES when that is set). The file is created 0644 (less the umask). Throws IoError if the trace
  /// cannot be created there.
  explicit VcdTrace(const std::string& path, sc_core::sc_time_unit unit = sc_core::SC_PS);
  /// Abandons a trace that was not closed: the temporary is removed, nothing is published.
  ~VcdTrace();
  VcdTrace(const VcdTrace&) = delete;
  VcdTrace& operator=(const VcdTrace&) = delete;
  sc_core::sc_trace_file* file() const { return tf_; }
  /// Closes the trace and renames it into place; returns the final path. Throws IoError (naming the path) if
  /// any byte could not be written. Idempotent.
  std::string close();
  const std::string& final_path() const { return final_; }

 private:
  void pump();     ///< reader thread: FIFO -> temporary file
  void discard();  ///< stops everything and removes the temporary files
  sc_core::sc_trace_file* tf_ = nullptr;
  std::string fifo_stem_, fifo_path_, tmp_path_, final_;
  int fifo_rd_ = -1, fifo_keep_ = -1, out_fd_ = -1;
  std::thread reader_;
  std::atomic<int> write_errno_{0};
  bool closed_ = false;
};

/// Prints "<n> simulated cycles in <s> s wall = <rate> cycles/s" (SCC-style end-of-simulation report).
std::string cycles_per_second_report(uint64_t cycles, double wall_seconds);

}  // namespace cimsim
