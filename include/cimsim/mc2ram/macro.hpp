#pragma once
// MC2RAM macro as a SystemC/TLM-2.0 module, at two levels over the same datapath (datapath.hpp):
//  * Level::Cycle: a clocked FSM/pipeline. Every clock cycle is simulated (stage by stage: PROPOSE,
//    MAC+COARSE ADC, FINE ADC, LSE/ACCEPT), FIFO back-pressure stalls, VCD tracing of the stages.
//  * Level::LT: one thread runs whole iterations and annotates their time from the same cycle formula
//    (iteration_cycles), with a quantum keeper; same samples for the same seed and configuration.
// Target socket: the register map of regs.hpp (RegisterBank rules + the GMM/INIT windows).
// Initiator socket `dma`: sample write-back to system memory when CTRL.DMA_EN is set; otherwise samples go
// to the FIFO (FIFO_DATA), and the macro stalls while the FIFO cannot take a whole step's samples.
#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/mc2ram/datapath.hpp"
#include "cimsim/mc2ram/regs.hpp"
#include "cimsim/soc/irq.hpp"
#include "cimsim/soc/register_bank.hpp"

namespace cimsim::mc2ram {

enum class Level { LT, Cycle };
const char* to_string(Level l);

/// Pipeline stage codes (the VCD's `stage` signal).
enum Stage : int { ST_IDLE = 0, ST_INIT = 1, ST_PROPOSE = 2, ST_MAC = 3, ST_FINE = 4, ST_LSE = 5, ST_WB = 6,
                   ST_STALL = 7, ST_FLUSH = 8 };

class Macro : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Macro> socket;
  tlm_utils::simple_initiator_socket<Macro> dma;
  IrqOut irq;

  /// `tf`: VCD trace file or null (tracing off, no cost).
  Macro(sc_core::sc_module_name name, Level level, const EnergyTable& table,
        sc_core::sc_trace_file* tf = nullptr);

  Level level() const { return level_; }
  const RegisterBank& registers() const { return regs_; }
  const Datapath& datapath() const { return dp_; }
  uint64_t cycles() const { return cycles_; }
  double clock_period_ns() const { return period_.to_seconds() * 1e9; }

 private:
  // bus
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);
  bool window_access(tlm::tlm_generic_payload& gp, bool debug);
  void build_registers();
  bool busy() const { return busy_; }
  void start();
  void soft_reset();
  void update_irq();
  void set_irq(uint32_t bits);
  void drive_irq();
  Knobs knobs_from_regs() const;
  uint32_t check_start(Program& p, Knobs& k) const;
  uint64_t energy_sel(uint32_t sel) const;

  // runs
  void lt_thread();
  void tick();
  void clk_low();
  void dma_thread();
  bool emit_lane(int lane, bool lt);  ///< FIFO/DMA output of a lane's sample; false if the FIFO is full
  void finish();
  void flush_lane(int lane, sc_core::sc_time& delay);

  Level level_;
  const EnergyTable& table_;
  RegisterBank regs_;
  Datapath dp_;
  sc_core::sc_time period_;
  sc_core::sc_event start_ev_, pop_ev_, dma_ev_, tick_ev_, clk_ev_, irq_ev_;
  bool irq_level_ = false;
  tlm_utils::tlm_quantumkeeper qk_;

  bool busy_ = false;
  uint64_t cycles_ = 0;
  int lanes_ = 1, d_ = 1;
  uint32_t n_samples_ = 0, step_ = 0;
  bool dma_en_ = false;
  uint64_t dma_addr_ = 0;
  std::array<std::array<int32_t, kMaxD>, kMaxLanes> init_{};  // [lane][dim]
  std::array<Component, kMaxK> window_{};
  std::vector<uint32_t> fifo_;
  size_t fifo_head_ = 0;
  std::array<std::vector<int32_t>, kMaxLanes> dma_buf_;
  std::array<uint32_t, kMaxLanes> dma_first_{};  // first sample index held in dma_buf_[lane]
  bool dma_error_ = false, dma_final_ = false, abort_ = false;

  // cycle-level FSM: a global phase (init, running, flush) and one sequencer per lane
  struct LaneFsm {
    int stage = ST_PROPOSE, fine_left = 0, lse_left = 0;
    uint32_t step = 0;
    bool done = false;
  };
  int stage_ = ST_IDLE, stage_cycle_ = 0;
  std::array<LaneFsm, kMaxLanes> lane_{};
  std::array<LaneIter, kMaxLanes> it_{};

  // trace variables
  sc_core::sc_trace_file* tf_;
  bool clk_ = false, accept_tr_ = false, valid_tr_ = false;
  int stage_tr_ = 0;
  std::array<int32_t, kMaxD> prop_tr_{};
  int32_t lse_prop_tr_ = 0, lse_cur_tr_ = 0, log_u_tr_ = 0;
};

}  // namespace cimsim::mc2ram
