#pragma once
// The accelerator's cycle and energy formulas for one layer: the single source of truth used by the LT
// model (annotated latency), checked against the cycle-level model, and used by the ENOS search for the
// energy of each (operator, mode) candidate. Formulas: docs/accelerator-numerics.md, "Dataflow and cycle
// formula" and "Energy components".
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cimsim/accel/layer.hpp"
#include "cimsim/core/energy_ledger.hpp"
#include "cimsim/core/energy_table.hpp"

namespace cimsim::accel {

/// Bytes of one layer descriptor in system memory (descriptor.hpp's kDescriptorRecordBytes is this size).
constexpr int kDescriptorBytes = 128;
/// Fixed per-layer setup after the descriptor fetch (decode, address generation, mode configuration).
constexpr int kLayerSetupCycles = 8;
/// Pipeline fill/drain per tile (digital: per (group, column tile, row tile); CIM: per (group, column tile,
/// chunk)), paid once after the tile's weights are loaded.
constexpr int kTileFillCycles = 2;
/// Requantization parameters fetched per output channel: int32 mult, shift, bias.
constexpr int kRequantBytesPerChannel = 12;

/// Hardware configuration of the accelerator instance.
struct ArrayConfig {
  int rows = 16;                         ///< R: reduction lanes of the digital MAC-core array
  int cols = 16;                         ///< C: output-channel lanes
  int cim_rows = 64;                     ///< rows of the CIM macro (max CimParams::rows)
  int cim_cols = 16;                     ///< columns (output channels) of the CIM macro, one ADC each
  int64_t weight_buffer_bytes = 64 * 1024;
  int64_t act_buffer_bytes = 128 * 1024;
  int dma_bytes_per_cycle = 16;          ///< system-memory bandwidth seen by the DMA
  int adc_cycles_per_bit = 1;            ///< SAR ADC cycles per bit (table params.accel.adc_cycles_per_bit)
  int vector_lanes = 16;                 ///< vector/pooling unit: int8 elements processed per cycle
  bool double_buffer = false;            ///< DMA of the next tile overlapped with compute of this one
  double clock_hz = 0;                   ///< accelerator clock; 0: the energy table's clock_hz

  /// Empty if usable; else why not (every field >= 1).
  std::string check() const;
  /// Copy of `base` with the table's parameters applied (params.accel.adc_cycles_per_bit, when present).
  static ArrayConfig with_table(const ArrayConfig& base, const EnergyTable& table);
};

/// One energy term: `count` events of table entry `entry`, charged to ledger component `component`.
struct CostTerm {
  std::string component;
  std::string entry;
  int64_t count = 0;
};

/// Event counts and cycles of one layer; energy = sum over terms of count x table.aj(entry), exactly.
struct LayerCost {
  Op op = Op::MAC8;
  Mode mode = Mode::Digital;
  int adc_bits = 0;  ///< CIM only

  // Cycles = descriptor_cycles + dma_in_cycles + compute_cycles + dma_out_cycles (DMA not overlapped).
  int64_t cycles = 0;
  int64_t descriptor_cycles = 0;  ///< ceil(kDescriptorBytes / B) + kLayerSetupCycles
  int64_t dma_in_cycles = 0;      ///< ceil((input + packed weights + requant params bytes) / B)
  int64_t compute_cycles = 0;     ///< array schedule (see the doc)
  int64_t dma_out_cycles = 0;     ///< ceil(output bytes / B)
  int64_t tiles = 0;              ///< weight tiles loaded (digital row tiles or CIM chunks, all groups/columns)

  /// Event counts, keyed by event name: compute, adc, dac, requant, weight_buffer_read, weight_buffer_write,
  /// act_buffer_read, act_buffer_write, cim_write, dma, descriptor, leakage (bytes for buffers/DMA/descriptor,
  /// ops for compute, conversions for adc, row drives for dac, outputs for requant, cycles for leakage).
  std::map<std::string, int64_t> counts;

  /// The energy terms (component, table entry, count), in a fixed order; zero counts are included.
  std::vector<CostTerm> terms() const;
  /// Energy in aJ per ledger component (compute, adc, dac, requant, weight_buffer, act_buffer, cim_write,
  /// dma, descriptor, leakage): sum of count x table.aj(entry) of its terms.
  std::map<std::string, int64_t> energy_aj(const EnergyTable& table) const;
  int64_t total_aj(const EnergyTable& table) const;
  /// Adds this layer's energy to `ledger` under `layer`, using `table` (exact integer aJ). Components with a
  /// zero count are not added. `cfg` and `p` are accepted for the callers' convenience and must describe the
  /// same layer (p.op/p.mode must match; ConfigError otherwise).
  void charge(EnergyLedger& ledger, const EnergyTable& table, const ArrayConfig& cfg, const LayerParams& p,
              int layer) const;
};

/// Every table entry the cost model can use; EnergyTable::require() them once at load time.
std::vector<std::string> cost_model_entries();
/// table.require(cost_model_entries()).
void require_cost_entries(const EnergyTable& table);

/// Counts and cycles for a layer given its shape, operator, mode and CIM parameters (weights not needed).
/// Throws ConfigError for a bad shape/config, an (op, CIM) pair the macro does not support, or CIM parameters
/// out of range (rows > cfg.cim_rows included).
LayerCost layer_cost(const ArrayConfig& cfg, const LayerShape& shape, Op op, Mode mode, const CimParams& cim);
/// Energy in pJ of one layer candidate, from the table (what the ENOS search uses for E_lk).
double layer_energy_pj(const ArrayConfig& cfg, const EnergyTable& table, const LayerShape& shape, Op op, Mode mode,
                       const CimParams& cim);

}  // namespace cimsim::accel
