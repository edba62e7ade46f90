#pragma once
// What both abstraction levels of the accelerator share: the sockets (CSR target, DMA initiator), the IRQ
// line, the register bank and its behaviour, descriptor fetch/validation, operand loading by DMA (DMI where
// granted), the energy ledger and the per-layer performance records behind the PERF_SEL registers.
// AcceleratorLt and AcceleratorCycle derive from it and differ only in how time passes while a layer runs.
#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/descriptor.hpp"
#include "cimsim/accel/layer.hpp"
#include "cimsim/accel/regmap.hpp"
#include "cimsim/core/energy_ledger.hpp"
#include "cimsim/core/energy_table.hpp"
#include "cimsim/soc/irq.hpp"
#include "cimsim/soc/register_bank.hpp"

namespace cimsim::accel {

/// Per-layer record of the last run (what PERF_SEL = k shows).
struct LayerRecord {
  int64_t cycles = 0;
  int64_t macs = 0;
  int64_t energy_aj = 0;
  std::vector<int64_t> group_aj;  ///< per energy register group (energy_register_groups() order)
};

/// A layer fetched from memory and ready to compute: parameters (weights unpacked) and operands.
struct LoadedLayer {
  Descriptor desc;
  LayerParams params;
  std::vector<int8_t> input;
  std::vector<int8_t> input2;  ///< Add's second input
  std::vector<int8_t> output;
  LayerCost cost;
  ErrorCode compute_error = ErrorCode::None;  ///< an exception in compute_layer, reported by store_output
};

class AcceleratorBase : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<AcceleratorBase> csr;    ///< control/status registers (regmap.hpp)
  tlm_utils::simple_initiator_socket<AcceleratorBase> dma; ///< DMA master to system memory
  IrqOut irq;                                              ///< level interrupt, (IRQ_STATUS & IRQ_ENABLE) != 0

  AcceleratorBase(sc_core::sc_module_name name, const ArrayConfig& cfg, const EnergyTable& table);

  const ArrayConfig& config() const { return cfg_; }
  const EnergyTable& table() const { return table_; }
  RegisterBank& registers() { return regs_; }
  /// Energy of every layer run since construction (layer index = position in its run's descriptor table,
  /// offset by the number of layers of earlier runs).
  const EnergyLedger& ledger() const { return ledger_; }
  /// Records of the last run, one per completed layer.
  const std::vector<LayerRecord>& last_run() const { return records_; }
  uint64_t total_cycles() const { return total_cycles_; }  ///< accelerator cycles over all runs
  uint64_t total_macs() const { return total_macs_; }
  sc_core::sc_time clock_period() const { return period_; }

 protected:
  /// Called (in a process context) when START is written while idle; derived classes run the layers.
  virtual void on_start() = 0;
  /// Called on SOFT_RESET (after registers and records are reset).
  virtual void on_soft_reset() {}

  // ---- helpers for derived classes ----
  /// DESC_ADDR and LAYER_COUNT as latched by the START write.
  uint64_t desc_table_addr() const { return run_desc_addr_; }
  uint32_t layer_count() const { return run_layers_; }
  /// Reads and validates descriptor `index`; on failure returns the error code. `delay` accumulates bus time.
  ErrorCode fetch_descriptor(uint32_t index, Descriptor& out, sc_core::sc_time& delay);
  /// Plans the layer (layer_cost under the descriptor's placement) and loads its constants (from the weight
  /// buffer when resident, else by DMA; pinned ones are kept in the weight buffer) and its inputs (from the
  /// activation buffer or by DMA) into `layer`. Functionally the operands move whole; the tile traffic and
  /// its cycles are those of `layer.cost` (docs/accelerator-numerics.md, "Tiling").
  /// Never throws: a failed allocation ends in BufferOverflow, any other exception in BadParams.
  ErrorCode load_layer(const Descriptor& d, LoadedLayer& layer, sc_core::sc_time& delay);
  ErrorCode load_layer_impl(const Descriptor& d, LoadedLayer& layer, sc_core::sc_time& delay);
  /// Computes the layer (datapath run_layer or run_vector) from the loaded operands.
  static void compute_layer(LoadedLayer& layer);
  /// Writes `layer.output` to the activation buffer or to system memory.
  ErrorCode store_output(const LoadedLayer& layer, sc_core::sc_time& delay);
  /// Checks the (decoded) descriptor against this instance's buffers and macro (CIM rows, on-chip operand
  /// extents): BadParams or BadAddress.
  ErrorCode check_hardware_limits(const Descriptor& d) const;
  /// The activation buffer and the weight buffer (contents persist across layers and runs).
  std::vector<int8_t>& act_buffer() { return abuf_; }
  std::vector<uint8_t>& weight_buffer() { return wbuf_; }

  bool dma_read(uint64_t addr, void* dst, uint64_t len, sc_core::sc_time& delay);
  /// Whether one byte at `addr` is readable through the DMA socket (transport_dbg: no timing, no side effect).
  bool dma_probe(uint64_t addr);
  bool dma_write(uint64_t addr, const void* src, uint64_t len, sc_core::sc_time& delay);

  /// Run bookkeeping. begin_run() clears the last-run records; layer_done() charges the ledger with the
  /// layer's cost, adds cycles and records it; finish_run() sets STATUS and raises the IRQ.
  void begin_run();
  void set_current_layer(uint32_t index);
  void layer_done(uint32_t index, const LoadedLayer& layer, int64_t cycles);
  bool dma_incomplete_ = false;  ///< the last failed DMA was left at TLM_INCOMPLETE_RESPONSE by its target
  void finish_run(ErrorCode err, uint32_t failing_layer);
  bool busy() const { return busy_; }
  void update_irq();

  ArrayConfig cfg_;
  EnergyTable table_;
  sc_core::sc_time period_;
  RegisterBank regs_;

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);
  void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);
  bool dma_access(tlm::tlm_command cmd, uint64_t addr, uint8_t* data, uint64_t len, sc_core::sc_time& delay);
  void irq_proc();
  uint32_t perf_read(uint32_t offset_in_view) const;
  void build_registers();

  bool read_operand(bool on_chip, uint64_t addr, int ctotal, int c, const LayerShape& s, std::vector<int8_t>& dst,
                    sc_core::sc_time& delay);
  std::vector<int8_t> abuf_;
  std::vector<uint8_t> wbuf_;
  EnergyLedger ledger_;
  std::vector<LayerRecord> records_;
  LayerRecord run_total_;
  uint64_t total_cycles_ = 0, total_macs_ = 0;
  int ledger_layer_base_ = 0;
  uint64_t run_desc_addr_ = 0;
  uint32_t run_layers_ = 0;
  bool busy_ = false;
  bool irq_level_ = false;
  sc_core::sc_event start_ev_, irq_ev_;
  std::vector<tlm::tlm_dmi> dmi_;
  bool dmi_probe_failed_ = false;
};

}  // namespace cimsim::accel
