// MMIO-to-TLM bridge for the firmware host tests (mmio_bridge.hpp).
#include "mmio_bridge.hpp"

#include <cstring>

#include "cimsim_fw/mmio.h"

namespace fw_test {

namespace {
MmioBridge* g_current = nullptr;
}

MmioBridge* MmioBridge::current() { return g_current; }

MmioBridge::MmioBridge(sc_core::sc_module_name name, std::function<void()> firmware)
    : sc_module(name), socket("socket"), irq0("irq0"), irq1("irq1"), fw_(std::move(firmware)) {
  SC_HAS_PROCESS(MmioBridge);
  SC_THREAD(run);
}

void MmioBridge::run() {
  g_current = this;
  fw_();
  finished_ = true;
  sc_core::sc_stop();  // the accelerator's own clock would keep the simulation going
}

void MmioBridge::access(tlm::tlm_command cmd, uint64_t addr, uint32_t& v) {
  tlm::tlm_generic_payload gp;
  unsigned char buf[4];
  std::memcpy(buf, &v, 4);
  gp.set_command(cmd);
  gp.set_address(addr);
  gp.set_data_ptr(buf);
  gp.set_data_length(4);
  gp.set_streaming_width(0);  // "no streaming", as riscv-vp's ISS sends it
  gp.set_byte_enable_ptr(nullptr);
  gp.set_dmi_allowed(false);
  gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  socket->b_transport(gp, delay);
  ++accesses_;
  if (!gp.is_response_ok()) {
    ++bus_errors_;
    last_error = gp.get_response_string() + " at 0x" + [&] {
      char b[20];
      std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(addr));
      return std::string(b);
    }();
  }
  if (cmd == tlm::TLM_READ_COMMAND) std::memcpy(&v, buf, 4);
  // a CPU access takes at least one 1 GHz cycle: polling loops advance simulated time
  sc_core::wait(delay > sc_core::SC_ZERO_TIME ? delay : sc_core::sc_time(1, sc_core::SC_NS));
}

uint32_t MmioBridge::read32(uint64_t addr) {
  uint32_t v = 0;
  access(tlm::TLM_READ_COMMAND, addr, v);
  return v;
}

void MmioBridge::write32(uint64_t addr, uint32_t value) { access(tlm::TLM_WRITE_COMMAND, addr, value); }

void MmioBridge::wait_irq(cimsim::IrqIn& line, sc_core::sc_time timeout) {
  if (line.size() == 0) {
    sc_core::wait(1, sc_core::SC_US);
    return;
  }
  if (line->read()) return;
  sc_core::wait(timeout, line->posedge_event());
  if (!line->read()) ++irq_timeouts_;
}

extern "C" void fw_test_wait_irq(void* ctx) { g_current->wait_irq(*static_cast<cimsim::IrqIn*>(ctx)); }

}  // namespace fw_test

// The firmware's MMIO hooks (firmware/include/cimsim_fw/mmio.h): the pointer value is the bus address.
extern "C" uint32_t cimsim_fw_mmio_read32(volatile uint32_t* addr) {
  return fw_test::MmioBridge::current()->read32(reinterpret_cast<uintptr_t>(addr));
}
extern "C" void cimsim_fw_mmio_write32(volatile uint32_t* addr, uint32_t value) {
  fw_test::MmioBridge::current()->write32(reinterpret_cast<uintptr_t>(addr), value);
}
