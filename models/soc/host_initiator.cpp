#include "cimsim/soc/host_initiator.hpp"

#include <cstring>

namespace cimsim {

namespace {
std::string hex(uint64_t v) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}
}  // namespace

HostInitiator::HostInitiator(sc_core::sc_module_name name, Program program, sc_core::sc_time quantum)
    : sc_module(name), socket("socket"), irq("irq"), program_(std::move(program)) {
  tlm_utils::tlm_quantumkeeper::set_global_quantum(quantum);
  qk_.reset();
  socket.register_invalidate_direct_mem_ptr(this, &HostInitiator::invalidate_direct_mem_ptr);
  SC_HAS_PROCESS(HostInitiator);
  SC_THREAD(thread);
}

void HostInitiator::thread() {
  run();
  qk_.sync();
}

void HostInitiator::run() {
  if (program_) program_(*this);
}

bool HostInitiator::try_dmi(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len) {
  if (!use_dmi_) return false;
  for (const auto& d : dmi_) {
    if (addr < d.get_start_address() || addr + len - 1 > d.get_end_address()) continue;
    unsigned char* p = d.get_dmi_ptr() + (addr - d.get_start_address());
    if (cmd == tlm::TLM_READ_COMMAND && d.is_read_allowed()) {
      std::memcpy(data, p, len);
      qk_.inc(d.get_read_latency());
    } else if (cmd == tlm::TLM_WRITE_COMMAND && d.is_write_allowed()) {
      std::memcpy(p, data, len);
      qk_.inc(d.get_write_latency());
    } else {
      return false;
    }
    if (qk_.need_sync()) qk_.sync();
    return true;
  }
  return false;
}

tlm::tlm_response_status HostInitiator::transact(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len,
                                                 const uint8_t* byte_enables, unsigned be_len) {
  if (!byte_enables && try_dmi(cmd, addr, data, len)) return tlm::TLM_OK_RESPONSE;
  tlm::tlm_generic_payload gp;
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(data));
  gp.set_data_length(len);
  gp.set_streaming_width(len);
  gp.set_byte_enable_ptr(const_cast<uint8_t*>(byte_enables));
  gp.set_byte_enable_length(be_len);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = qk_.get_local_time();
  socket->b_transport(gp, delay);
  qk_.set(delay);
  if (qk_.need_sync()) qk_.sync();
  if (use_dmi_ && gp.is_dmi_allowed() && gp.is_response_ok()) {
    tlm::tlm_dmi d;
    gp.set_address(addr);
    if (socket->get_direct_mem_ptr(gp, d)) dmi_.push_back(d);
  }
  return gp.get_response_status();
}

uint32_t HostInitiator::read32(uint64_t addr) {
  uint32_t v = 0;
  read(addr, &v, 4);
  return v;
}

void HostInitiator::write32(uint64_t addr, uint32_t value) { write(addr, &value, 4); }

void HostInitiator::read(uint64_t addr, void* dst, size_t len) {
  const auto s = transact(tlm::TLM_READ_COMMAND, addr, dst, static_cast<unsigned>(len));
  if (s != tlm::TLM_OK_RESPONSE)
    throw TlmError(std::string(name()) + ": read of " + std::to_string(len) + " bytes at " + hex(addr) + " failed",
                   s);
}

void HostInitiator::write(uint64_t addr, const void* src, size_t len) {
  const auto s = transact(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(src), static_cast<unsigned>(len));
  if (s != tlm::TLM_OK_RESPONSE)
    throw TlmError(std::string(name()) + ": write of " + std::to_string(len) + " bytes at " + hex(addr) + " failed",
                   s);
}

unsigned HostInitiator::debug_read(uint64_t addr, void* dst, unsigned len) {
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(dst));
  gp.set_data_length(len);
  return socket->transport_dbg(gp);
}

unsigned HostInitiator::debug_write(uint64_t addr, const void* src, unsigned len) {
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(addr);
  gp.set_data_ptr(static_cast<unsigned char*>(const_cast<void*>(src)));
  gp.set_data_length(len);
  return socket->transport_dbg(gp);
}

bool HostInitiator::wait_irq(sc_core::sc_time timeout) {
  qk_.sync();
  if (irq.size() == 0) return false;
  if (irq->read()) return true;
  const sc_core::sc_time deadline = sc_core::sc_time_stamp() + timeout;
  while (!irq->read()) {
    const sc_core::sc_time now = sc_core::sc_time_stamp();
    if (now >= deadline) return false;
    sc_core::wait(deadline - now, irq->value_changed_event());
  }
  qk_.reset();
  return true;
}

void HostInitiator::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
  std::vector<tlm::tlm_dmi> keep;
  for (const auto& d : dmi_)
    if (d.get_end_address() < start || d.get_start_address() > end) keep.push_back(d);
  dmi_.swap(keep);
}

}  // namespace cimsim
