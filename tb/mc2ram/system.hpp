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

/// Largest job the testbench holds in memory: chains x samples x D state words (2^28 words: 1 GiB of DMA
/// memory plus 2 GiB of draws as doubles). Larger requests are refused before anything is allocated.
inline constexpr uint64_t kMaxSampleWords = uint64_t{1} << 28;
/// Throws ConfigError naming --samples/--chains if the job's output does not fit kMaxSampleWords (or the
/// sample count does not fit an int, the draws' index type).
void check_job_size(const SampleJob& job);

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
