#pragma once
// The accelerator's cycle and energy formulas for one layer under a placement (where its operands live): the
// single source of truth used by the LT model (annotated latency), followed step by step by the cycle-level
// model, and used by the ENOS search for the energy of each (operator, mode) candidate. Formulas:
// docs/accelerator-numerics.md, "Memory hierarchy", "Tiling and the cycle formula" and "Energy components".
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cimsim/accel/layer.hpp"
#include "cimsim/core/energy_ledger.hpp"
#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/error.hpp"

namespace cimsim::accel {

/// Bytes of one layer descriptor in system memory (descriptor.hpp's kDescriptorRecordBytes is this size).
constexpr int kDescriptorBytes = 128;
/// Fixed per-layer setup after the descriptor fetch (decode, address generation, mode configuration).
constexpr int kLayerSetupCycles = 8;
/// Pipeline fill/drain per tile (digital: per (group, column tile, row tile); CIM: per (group, column tile,
/// chunk)), paid once after the tile's weights are loaded.
constexpr int kTileFillCycles = 2;
/// Requantization parameters fetched per output channel: int32 mult, int32 shift, int64 bias.
constexpr int kRequantBytesPerChannel = 16;

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

/// Where a layer's operands live and which on-chip space it may use; decided by the host's program compiler
/// (sw/accel/program.cpp) and carried by the descriptor. The default is every operand in system memory (DRAM)
/// and both buffers free, i.e. a layer run on its own.
struct Placement {
  bool in_dram = true;            ///< input in DRAM (else resident in the activation buffer)
  bool in2_dram = true;           ///< Add's second input in DRAM (else resident)
  bool out_dram = true;           ///< output to DRAM (else kept in the activation buffer)
  bool weights_resident = false;  ///< constants (weights + requant) already in the weight buffer: no DMA
  int64_t stage_bytes = -1;       ///< activation-buffer bytes for staging DRAM operands (-1: the whole buffer)
  int64_t wbuf_bytes = -1;        ///< weight-buffer bytes the layer may use (-1: the whole buffer)
};

/// One band of output rows of a layer (rows are (image, output row) pairs, r = n * OH + oy), with the DMA
/// traffic and cycles it implies (docs/accelerator-numerics.md, "Tiling and the cycle formula").
struct Band {
  int64_t row0 = 0, row1 = 0;                  ///< output rows [row0, row1)
  int64_t col0 = 0, col1 = 0;                  ///< output columns [col0, col1) (the whole width unless split)
  int64_t in_bytes = 0, in2_bytes = 0;         ///< DRAM -> activation buffer (0 when resident)
  int64_t w_bytes = 0;                         ///< DRAM -> weight buffer (constants; streamed or first band)
  int64_t out_bytes = 0;                       ///< activation buffer -> DRAM (0 when resident)
  int64_t load_cycles = 0, compute_cycles = 0, store_cycles = 0;
};

/// aJ per event of every cost term, from the energy table and the hardware (SRAM energy interpolated at the
/// buffers' capacities, leakage per cycle at the configured clock).
struct EnergyRates {
  int64_t digital[kNumOps] = {}, cim[kNumOps] = {};  ///< per operator term
  int64_t adc[17] = {};                             ///< per conversion, by bits
  int64_t dac = 0;                                  ///< per 4-bit row drive
  int64_t requant = 0;                              ///< per output
  int64_t wbuf_read = 0, wbuf_write = 0;            ///< per byte, weight buffer
  int64_t abuf_read = 0, abuf_write = 0;            ///< per byte, activation buffer
  int64_t cim_write = 0;                            ///< per byte written into the CIM macro
  int64_t dram = 0;                                 ///< per byte moved to/from DRAM
  int64_t vec_op = 0, vec_rescale = 0;              ///< vector unit, per element
  int64_t leakage = 0;                              ///< per cycle
  double wbuf_pj_per_byte = 0, abuf_pj_per_byte = 0;  ///< the interpolated SRAM figures (for reports)
  static EnergyRates from(const EnergyTable& table, const ArrayConfig& cfg);
};

/// SRAM read (or write) energy per byte of an SRAM of `bytes` capacity: log-log interpolation between the
/// table's common.sram.{read,write}_per_byte_by_kib points, clamped at the smallest and largest point.
double sram_pj_per_byte(const EnergyTable& table, int64_t bytes, bool write);

/// One energy term: `count` events of `aj_each` attojoules, charged to ledger component `component`; `entry`
/// names the table entry (or derivation) the rate comes from.
struct CostTerm {
  std::string component;
  std::string entry;
  int64_t count = 0;
  int64_t aj_each = 0;
};

/// Event counts and cycles of one layer; energy = sum over terms of count x rate, exactly (integer aJ).
struct LayerCost {
  LayerKind kind = LayerKind::Conv2d;
  Op op = Op::MAC8;
  Mode mode = Mode::Digital;
  int adc_bits = 0;  ///< CIM only
  ArrayConfig cfg;   ///< the hardware the cost was computed for
  Placement place;

  /// cycles = descriptor_cycles + the band schedule: sequential sum(load + compute + store) or, with double
  /// buffering, load_0 + sum_b max(compute_b, load_{b+1}, store_{b-1}) + store_last.
  int64_t cycles = 0;
  int64_t descriptor_cycles = 0;  ///< ceil(kDescriptorBytes / B) + kLayerSetupCycles
  int64_t dma_in_cycles = 0;      ///< sum of band load cycles
  int64_t compute_cycles = 0;     ///< sum of band compute cycles
  int64_t dma_out_cycles = 0;     ///< sum of band store cycles
  int64_t stall_cycles = 0;       ///< cycles - descriptor - compute: time the compute engine waits for DMA
  int64_t tiles = 0;              ///< weight tiles loaded into the array/macro (all bands)
  bool weights_streamed = false;  ///< constants do not fit the weight buffer: streamed once per band
  bool column_split = false;      ///< one output row did not fit the staging space: bands of one row x a strip
  std::vector<Band> bands;

  /// Event counts, keyed by event name: compute, adc, dac, requant, weight_buffer_read, weight_buffer_write,
  /// act_buffer_read, act_buffer_write, cim_write, dram, descriptor, vector_op, vector_rescale, leakage.
  std::map<std::string, int64_t> counts;

  int64_t macs() const;        ///< operator terms (counts["compute"])
  int64_t dram_bytes() const;  ///< counts["dram"] + counts["descriptor"]
  /// MACs / (lanes x compute-capable cycles): R*C (digital) or cim_rows*cim_cols (CIM) lanes over all cycles.
  double utilisation() const;

  /// The energy terms in a fixed order; zero counts are included.
  std::vector<CostTerm> terms(const EnergyTable& table) const;
  /// Energy in aJ per ledger component (compute, adc, dac, requant, weight_buffer, act_buffer, cim_write,
  /// dram, descriptor, vector, leakage).
  std::map<std::string, int64_t> energy_aj(const EnergyTable& table) const;
  int64_t total_aj(const EnergyTable& table) const;
  /// compute + adc + dac: the operator's own energy.
  int64_t operator_aj(const EnergyTable& table) const;
  /// Adds this layer's energy to `ledger` under `layer`. Components with a zero count are not added.
  void charge(EnergyLedger& ledger, const EnergyTable& table, int layer) const;
};

/// Components that make up operator-only energy.
bool is_operator_component(const std::string& component);

/// Every table entry the cost model can use; EnergyTable::require() them once at load time.
std::vector<std::string> cost_model_entries();
/// table.require(cost_model_entries()) plus the SRAM curve's shape (at least one point per direction).
void require_cost_entries(const EnergyTable& table);

/// Staging bytes (activation buffer) a layer needs under `place` to run in bands of whole output rows: one
/// output row band (double with double buffering). With less, the layer runs in column strips (bands of one
/// output row x a strip of output columns); it cannot run (BufferOverflow) only when one output pixel's band
/// (its input window and output channels) does not fit.
int64_t min_stage_bytes(const ArrayConfig& cfg, const LayerShape& shape, const Placement& place);

/// Counts, bands and cycles for a layer (any kind) given its shape, operator, mode, CIM parameters and
/// placement (weights not needed). Throws ConfigError for a bad shape/config, an (op, CIM) pair the macro does
/// not support, CIM parameters out of range (rows > cfg.cim_rows included), or a placement whose staging
/// space cannot hold one band (BufferOverflowError).
LayerCost layer_cost(const ArrayConfig& cfg, const LayerShape& shape, Op op, Mode mode, const CimParams& cim,
                     const Placement& place = {});
/// Energy in pJ of one layer candidate, from the table (what the ENOS search uses for E_lk).
double layer_energy_pj(const ArrayConfig& cfg, const EnergyTable& table, const LayerShape& shape, Op op, Mode mode,
                       const CimParams& cim, const Placement& place = {});

/// The layer cannot run: not even one band fits the staging space it was given.
class BufferOverflowError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

}  // namespace cimsim::accel
