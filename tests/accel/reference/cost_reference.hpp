#pragma once
// Independent test-only cost model of the accelerator (issue 7, item 6): cycles, row bands, DMA/SRAM byte
// counts and energy of one layer under a placement, written from docs/accelerator-numerics.md ("Memory
// hierarchy", "Tiling and the cycle formula", "Energy components", "Vector unit") without calling, or copying
// from, models/accel/cost_model.cpp. It depends only on the layer contract (layer.hpp: shapes and enums) and on
// the raw entries of the energy table; its own configuration/placement structs mirror ArrayConfig/Placement
// field by field so that nothing of cost_model.hpp (constants included) is used here.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cimsim/accel/layer.hpp"
#include "cimsim/core/energy_table.hpp"

namespace cimsim::accel::testref {

/// The hardware (mirror of ArrayConfig; same defaults).
struct RefConfig {
  int64_t rows = 16, cols = 16;
  int64_t cim_rows = 64, cim_cols = 16;
  int64_t weight_buffer_bytes = 64 * 1024;
  int64_t act_buffer_bytes = 128 * 1024;
  int64_t dma_bytes_per_cycle = 16;
  int64_t adc_cycles_per_bit = 1;
  int64_t vector_lanes = 16;
  bool double_buffer = false;
  double clock_hz = 0;
};

/// Where the operands live (mirror of Placement; same defaults: everything in DRAM, whole buffers).
struct RefPlacement {
  bool in_dram = true, in2_dram = true, out_dram = true;
  bool weights_resident = false;
  int64_t stage_bytes = -1, wbuf_bytes = -1;
};

struct RefBand {
  int64_t row0 = 0, row1 = 0;
  int64_t col0 = 0, col1 = 0;  ///< output columns (the whole width unless the layer runs in column strips)
  int64_t in = 0, in2 = 0, w = 0, out = 0;
  int64_t load = 0, compute = 0, store = 0;
};

enum class RefStatus { Ok, Overflow, ConfigError };

struct RefCost {
  RefStatus status = RefStatus::Ok;
  std::string why;  ///< for Overflow / ConfigError
  int64_t cycles = 0, descriptor_cycles = 0, dma_in_cycles = 0, compute_cycles = 0, dma_out_cycles = 0;
  int64_t stall_cycles = 0, tiles = 0;
  bool streamed = false;
  std::vector<RefBand> bands;
  std::map<std::string, int64_t> counts;  ///< the 14 event counts of the spec, all present
  /// Diagnostics (not part of the model's interface): largest uniform band height whose worst band fits, found
  /// by scanning every height, and whether "worst band fits" is monotone in the height for this layer.
  int64_t scan_height = 0;
  bool fit_monotone = true;
  bool column_split = false;  ///< one output row did not fit: bands of one row x a strip ("Column strips")
};

/// Per-event energies in aJ (each table entry rounded once; SRAM interpolated; leakage clock-scaled).
struct RefRates {
  int64_t digital[kNumOps] = {}, cim[kNumOps] = {};
  int64_t adc[17] = {};
  int64_t dac4 = 0, requant = 0;
  int64_t wb_read = 0, wb_write = 0, ab_read = 0, ab_write = 0;
  int64_t cim_write = 0, dram = 0, vec_op = 0, vec_rescale = 0, leakage = 0;
  static RefRates from(const EnergyTable& t, const RefConfig& cfg);
};

/// pJ -> aJ, round to nearest (half away from zero).
int64_t ref_aj(double pj);
/// log-log interpolated SRAM pJ/byte at `bytes` capacity from common.sram.{read,write}_per_byte_by_kib.*,
/// clamped at the end points.
double ref_sram_pj(const EnergyTable& t, int64_t bytes, bool write);

/// Staging need (activation-buffer bytes, doubled with double buffering) of output rows [r0, r1).
int64_t ref_band_need(const RefConfig& cfg, const LayerShape& s, const RefPlacement& pl, int64_t r0, int64_t r1);

RefCost ref_layer_cost(const RefConfig& cfg, const LayerShape& s, Op op, Mode mode, const CimParams& cim,
                       const RefPlacement& pl = {});

/// Energy per ledger component (compute, adc, dac, requant, weight_buffer, act_buffer, cim_write, dram,
/// descriptor, vector, leakage) of `c` computed for `op`/`mode`/`adc_bits`.
std::map<std::string, int64_t> ref_energy_aj(const RefCost& c, const RefRates& r, Op op, Mode mode, int adc_bits);
int64_t ref_total_aj(const std::map<std::string, int64_t>& e);

}  // namespace cimsim::accel::testref
