// MC2RAM macro in foreign SoCs (docs/integration.md): time resolutions 1 ps and 1 ns, a clear error at a
// resolution coarser than the clock, an external clock input, a memory target that calls wait() in
// b_transport, an energy table that goes out of scope before simulation, and a DMA target that never sets the
// response status. One elaboration per test process (gtest_discover_tests).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "cimsim/core/error.hpp"
#include "cimsim/mc2ram/macro.hpp"
#include "cimsim/soc/host_initiator.hpp"
#include "cimsim/soc/memory.hpp"
#include "cimsim/soc/router.hpp"
#include "common.hpp"
#include "reference_check.hpp"

using namespace cimsim;
using namespace cimsim::mc2ram;

namespace {

constexpr uint64_t kMacro = 0x40000000ull, kMem = 0x80000000ull, kMemSize = 1u << 20;

/// A memory target in the style of Accellera's lt_synch_target: it synchronizes (wait) inside b_transport
/// and may leave the response status unset (`set_status = false`).
struct WaitingMemory : sc_core::sc_module {
  tlm_utils::simple_target_socket<WaitingMemory> socket{"socket"};
  std::vector<uint8_t> mem = std::vector<uint8_t>(kMemSize, 0);
  bool set_status = true;
  uint64_t waits = 0;
  WaitingMemory(sc_core::sc_module_name n, uint64_t) : sc_module(n) {
    socket.register_b_transport(this, &WaitingMemory::b_transport);
    socket.register_transport_dbg(this, &WaitingMemory::transport_dbg);
  }
  void b_transport(tlm::tlm_generic_payload& gp, sc_core::sc_time& delay) {
    sc_core::wait(delay);  // only legal from a thread: the initiator must call from SC_THREAD context
    delay = sc_core::SC_ZERO_TIME;
    sc_core::wait(3, sc_core::SC_NS);
    ++waits;
    const uint64_t a = gp.get_address();
    if (a + gp.get_data_length() > mem.size()) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (gp.is_write()) std::memcpy(&mem[a], gp.get_data_ptr(), gp.get_data_length());
    if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &mem[a], gp.get_data_length());
    if (set_status) gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  unsigned transport_dbg(tlm::tlm_generic_payload& gp) {
    const uint64_t a = gp.get_address();
    if (a >= mem.size()) return 0;
    const unsigned n = static_cast<unsigned>(std::min<uint64_t>(gp.get_data_length(), mem.size() - a));
    if (gp.is_write()) std::memcpy(&mem[a], gp.get_data_ptr(), n);
    if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &mem[a], n);
    return n;
  }
};

template <class Mem>
struct Rig {
  Router router{"router"};
  Mem mem;
  std::unique_ptr<Macro> macro;
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> irq{"irq"};
  HostInitiator host;
  SampleResult result;
  std::string error;
  Rig(Level level, const EnergyTable& table, const SampleJob& job, std::function<void(Rig&)> after = {})
      : mem("mem", kMemSize),
        macro(std::make_unique<Macro>("mc2ram", level, table)),
        host("host", [this, job, after](HostInitiator& h) {
          try {
            result = run_mh(h, kMacro, job, kMem, nullptr);
          } catch (const std::exception& e) {
            error = e.what();
          }
          if (after) after(*this);
        }) {
    host.socket.bind(router.target_socket);
    macro->dma.bind(router.target_socket);
    router.initiator_socket.bind(macro->socket);
    router.initiator_socket.bind(mem.socket);
    router.map(0, kMacro, reg::kMapSize, "mc2ram");
    router.map(1, kMem, kMemSize, "mem");
    macro->irq.bind(irq);
    host.irq.bind(irq);
  }
};

SampleJob job(int chains, uint32_t samples, bool dma) {
  SampleJob j;
  j.gmm = diag::Gmm::paper_default();
  j.chains = chains;
  j.samples = samples;
  j.seed = 5;
  j.use_dma = dma;
  return j;
}

void run_and_check(Level level, bool dma, bool check_cycles) {
  const SampleJob j = job(2, 300, dma);
  Rig<Memory> rig(level, mc2ram_test::table(), j);
  sc_core::sc_start();
  ASSERT_TRUE(rig.error.empty()) << rig.error;
  mc2ram_test::expect_result_matches_reference(j, rig.result, check_cycles);
}

}  // namespace

TEST(Mc2ramClocking, CycleLevelAt1psResolution) {
  sc_core::sc_set_time_resolution(1, sc_core::SC_PS);
  run_and_check(Level::Cycle, true, true);
}

TEST(Mc2ramClocking, CycleLevelAt1nsResolutionDma) {
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  run_and_check(Level::Cycle, true, true);
}

TEST(Mc2ramClocking, CycleLevelAt1nsResolutionFifo) {
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  run_and_check(Level::Cycle, false, false);
}

TEST(Mc2ramClocking, LtAt1nsResolution) {
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  run_and_check(Level::LT, false, true);
}

TEST(Mc2ramClocking, ResolutionCoarserThanTheClockIsAClearError) {
  sc_core::sc_set_time_resolution(10, sc_core::SC_NS);  // 1 GHz clock: 1 ns period is not representable
  try {
    Macro m("mc2ram", Level::Cycle, mc2ram_test::table());
    FAIL() << "constructed a macro whose clock period rounds at this resolution";
  } catch (const ConfigError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("time resolution 10 ns"), std::string::npos) << msg;
    EXPECT_NE(msg.find("clock period 1 ns"), std::string::npos) << msg;
    EXPECT_NE(msg.find("sc_set_time_resolution"), std::string::npos) << msg;
  }
}

// The cycle-level DMA is issued from a thread: a memory that calls wait() in b_transport works, bit-exact.
TEST(Mc2ramClocking, CycleLevelWithAWaitingMemoryTarget) {
  const SampleJob j = job(2, 300, true);
  Rig<WaitingMemory> rig(Level::Cycle, mc2ram_test::table(), j);
  sc_core::sc_start();
  ASSERT_TRUE(rig.error.empty()) << rig.error;
  EXPECT_GT(rig.mem.waits, 0u);
  mc2ram_test::expect_result_matches_reference(j, rig.result, true);
}

TEST(Mc2ramClocking, LtWithAWaitingMemoryTarget) {
  const SampleJob j = job(2, 300, true);
  Rig<WaitingMemory> rig(Level::LT, mc2ram_test::table(), j);
  sc_core::sc_start();
  ASSERT_TRUE(rig.error.empty()) << rig.error;
  EXPECT_GT(rig.mem.waits, 0u);
  mc2ram_test::expect_result_matches_reference(j, rig.result, true);
}

// With `clk` bound, the FSM advances on that clock's rising edges: a 2 ns clock doubles the busy time of a
// 1 GHz own clock, with the same samples and cycle count.
TEST(Mc2ramClocking, ExternalClockInputDrivesTheCycleLevel) {
  const SampleJob j = job(1, 200, false);
  sc_core::sc_clock clk("soc_clk", sc_core::sc_time(2, sc_core::SC_NS));
  Rig<Memory> rig(Level::Cycle, mc2ram_test::table(), j, [](auto&) { sc_core::sc_stop(); });
  rig.macro->clk.bind(clk);
  sc_core::sc_start();
  ASSERT_TRUE(rig.error.empty()) << rig.error;
  mc2ram_test::expect_result_matches_reference(j, rig.result, false);
  // the run took at least cycles * 2 ns of simulated time
  EXPECT_GE(rig.result.sim_seconds, rig.result.cycles * 2e-9);
}

TEST(Mc2ramClocking, EnergyTableMayGoOutOfScopeBeforeSimulation) {
  const SampleJob j = job(1, 100, true);
  auto table = std::make_unique<EnergyTable>(EnergyTable::load_default());
  Rig<Memory> rig(Level::Cycle, *table, j);
  const uint64_t fp = table->fingerprint();
  table.reset();  // the macro owns a copy
  EXPECT_EQ(rig.macro->energy_table().fingerprint(), fp);
  sc_core::sc_start();
  ASSERT_TRUE(rig.error.empty()) << rig.error;
  mc2ram_test::expect_result_matches_reference(j, rig.result, true);
  EXPECT_GT(rig.result.energy_aj.at("total"), 0);
}

// A DMA target that returns without setting the response status is reported with its own error code.
TEST(Mc2ramClocking, DmaResponseLeftIncompleteHasItsOwnErrorCode) {
  const SampleJob j = job(1, 100, true);
  uint32_t status = 0;
  Rig<WaitingMemory> rig(Level::Cycle, mc2ram_test::table(), j, [&status](auto& r) {
    status = static_cast<uint32_t>(r.host.read32(kMacro + reg::STATUS));
  });
  rig.mem.set_status = false;
  sc_core::sc_start();
  EXPECT_NE(rig.error.find("error code 8"), std::string::npos) << rig.error;
  EXPECT_EQ((status >> 8) & 0xFF, static_cast<uint32_t>(reg::ERR_DMA_INCOMPLETE));
}
