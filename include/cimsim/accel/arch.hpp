#pragma once
// Architecture files: the accelerator's hardware parameters as YAML (data/arch/*.yaml), loaded and validated
// into an ArrayConfig. Format, every key and its limits: docs/accelerator.md ("Architecture files"). Errors name
// the file and the key (ConfigError); unknown keys are refused.
//
//   name: default                 # free text, reported (optional; default: the file's stem)
//   tech: ../tech/45nm.json       # energy table, relative to this file (optional; default table otherwise)
//   clock_hz: 1.0e9               # optional; default: the energy table's clock_hz
//   array:    {rows: 16, cols: 16}
//   cim:      {rows: 64, cols: 16, adc_cycles_per_bit: 1}
//   buffers:  {weight_bytes: 65536, act_bytes: 131072}
//   dma:      {bytes_per_cycle: 16}
//   vector:   {lanes: 16}
//   double_buffering: false
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/accel/cost_model.hpp"

namespace cimsim::accel {

struct Architecture {
  std::string name;       ///< the file's `name` (or its stem)
  std::string origin;     ///< the path it was loaded from ("" for built-in defaults)
  std::string tech_path;  ///< resolved path of the energy table ("" = the default table)
  ArrayConfig array;      ///< every hardware parameter (clock_hz 0 unless the file sets it)
  uint64_t memory_bytes = 0;  ///< system memory (`memory.bytes`); 0: sized from the workload
  std::vector<std::string> warnings;  ///< one line each (SCALE-Sim .cfg files: what was ignored or assumed)
};

/// Documented limits of an architecture file's keys (inclusive).
struct ArchLimits {
  static constexpr int kMaxArrayDim = 256;                   ///< array.rows, array.cols
  static constexpr int kMaxCimDim = 4096;                    ///< cim.rows, cim.cols
  static constexpr int kMaxAdcCyclesPerBit = 64;             ///< cim.adc_cycles_per_bit
  static constexpr int64_t kMaxBufferBytes = int64_t{1} << 30;  ///< buffers.* (1 GiB)
  static constexpr int kMaxDmaBytesPerCycle = 4096;          ///< dma.bytes_per_cycle
  static constexpr int kMaxVectorLanes = 4096;               ///< vector.lanes
  static constexpr double kMinClockHz = 1e6;                 ///< clock_hz: 1 MHz ...
  static constexpr double kMaxClockHz = 1e11;                ///< ... 100 GHz
  static constexpr int64_t kMinActStagingBytes = 4096;       ///< per activation stage (input and output)
};

/// The smallest weight buffer that holds one tile: one row tile of one output-channel block as 8-bit weights
/// for the digital array (rows x cols) and for the CIM macro (cim_rows x cim_cols), whichever is larger, plus
/// that block's requantization parameters (kRequantBytesPerChannel per channel, max(cols, cim_cols) channels).
int64_t min_weight_buffer_bytes(const ArrayConfig& a);
/// The smallest activation buffer: an input stage and an output stage of kMinActStagingBytes each.
int64_t min_act_buffer_bytes(const ArrayConfig& a);

/// Loads and validates an architecture file (a `.cfg` file is read as a SCALE-Sim configuration:
/// load_scalesim_config). Throws IoError (unreadable) or ConfigError naming the file and
/// key (missing/unknown key, non-numeric, non-integer, zero/negative or out-of-range sizes, a buffer smaller
/// than the minimum one tile needs: see docs/accelerator.md).
Architecture load_architecture(const std::string& path);
/// The same from text; `origin` names the file in messages and anchors a relative `tech:` path.
Architecture parse_architecture(const std::string& text, const std::string& origin);

/// Largest `memory.bytes` (64 GiB).
constexpr uint64_t kMaxMemoryBytes = uint64_t{64} << 30;

/// A SCALE-Sim v2 configuration (INI: [general] run_name, [architecture_presets] ArrayHeight, ArrayWidth,
/// IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB, Dataflow, Bandwidth, ...; [run_presets] InterfaceBandwidth)
/// as an architecture; mapping and what is refused: docs/accelerator.md ("Running SCALE-Sim's files").
/// ConfigError naming the file, line and key (unknown section or key, non-integer, dataflow other than ws).
Architecture load_scalesim_config(const std::string& path);
Architecture parse_scalesim_config(const std::string& text, const std::string& origin);

}  // namespace cimsim::accel
