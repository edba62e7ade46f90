#pragma once
// Byte-addressed memory target with DMI, debug transport and byte enables. Latency per access is
// configurable (default 1 cycle at 1 GHz + 1 ns per 8 bytes beyond the first 8).
#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

namespace cimsim {

class Memory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Memory> socket;

  Memory(sc_core::sc_module_name name, uint64_t size_bytes,
         sc_core::sc_time read_latency = sc_core::sc_time(1, sc_core::SC_NS),
         sc_core::sc_time write_latency = sc_core::sc_time(1, sc_core::SC_NS),
         sc_core::sc_time per_beat = sc_core::sc_time(1, sc_core::SC_NS), unsigned beat_bytes = 8);

  uint64_t size() const { return mem_.size(); }
  uint8_t* data() { return mem_.data(); }  ///< backdoor for testbenches
  const uint8_t* data() const { return mem_.data(); }
  void set_dmi_allowed(bool on) { dmi_allowed_ = on; }
  uint64_t bytes_read() const { return bytes_read_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);

  std::vector<uint8_t> mem_;
  sc_core::sc_time read_latency_, write_latency_, per_beat_;
  unsigned beat_bytes_;
  bool dmi_allowed_ = true;
  uint64_t bytes_read_ = 0, bytes_written_ = 0;
};

}  // namespace cimsim
