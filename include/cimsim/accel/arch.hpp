#pragma once
// Architecture files: the accelerator's hardware parameters as YAML (data/arch/*.yaml), loaded and validated
// into an ArrayConfig. Format and every key: docs/accelerator.md ("Architecture files"). Errors name the file
// and the key (ConfigError); unknown keys are refused.
//
//   name: default                 # free text, reported
//   tech: ../tech/45nm.json       # energy table, relative to this file (optional; default table otherwise)
//   clock_hz: 1.0e9               # optional; default: the energy table's clock_hz
//   array:    {rows: 16, cols: 16}
//   cim:      {rows: 64, cols: 16, adc_cycles_per_bit: 1}
//   buffers:  {weight_bytes: 65536, act_bytes: 131072}
//   dma:      {bytes_per_cycle: 16}
//   vector:   {lanes: 16}
//   double_buffering: false
#include <string>

#include "cimsim/accel/cost_model.hpp"

namespace cimsim::accel {

struct Architecture {
  std::string name;       ///< the file's `name` (or its stem)
  std::string origin;     ///< the path it was loaded from ("" for built-in defaults)
  std::string tech_path;  ///< resolved path of the energy table ("" = the default table)
  ArrayConfig array;      ///< every hardware parameter (clock_hz 0 unless the file sets it)
};

/// Loads and validates an architecture file. Throws IoError (unreadable) or ConfigError naming the file and
/// key (missing/unknown key, non-numeric, non-integer, zero/negative or out-of-range sizes, a buffer smaller
/// than the minimum one tile needs: see docs/accelerator.md).
Architecture load_architecture(const std::string& path);

}  // namespace cimsim::accel
