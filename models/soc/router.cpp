#include "cimsim/soc/router.hpp"

#include <stdexcept>

namespace cimsim {

Router::Router(sc_core::sc_module_name name, sc_core::sc_time hop_latency)
    : sc_module(name), target_socket("target_socket"), initiator_socket("initiator_socket"), hop_(hop_latency) {
  target_socket.register_b_transport(this, &Router::b_transport);
  target_socket.register_transport_dbg(this, &Router::transport_dbg);
  target_socket.register_get_direct_mem_ptr(this, &Router::get_direct_mem_ptr);
  initiator_socket.register_invalidate_direct_mem_ptr(this, &Router::invalidate_direct_mem_ptr);
}

void Router::map(unsigned port, uint64_t base, uint64_t size, std::string name) {
  if (size == 0) throw std::invalid_argument(std::string(this->name()) + ": window " + name + " has size 0");
  for (const auto& w : windows_)
    if (base < w.base + w.size && w.base < base + size)
      throw std::invalid_argument(std::string(this->name()) + ": window " + name + " overlaps " + w.name);
  windows_.push_back({port, base, size, std::move(name)});
}

const Router::Window* Router::decode(uint64_t addr) const {
  for (const auto& w : windows_)
    if (addr >= w.base && addr - w.base < w.size) return &w;
  return nullptr;
}

void Router::b_transport(int, tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t addr = gp.get_address();
  const Window* w = decode(addr);
  if (!w || gp.get_data_length() > w->size - (addr - w->base) || w->port >= initiator_socket.size()) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  gp.set_address(addr - w->base);
  delay += hop_;
  initiator_socket[w->port]->b_transport(gp, delay);
  gp.set_address(addr);
}

unsigned Router::transport_dbg(int, tlm::tlm_generic_payload& gp) {
  const uint64_t addr = gp.get_address();
  const Window* w = decode(addr);
  if (!w || w->port >= initiator_socket.size()) return 0;
  const unsigned len = gp.get_data_length();
  const uint64_t room = w->size - (addr - w->base);
  if (len > room) gp.set_data_length(static_cast<unsigned>(room));
  gp.set_address(addr - w->base);
  const unsigned n = initiator_socket[w->port]->transport_dbg(gp);
  gp.set_address(addr);
  gp.set_data_length(len);
  return n;
}

bool Router::get_direct_mem_ptr(int, tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  const uint64_t addr = gp.get_address();
  const Window* w = decode(addr);
  if (!w || w->port >= initiator_socket.size()) return false;
  gp.set_address(addr - w->base);
  const bool ok = initiator_socket[w->port]->get_direct_mem_ptr(gp, dmi);
  gp.set_address(addr);
  // Translate back to global addresses and clip to the window.
  uint64_t start = dmi.get_start_address() + w->base;
  uint64_t end = dmi.get_end_address() + w->base;
  if (end > w->base + w->size - 1) end = w->base + w->size - 1;
  if (start < w->base) {
    if (dmi.get_dmi_ptr()) dmi.set_dmi_ptr(dmi.get_dmi_ptr() + (w->base - start));
    start = w->base;
  }
  dmi.set_start_address(start);
  dmi.set_end_address(end);
  return ok;
}

void Router::invalidate_direct_mem_ptr(int port, sc_dt::uint64 start, sc_dt::uint64 end) {
  for (const auto& w : windows_) {
    if (static_cast<int>(w.port) != port) continue;
    const uint64_t s = w.base + start;
    const uint64_t e = (end >= w.size - 1) ? w.base + w.size - 1 : w.base + end;
    for (unsigned i = 0; i < target_socket.size(); ++i) target_socket[i]->invalidate_direct_mem_ptr(s, e);
  }
}

}  // namespace cimsim
