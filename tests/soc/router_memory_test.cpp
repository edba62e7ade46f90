// Router + Memory + HostInitiator in a small SystemC testbench (one simulation per test process).
#include <gtest/gtest.h>

#include <cstring>

#include "cimsim/soc/host_initiator.hpp"
#include "cimsim/soc/memory.hpp"
#include "cimsim/soc/router.hpp"

using namespace cimsim;

namespace {
struct Soc {
  Router router{"router"};
  Memory mem0{"mem0", 4096};
  Memory mem1{"mem1", 1024};
  HostInitiator host;
  explicit Soc(HostInitiator::Program p) : host("host", std::move(p)) {
    host.socket.bind(router.target_socket);
    router.initiator_socket.bind(mem0.socket);
    router.initiator_socket.bind(mem1.socket);
    router.map(0, 0x1000, 4096, "mem0");
    router.map(1, 0x8000, 1024, "mem1");
  }
};
}  // namespace

TEST(RouterMemory, RoutesWithAddressTranslation) {
  bool done = false;
  Soc soc([&](HostInitiator& h) {
    h.use_dmi(false);
    h.write32(0x1004, 0xA5A5A5A5);
    h.write32(0x8010, 0x12345678);
    EXPECT_EQ(h.read32(0x1004), 0xA5A5A5A5u);
    EXPECT_EQ(h.read32(0x8010), 0x12345678u);
    done = true;
  });
  sc_core::sc_start();
  EXPECT_TRUE(done);
  uint32_t v;
  std::memcpy(&v, soc.mem0.data() + 4, 4);
  EXPECT_EQ(v, 0xA5A5A5A5u);
  std::memcpy(&v, soc.mem1.data() + 0x10, 4);
  EXPECT_EQ(v, 0x12345678u);
}

TEST(RouterMemory, DecodeMissAndOverrunAreAddressErrors) {
  bool done = false;
  Soc soc([&](HostInitiator& h) {
    uint32_t v = 0;
    EXPECT_EQ(h.transact(tlm::TLM_READ_COMMAND, 0x0, &v, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(h.transact(tlm::TLM_READ_COMMAND, 0x1000 + 4094, &v, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_THROW(h.read32(0x9000), TlmError);
    done = true;
  });
  sc_core::sc_start();
  EXPECT_TRUE(done);
}

TEST(RouterMemory, DmiIsTranslatedToGlobalAddresses) {
  bool done = false;
  Soc soc([&](HostInitiator& h) {
    h.write32(0x8020, 7);  // first access goes through b_transport and acquires DMI
    tlm::tlm_generic_payload gp;
    gp.set_address(0x8020);
    gp.set_command(tlm::TLM_READ_COMMAND);
    tlm::tlm_dmi dmi;
    ASSERT_TRUE(h.socket->get_direct_mem_ptr(gp, dmi));
    EXPECT_EQ(dmi.get_start_address(), 0x8000u);
    EXPECT_EQ(dmi.get_end_address(), 0x8000u + 1023);
    EXPECT_EQ(dmi.get_dmi_ptr(), soc.mem1.data());
    h.write32(0x8024, 9);  // served by DMI now
    EXPECT_EQ(h.read32(0x8024), 9u);
    done = true;
  });
  sc_core::sc_start();
  EXPECT_TRUE(done);
  uint32_t v;
  std::memcpy(&v, soc.mem1.data() + 0x24, 4);
  EXPECT_EQ(v, 9u);
}

TEST(RouterMemory, DebugTransportPassesThroughAndMissesReturnZero) {
  bool done = false;
  Soc soc([&](HostInitiator& h) {
    const char msg[] = "hello";
    EXPECT_EQ(h.debug_write(0x1100, msg, 6), 6u);
    char back[6] = {};
    EXPECT_EQ(h.debug_read(0x1100, back, 6), 6u);
    EXPECT_STREQ(back, "hello");
    EXPECT_EQ(h.debug_read(0x0, back, 6), 0u);
    EXPECT_EQ(sc_core::sc_time_stamp(), sc_core::SC_ZERO_TIME);
    done = true;
  });
  sc_core::sc_start();
  EXPECT_TRUE(done);
}

TEST(RouterMemory, ByteEnablesWriteOnlyEnabledBytes) {
  bool done = false;
  Soc soc([&](HostInitiator& h) {
    h.use_dmi(false);
    h.write32(0x1000, 0x11111111);
    uint32_t v = 0x22222222;
    const uint8_t be[4] = {0xFF, 0x00, 0xFF, 0x00};
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, 0x1000, &v, 4, be, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(h.read32(0x1000), 0x11221122u);
    done = true;
  });
  sc_core::sc_start();
  EXPECT_TRUE(done);
}

TEST(RouterMemory, UnconnectedIrqIsTolerated) {
  bool done = false;
  Soc soc([&](HostInitiator& h) {
    EXPECT_FALSE(h.wait_irq(sc_core::sc_time(10, sc_core::SC_NS)));
    done = true;
  });
  sc_core::sc_start();
  EXPECT_TRUE(done);
}

// A foreign initiator's payload with streaming width 0 ("no streaming") reads and writes the memory; a real
// streaming width below the data length is a burst error (the memory is not a FIFO).
TEST(RouterMemory, StreamingWidthZeroIsNoStreaming) {
  struct Init : sc_core::sc_module {
    tlm_utils::simple_initiator_socket<Init> socket{"socket"};
    tlm::tlm_response_status write_sw0 = tlm::TLM_INCOMPLETE_RESPONSE, read_sw0 = write_sw0, sw4 = write_sw0;
    uint8_t back[8] = {};
    SC_HAS_PROCESS(Init);
    explicit Init(sc_core::sc_module_name n) : sc_module(n) { SC_THREAD(run); }
    tlm::tlm_response_status go(tlm::tlm_command c, uint8_t* p, unsigned sw) {
      tlm::tlm_generic_payload gp;
      gp.set_command(c);
      gp.set_address(0x10);
      gp.set_data_ptr(p);
      gp.set_data_length(8);
      gp.set_streaming_width(sw);
      gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
      sc_core::sc_time d = sc_core::SC_ZERO_TIME;
      socket->b_transport(gp, d);
      return gp.get_response_status();
    }
    void run() {
      uint8_t out[8] = {1, 2, 3, 4, 5, 6, 7, 8};
      write_sw0 = go(tlm::TLM_WRITE_COMMAND, out, 0);
      read_sw0 = go(tlm::TLM_READ_COMMAND, back, 0);
      sw4 = go(tlm::TLM_READ_COMMAND, out, 4);
    }
  };
  Init init("init");
  Memory mem("mem", 256);
  init.socket.bind(mem.socket);
  sc_core::sc_start();
  EXPECT_EQ(init.write_sw0, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(init.read_sw0, tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(init.sw4, tlm::TLM_BURST_ERROR_RESPONSE);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(init.back[i], i + 1);
  EXPECT_EQ(mem.data()[0x10 + 7], 8);
}
