#pragma once
// MC2RAM testbench system: host CPU (HostInitiator) + router + system memory + the macro (LT or cycle level),
// IRQ wired, optional VCD. One instance per process (SystemC allows one elaboration per process).
#include <cstdint>
#include <string>

#include "cimsim/mc2ram/driver.hpp"
#include "cimsim/mc2ram/macro.hpp"

namespace cimsim::mc2ram {

inline constexpr uint64_t kMacroBase = 0x40000000ull;
inline constexpr uint64_t kMemBase = 0x80000000ull;

struct SystemRun {
  SampleResult result;
  double wall_s = 0;         ///< wall time of sc_start (programming + sampling + collection)
  std::string vcd_file;      ///< final trace path, empty when tracing was off
  std::string error;         ///< what the host program threw, if anything
};

/// Elaborates the system, runs `job` on the macro at `level` (vcd_path empty: tracing off), returns.
/// Call once per process.
SystemRun run_system(const SampleJob& job, Level level, const std::string& vcd_path = "");

}  // namespace cimsim::mc2ram
