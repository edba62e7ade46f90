#pragma once
// Address router: any number of initiators and targets. Each target port is mapped to one or more address
// windows; addresses are translated to window-relative offsets on the way out and back (DMI regions,
// DMI invalidations). A decode miss answers TLM_ADDRESS_ERROR_RESPONSE (debug: 0 bytes). Passes
// b_transport, transport_dbg and DMI through.
#include <cstdint>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>

namespace cimsim {

class Router : public sc_core::sc_module {
 public:
  tlm_utils::multi_passthrough_target_socket<Router> target_socket;        ///< bind initiators here
  tlm_utils::multi_passthrough_initiator_socket<Router> initiator_socket;  ///< bind targets here

  explicit Router(sc_core::sc_module_name name, sc_core::sc_time hop_latency = sc_core::SC_ZERO_TIME);

  /// Maps [base, base+size) to the target bound at initiator_socket port `port` (binding order, from 0).
  void map(unsigned port, uint64_t base, uint64_t size, std::string name = "");

  struct Window {
    unsigned port;
    uint64_t base, size;
    std::string name;
  };
  const std::vector<Window>& windows() const { return windows_; }

 private:
  const Window* decode(uint64_t addr) const;
  void b_transport(int id, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay);
  unsigned transport_dbg(int id, tlm::tlm_generic_payload& gp);
  bool get_direct_mem_ptr(int id, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi);
  void invalidate_direct_mem_ptr(int port, sc_dt::uint64 start, sc_dt::uint64 end);

  std::vector<Window> windows_;
  sc_core::sc_time hop_;
};

}  // namespace cimsim
