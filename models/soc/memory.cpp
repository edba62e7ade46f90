#include "cimsim/soc/memory.hpp"

#include <cstring>

namespace cimsim {

Memory::Memory(sc_core::sc_module_name name, uint64_t size_bytes, sc_core::sc_time read_latency,
               sc_core::sc_time write_latency, sc_core::sc_time per_beat, unsigned beat_bytes)
    : sc_module(name),
      socket("socket"),
      mem_(size_bytes, 0),
      read_latency_(read_latency),
      write_latency_(write_latency),
      per_beat_(per_beat),
      beat_bytes_(beat_bytes ? beat_bytes : 8) {
  socket.register_b_transport(this, &Memory::b_transport);
  socket.register_transport_dbg(this, &Memory::transport_dbg);
  socket.register_get_direct_mem_ptr(this, &Memory::get_direct_mem_ptr);
}

void Memory::b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
  const uint64_t addr = gp.get_address();
  const unsigned len = gp.get_data_length();
  if (addr >= mem_.size() || len > mem_.size() - addr) {
    gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  const unsigned sw = gp.get_streaming_width();
  if (sw != 0 && sw < len) {  // streaming (FIFO-like) bursts are not supported by a memory
    gp.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  unsigned char* data = gp.get_data_ptr();
  const unsigned char* be = gp.get_byte_enable_ptr();
  const unsigned bel = gp.get_byte_enable_length();
  if (be && bel == 0) {
    gp.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (gp.is_read()) {
    for (unsigned i = 0; i < len; ++i)
      if (!be || be[i % bel] == TLM_BYTE_ENABLED) data[i] = mem_[addr + i];
    delay += read_latency_;
    bytes_read_ += len;
  } else if (gp.is_write()) {
    if (!be) {
      std::memcpy(&mem_[addr], data, len);
    } else {
      for (unsigned i = 0; i < len; ++i)
        if (be[i % bel] == TLM_BYTE_ENABLED) mem_[addr + i] = data[i];
    }
    delay += write_latency_;
    bytes_written_ += len;
  }
  if (len > beat_bytes_) delay += per_beat_ * static_cast<double>((len - 1) / beat_bytes_);
  gp.set_dmi_allowed(dmi_allowed_);
  gp.set_response_status(tlm::TLM_OK_RESPONSE);
}

unsigned Memory::transport_dbg(tlm::tlm_generic_payload& gp) {
  const uint64_t addr = gp.get_address();
  if (addr >= mem_.size()) return 0;
  const unsigned n = static_cast<unsigned>(std::min<uint64_t>(gp.get_data_length(), mem_.size() - addr));
  if (gp.is_read())
    std::memcpy(gp.get_data_ptr(), &mem_[addr], n);
  else if (gp.is_write())
    std::memcpy(&mem_[addr], gp.get_data_ptr(), n);
  return n;
}

bool Memory::get_direct_mem_ptr(tlm::tlm_generic_payload& gp, tlm::tlm_dmi& dmi) {
  if (!dmi_allowed_ || gp.get_address() >= mem_.size()) return false;
  dmi.allow_read_write();
  dmi.set_dmi_ptr(mem_.data());
  dmi.set_start_address(0);
  dmi.set_end_address(mem_.size() - 1);
  dmi.set_read_latency(read_latency_);
  dmi.set_write_latency(write_latency_);
  return true;
}

}  // namespace cimsim
