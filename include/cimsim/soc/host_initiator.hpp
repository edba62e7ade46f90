#pragma once
// Host CPU initiator base: a TLM-2.0 loosely-timed initiator with a quantum keeper, blocking helpers for
// register and memory accesses, DMI use for memories, and an IRQ input. Users either derive from it and
// override run(), or pass a program (a std::function) that runs in its SC_THREAD.
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "cimsim/soc/irq.hpp"

namespace cimsim {

/// Thrown by the host helpers when a transaction answers an error response.
class TlmError : public std::runtime_error {
 public:
  TlmError(const std::string& what, tlm::tlm_response_status s) : std::runtime_error(what), status(s) {}
  tlm::tlm_response_status status;
};

class HostInitiator : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<HostInitiator> socket;
  IrqIn irq;  ///< optional interrupt input (level)

  using Program = std::function<void(HostInitiator&)>;
  HostInitiator(sc_core::sc_module_name name, Program program = {},
                sc_core::sc_time quantum = sc_core::sc_time(1, sc_core::SC_US));

  // Blocking accesses: throw TlmError on an error response.
  uint32_t read32(uint64_t addr);
  void write32(uint64_t addr, uint32_t value);
  void read(uint64_t addr, void* dst, size_t len);
  void write(uint64_t addr, const void* src, size_t len);
  /// Raw access returning the response status (no throw); `delay` is consumed into the quantum keeper.
  tlm::tlm_response_status transact(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
                                    const uint8_t* byte_enables = nullptr, unsigned be_len = 0);
  /// Debug (zero-time, side-effect-free) access; returns bytes transferred.
  unsigned debug_read(uint64_t addr, void* dst, unsigned len);
  unsigned debug_write(uint64_t addr, const void* src, unsigned len);

  /// Synchronizes and waits until the IRQ line is high (or `timeout` passes). Returns false on timeout.
  bool wait_irq(sc_core::sc_time timeout = sc_core::sc_time(1, sc_core::SC_SEC));
  /// Local time (simulation time + quantum offset).
  sc_core::sc_time local_time() const { return qk_.get_current_time(); }
  void sync() { qk_.sync(); }
  void use_dmi(bool on) { use_dmi_ = on; }
  tlm_utils::tlm_quantumkeeper& quantum_keeper() { return qk_; }

 protected:
  virtual void run();  ///< default: calls the program given at construction

 private:
  void thread();
  bool try_dmi(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len);
  void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);

  Program program_;
  tlm_utils::tlm_quantumkeeper qk_;
  bool use_dmi_ = true;
  std::vector<tlm::tlm_dmi> dmi_;
};

}  // namespace cimsim
