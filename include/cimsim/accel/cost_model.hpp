#pragma once
// The accelerator's cycle and energy formulas for one layer: the single source of truth used by the LT
// model (annotated latency), checked against the cycle-level model, and used by the ENOS search for the
// energy of each (operator, mode) candidate. Formulas are documented in docs/accelerator.md.
#include <cstdint>
#include <map>
#include <string>

#include "cimsim/accel/layer.hpp"
#include "cimsim/core/energy_ledger.hpp"
#include "cimsim/core/energy_table.hpp"

namespace cimsim::accel {

/// Hardware configuration of the accelerator instance.
struct ArrayConfig {
  int rows = 16;                         ///< R: reduction lanes of the digital MAC-core array
  int cols = 16;                         ///< C: output-channel lanes
  int cim_rows = 64;                     ///< rows of the CIM macro (max CimParams::rows)
  int cim_cols = 16;                     ///< columns (output channels) of the CIM macro, one ADC each
  int64_t weight_buffer_bytes = 64 * 1024;
  int64_t act_buffer_bytes = 128 * 1024;
  int dma_bytes_per_cycle = 16;          ///< system-memory bandwidth seen by the DMA
};

/// Event counts and cycles of one layer; energy = sum over components of count x table entry.
struct LayerCost {
  int64_t cycles = 0;
  std::map<std::string, int64_t> counts;  ///< component -> events (ops, bytes, conversions, cycles)
  /// Adds this layer's energy to `ledger` under `layer`, using `table` (exact integer aJ).
  void charge(EnergyLedger& ledger, const EnergyTable& table, const ArrayConfig& cfg, const LayerParams& p,
              int layer) const;
};

/// Counts and cycles for a layer given its shape, operator, mode and CIM parameters (weights not needed).
LayerCost layer_cost(const ArrayConfig& cfg, const LayerShape& shape, Op op, Mode mode, const CimParams& cim);
/// Energy in pJ of one layer candidate, from the table (what the ENOS search uses for E_lk).
double layer_energy_pj(const ArrayConfig& cfg, const EnergyTable& table, const LayerShape& shape, Op op, Mode mode,
                       const CimParams& cim);

}  // namespace cimsim::accel
