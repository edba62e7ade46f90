#pragma once
// Opt-in VCD tracing. A VcdTrace is created only when tracing is asked for; models take a
// `sc_core::sc_trace_file*` that is null when tracing is off (no cost). The file is written under a
// temporary name and renamed to <path>.vcd when the trace is closed, so an interrupted run never leaves a
// truncated trace under the final name.
#include <string>

#include <systemc>

namespace cimsim {

class VcdTrace {
 public:
  /// `path` without the .vcd extension; relative paths are taken under traces_dir().
  explicit VcdTrace(const std::string& path, sc_core::sc_time_unit unit = sc_core::SC_PS);
  ~VcdTrace();
  VcdTrace(const VcdTrace&) = delete;
  VcdTrace& operator=(const VcdTrace&) = delete;
  sc_core::sc_trace_file* file() const { return tf_; }
  /// Closes the trace and renames it into place; returns the final path. Idempotent.
  std::string close();
  const std::string& final_path() const { return final_; }

 private:
  sc_core::sc_trace_file* tf_ = nullptr;
  std::string tmp_stem_, final_;
};

/// Prints "<n> simulated cycles in <s> s wall = <rate> cycles/s" (SCC-style end-of-simulation report).
std::string cycles_per_second_report(uint64_t cycles, double wall_seconds);

}  // namespace cimsim
