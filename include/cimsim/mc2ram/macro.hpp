#pragma once
// MC2RAM macro as a SystemC/TLM-2.0 module, at two levels over the same datapath (datapath.hpp):
//  * Level::Cycle: a clocked FSM/pipeline. Every clock cycle is simulated (stage by stage: PROPOSE,
//    MAC+COARSE ADC, FINE ADC, LSE/ACCEPT), FIFO back-pressure stalls, VCD tracing of the stages.
//  * Level::LT: one thread runs whole iterations and annotates their time from the same cycle formula
//    (iteration_cycles), with a quantum keeper; same samples for the same seed and configuration.
// Target socket: the register map of regs.hpp (RegisterBank rules + the GMM/INIT windows).
// Initiator socket `dma`: sample write-back to system memory when CTRL.DMA_EN is set; otherwise samples go
// to the FIFO (FIFO_DATA), and the macro stalls while the FIFO cannot take a whole step's samples.
// All DMA traffic is issued from SC_THREADs (a memory target may call wait() in b_transport).
// Clock: the cycle level makes its own clock (period 1 / EnergyTable::clock_hz) unless the optional `clk`
// port is bound, then it advances on the rising edges of that signal. The constructor checks that the
// period is a whole, non-zero number of time-resolution units and throws ConfigError otherwise (a 1 GHz macro
// runs at resolutions 1 fs .. 1 ns). Plugging it into an SoC: docs/integration.md.
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
  /// Optional clock input (cycle level only): bind it to the SoC's clock signal, or leave it unbound and the
  /// macro makes its own clock of period 1 / table.clock_hz(). Bus latency annotations (one period per
  /// register access) and the LT level always use the nominal period.
  ClockIn clk;

  /// `table` is copied (the macro owns its energy table). `tf`: VCD trace file or null (tracing off, no cost).
  Macro(sc_core::sc_module_name name, Level level, const EnergyTable& table,
        sc_core::sc_trace_file* tf = nullptr);

  Level level() const { return level_; }
  const RegisterBank& registers() const { return regs_; }
  const Datapath& datapath() const { return dp_; }
  uint64_t cycles() const { return cycles_; }
  double clock_period_ns() const { return period_.to_seconds() * 1e9; }
  sc_core::sc_time clock_period() const { return period_; }
  const EnergyTable& energy_table() const { return table_; }

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
  void end_of_elaboration() override;
  void dma_thread();
  bool emit_lane(int lane, bool lt);  ///< FIFO/DMA output of a lane's sample; false if the FIFO is full
  void finish();
  void flush_lane(int lane, sc_core::sc_time& delay);

  Level level_;
  const EnergyTable table_;  // owned copy: the caller's table may go out of scope before simulation
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
  uint32_t dma_err_code_ = 0;  // reg::ERR_DMA or reg::ERR_DMA_INCOMPLETE
  bool ext_clk_ = false;       // `clk` bound: tick on its rising edges
  bool await_edge_ = false;    // external clock: the next tick waits for a rising edge first

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
