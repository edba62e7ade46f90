#pragma once
// Host test bench for the C firmware driver: an MMIO-to-TLM bridge. The firmware (compiled with
// CIMSIM_FW_MMIO_HOOKS) runs inside this module's SC_THREAD; every register access it makes becomes a 4-byte
// b_transport on `socket` (streaming width 0 and no byte enables, as a virtual platform's CPU sends them),
// followed by wait(delay), so time advances while the firmware polls. wait_irq() blocks until the given IRQ
// line is high (level-sensitive), with a timeout so a lost interrupt fails the test instead of hanging it.
#include <cstdint>
#include <functional>
#include <string>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "cimsim/soc/irq.hpp"

namespace fw_test {

class MmioBridge : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<MmioBridge> socket;
  cimsim::IrqIn irq0, irq1;

  MmioBridge(sc_core::sc_module_name name, std::function<void()> firmware);

  uint32_t read32(uint64_t addr);
  void write32(uint64_t addr, uint32_t value);
  /// Blocks until the line is high or `timeout` passed (then counts an IRQ timeout).
  void wait_irq(cimsim::IrqIn& line, sc_core::sc_time timeout = sc_core::sc_time(10, sc_core::SC_MS));

  bool finished() const { return finished_; }
  uint64_t bus_errors() const { return bus_errors_; }
  uint64_t accesses() const { return accesses_; }
  uint64_t irq_timeouts() const { return irq_timeouts_; }
  std::string last_error;  ///< what the last failing access was

  static MmioBridge* current();

 private:
  void run();
  void access(tlm::tlm_command cmd, uint64_t addr, uint32_t& v);
  std::function<void()> fw_;
  bool finished_ = false;
  uint64_t bus_errors_ = 0, accesses_ = 0, irq_timeouts_ = 0;
};

/// The firmware's wait_irq callback: ctx is a cimsim::IrqIn* of the current bridge.
extern "C" void fw_test_wait_irq(void* ctx);

}  // namespace fw_test
