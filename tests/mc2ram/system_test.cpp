// MC2RAM SystemC system: both levels bit-exact with the independent reference (so LT == cycle), cycle
// counts, FIFO mode, VCD, energy counters, register bus errors. One elaboration per test process.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

#include "cimsim/soc/host_initiator.hpp"
#include "cimsim/soc/memory.hpp"
#include "cimsim/soc/router.hpp"
#include "common.hpp"
#include "reference_check.hpp"
#include "mc2ram/system.hpp"

using namespace cimsim;
using namespace cimsim::mc2ram;
using mc2ram_test::ref_config;

namespace {

SampleJob paper_job(int chains, uint32_t samples) {
  SampleJob j;
  j.gmm = diag::Gmm::paper_default();
  j.chains = chains;
  j.samples = samples;
  j.seed = 11;
  return j;
}

void expect_matches_reference(const SampleJob& j, const SystemRun& r, bool check_cycles) {
  ASSERT_TRUE(r.error.empty()) << r.error;
  mc2ram_test::expect_result_matches_reference(j, r.result, check_cycles);
}

/// A bare system for register-level tests.
struct Bare {
  Router router{"router"};
  Memory mem{"mem", 4096};
  Macro macro;
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> irq{"irq"};
  HostInitiator host;
  Bare(Level level, HostInitiator::Program p)
      : macro("mc2ram", level, mc2ram_test::table()), host("host", std::move(p)) {
    host.socket.bind(router.target_socket);
    macro.dma.bind(router.target_socket);
    router.initiator_socket.bind(macro.socket);
    router.initiator_socket.bind(mem.socket);
    router.map(0, kMacroBase, reg::kMapSize, "mc2ram");
    router.map(1, kMemBase, 4096, "mem");
    macro.irq.bind(irq);
    host.irq.bind(irq);
  }
};

}  // namespace

TEST(Mc2ramSystem, LtIsBitExactWithReference) {
  const SampleJob j = paper_job(4, 1500);
  const SystemRun r = run_system(j, Level::LT);
  expect_matches_reference(j, r, true);
}

TEST(Mc2ramSystem, CycleLevelIsBitExactWithReferenceIncludingCycles) {
  const SampleJob j = paper_job(4, 1500);
  const SystemRun r = run_system(j, Level::Cycle);
  expect_matches_reference(j, r, true);
}

TEST(Mc2ramSystem, CycleLevelK8D8NonDefaultConvertersIsBitExact) {
  SampleJob j = paper_job(2, 300);
  j.gmm = mc2ram_test::random_gmm(8, 8, 9);
  j.knobs.adc_bits = 11;
  j.knobs.dac_bits = 13;
  j.knobs.rng_bits = 18;
  const SystemRun r = run_system(j, Level::Cycle);
  expect_matches_reference(j, r, true);
}

TEST(Mc2ramSystem, CycleLevelFifoModeGivesTheSameSamples) {
  SampleJob j = paper_job(3, 400);
  j.use_dma = false;
  const SystemRun r = run_system(j, Level::Cycle);
  // FIFO back-pressure may add stall cycles: samples and accept counts must still match.
  expect_matches_reference(j, r, false);
  EXPECT_GE(r.result.cycles, 400u * 3);
}

TEST(Mc2ramSystem, LtFifoModeGivesTheSameSamples) {
  SampleJob j = paper_job(2, 300);
  j.use_dma = false;
  const SystemRun r = run_system(j, Level::LT);
  expect_matches_reference(j, r, true);
}

TEST(Mc2ramSystem, LtFifoModeCountsStallCyclesLikeTheCycleLevel) {
  // 4 chains x 2 words per ~4 cycles outpace the host's FIFO reads: the lanes stall. The cycle level counts
  // the stall cycles; the LT model must too (issue 11: it used to report only the datapath cycles). The cycle
  // level runs in a forked child (one elaboration per process), the LT model here.
  SampleJob j = paper_job(4, 1500);
  j.use_dma = false;
  int fd[2];
  ASSERT_EQ(::pipe(fd), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fd[0]);
    const SystemRun r = run_system(j, Level::Cycle);
    const uint64_t c = r.error.empty() ? r.result.cycles : 0;
    const ssize_t w = ::write(fd[1], &c, sizeof c);
    ::_exit(w == sizeof c ? 0 : 1);
  }
  ::close(fd[1]);
  uint64_t cycle_level = 0;
  const ssize_t got = ::read(fd[0], &cycle_level, sizeof cycle_level);
  ::close(fd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_EQ(got, static_cast<ssize_t>(sizeof cycle_level));
  ASSERT_GT(cycle_level, 0u);
  const SystemRun r = run_system(j, Level::LT);
  ASSERT_TRUE(r.error.empty()) << r.error;
  // Without stalls (DMA mode / the reference) the run would take init + the longest lane's iterations.
  const Compiled c = compile_gmm(j.gmm, j.compile);
  const auto ref = mc2ram_ref::run_reference(
      ref_config(c, j.knobs, j.chains, j.samples, j.seed, initial_states(j.gmm, c, j.chains)));
  EXPECT_GT(cycle_level, ref.cycles + ref.cycles / 4) << "the cycle level should stall in this setup";
  // Within 1 % of the cycle level (LT visits lanes round-robin and wakes on the pop, the cycle level retries
  // every clock; measured 0.1-0.3 %).
  EXPECT_NEAR(static_cast<double>(r.result.cycles), static_cast<double>(cycle_level), 0.01 * cycle_level)
      << "LT " << r.result.cycles << " vs cycle " << cycle_level << " (no-stall " << ref.cycles << ")";
  expect_matches_reference(j, r, false);  // the samples are still bit-exact
}

TEST(Mc2ramSystem, CycleLevelVcdHasTheDocumentedSignals) {
  const SampleJob j = paper_job(1, 50);
  const std::string dir = std::filesystem::temp_directory_path() / "cimsim_mc2ram_vcd_test";
  std::filesystem::create_directories(dir);
  const SystemRun r = run_system(j, Level::Cycle, dir + "/t");
  ASSERT_TRUE(r.error.empty()) << r.error;
  ASSERT_TRUE(std::filesystem::exists(r.vcd_file));
  std::ifstream f(r.vcd_file);
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  for (const char* s : {"clk", "stage", "prop0", "prop1", "logp_prop", "logp_cur", "log_u", "accept", "sample_valid"})
    EXPECT_NE(text.find(s), std::string::npos) << s;
  EXPECT_NE(text.find("#"), std::string::npos);
}

TEST(Mc2ramSystem, EnergyCountersEqualTheDatapathLedger) {
  const SampleJob j = paper_job(2, 700);
  const SystemRun r = run_system(j, Level::LT);
  ASSERT_TRUE(r.error.empty()) << r.error;
  const Compiled c = compile_gmm(j.gmm, j.compile);
  const auto f = run_functional(c.program, j.knobs, j.chains, j.samples, j.seed, initial_states(j.gmm, c, j.chains),
                                EnergyModel::from_table(mc2ram_test::table(), j.knobs.vdd));
  for (const char* p : kParts) EXPECT_EQ(r.result.energy_aj.at(p), f.ledger.component_aj(p)) << p;
  EXPECT_EQ(r.result.energy_aj.at("total"), f.ledger.total_aj());
  EXPECT_EQ(r.result.cycles, f.cycles);
}

TEST(Mc2ramSystem, BadRegisterAccessesAnswerTlmErrors) {
  bool done = false;
  Bare sys(Level::Cycle, [&](HostInitiator& h) {
    h.use_dmi(false);
    const uint64_t b = kMacroBase;
    uint32_t v = 0;
    EXPECT_EQ(h.read32(b + reg::ID), reg::kIdValue);
    EXPECT_EQ(h.transact(tlm::TLM_READ_COMMAND, b + 0x0FC, &v, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);   // hole
    EXPECT_EQ(h.transact(tlm::TLM_READ_COMMAND, b + 0x006, &v, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);   // misaligned
    v = 1;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::ID, &v, 4), tlm::TLM_COMMAND_ERROR_RESPONSE);  // RO
    uint16_t half = 0;
    EXPECT_EQ(h.transact(tlm::TLM_READ_COMMAND, b + reg::CTRL, &half, 2), tlm::TLM_BURST_ERROR_RESPONSE);
    v = 0;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::CHAINS, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    v = 9;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::CHAINS, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    v = 9 | (2 << 8);  // K = 9 beyond the array
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::GMM_CFG, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    v = 2 | (9 << 8);  // D = 9
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::GMM_CFG, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    v = 13;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::ADC_CFG, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    v = 0;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::SAMPLES, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    v = 400;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::VDD_MV, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    // GMM window: beyond a component's 81 words, partial byte enables, wrong width.
    EXPECT_EQ(h.transact(tlm::TLM_READ_COMMAND, b + reg::GMM_WINDOW + 4 * reg::kCompWords, &v, 4), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    const uint8_t be[4] = {0xFF, 0, 0, 0};
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::GMM_WINDOW, &v, 4, be, 4),
              tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    uint64_t wide = 0;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::GMM_WINDOW, &wide, 8), tlm::TLM_BURST_ERROR_RESPONSE);
    // Debug access: side-effect free reads of registers and the window.
    uint32_t id = 0;
    EXPECT_EQ(h.debug_read(b + reg::ID, &id, 4), 4u);
    EXPECT_EQ(id, reg::kIdValue);
    const uint32_t w = 0x55;
    EXPECT_EQ(h.debug_write(b + reg::GMM_WINDOW + 8, &w, 4), 4u);
    EXPECT_EQ(h.read32(b + reg::GMM_WINDOW + 8), 0x55u);
    // A weight beyond WEIGHT_BITS: START answers OK but sets the error code and the ERROR interrupt.
    h.write32(b + reg::WEIGHT_BITS, 4);
    h.write32(b + reg::GMM_WINDOW, 100);
    h.write32(b + reg::PROP_SCALE, 1000);
    h.write32(b + reg::IRQ_ENABLE, reg::IRQ_ERROR);
    h.write32(b + reg::CTRL, reg::CTRL_START);
    const uint32_t st = h.read32(b + reg::STATUS);
    EXPECT_EQ((st >> 8) & 0xFF, reg::ERR_WEIGHT_RANGE);
    EXPECT_EQ(st & reg::STATUS_BUSY, 0u);
    EXPECT_TRUE(h.wait_irq(sc_core::sc_time(1, sc_core::SC_US)));
    EXPECT_EQ(h.read32(b + reg::IRQ_STATUS) & reg::IRQ_ERROR, reg::IRQ_ERROR);
    h.write32(b + reg::IRQ_STATUS, reg::IRQ_ERROR);  // W1C
    EXPECT_EQ(h.read32(b + reg::IRQ_STATUS) & reg::IRQ_ERROR, 0u);
    // A good start; writes while busy are rejected.
    h.write32(b + reg::GMM_WINDOW, 3);
    h.write32(b + reg::SAMPLES, 100);
    h.write32(b + reg::CTRL, reg::CTRL_START);
    EXPECT_EQ(h.read32(b + reg::STATUS) & reg::STATUS_BUSY, reg::STATUS_BUSY);
    v = 2;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::CHAINS, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::GMM_WINDOW, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    v = reg::CTRL_START;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, b + reg::CTRL, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    // FIFO mode: samples arrive; a debug read does not pop, a bus read does.
    h.sync();
    sc_core::wait(sc_core::sc_time(200, sc_core::SC_NS));
    const uint32_t lvl = h.read32(b + reg::FIFO_LEVEL);
    EXPECT_GT(lvl, 0u);
    uint32_t peek = 0;
    h.debug_read(b + reg::FIFO_DATA, &peek, 4);
    EXPECT_EQ(h.read32(b + reg::FIFO_LEVEL), lvl);
    EXPECT_EQ(h.read32(b + reg::FIFO_DATA), peek);
    EXPECT_EQ(h.read32(b + reg::FIFO_LEVEL), lvl - 1);
    h.write32(b + reg::CTRL, reg::CTRL_RESET);  // abort
    EXPECT_EQ(h.read32(b + reg::STATUS) & reg::STATUS_BUSY, 0u);
    done = true;
  });
  sc_core::sc_start();
  EXPECT_TRUE(done);
}

// ---- issue 10: register writes alone must never crash the macro or run on an invalid program
namespace {
/// Programs K=2, D=2 with valid defaults, applies `poke`, STARTs and returns STATUS (after the run, if any).
uint32_t start_after(Level level, const std::function<void(HostInitiator&, uint64_t)>& poke) {
  uint32_t status = 0xFFFFFFFFu;
  Bare sys(level, [&](HostInitiator& h) {
    const uint64_t b = kMacroBase;
    h.write32(b + reg::GMM_CFG, 2 | (2 << 8));
    h.write32(b + reg::PROP_SCALE, 1000);
    h.write32(b + reg::SAMPLES, 20);
    h.write32(b + reg::CHAINS, 1);
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < 2; ++i) h.write32(b + reg::GMM_WINDOW + c * reg::kCompStride + 4 * (i * 8 + i), 16);
    poke(h, b);
    h.write32(b + reg::CTRL, reg::CTRL_START);
    for (int t = 0; t < 1000 && (h.read32(b + reg::STATUS) & reg::STATUS_BUSY); ++t) {
      h.sync();
      sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
    }
    status = h.read32(b + reg::STATUS);
  });
  sc_core::sc_start();
  return status;
}
}  // namespace

TEST(Mc2ramSystem, ExtremeComponentConstantsEndInAConfigErrorNotACrash) {
  // Found by the robustness pass: c_0 = -1, c_1 = INT32_MAX overflowed the log-sum-exp difference into a negative
  // LUT index (segfault).
  const uint32_t st = start_after(Level::Cycle, [](HostInitiator& h, uint64_t b) {
    h.write32(b + reg::GMM_WINDOW + 4 * reg::kWordC, 0xFFFFFFFFu);
    h.write32(b + reg::GMM_WINDOW + reg::kCompStride + 4 * reg::kWordC, 0x7FFFFFFFu);
  });
  EXPECT_EQ((st >> 8) & 0xFF, reg::ERR_CONFIG);
  EXPECT_EQ(st & reg::STATUS_DONE, 0u);
}

TEST(Mc2ramSystem, Int32MinWeightIsOutOfRange) {
  // std::abs(INT32_MIN) is negative: the old range check let it through and the run finished DONE.
  const uint32_t st = start_after(Level::LT, [](HostInitiator& h, uint64_t b) {
    h.write32(b + reg::GMM_WINDOW + 4 * 1, 0x80000000u);
  });
  EXPECT_EQ((st >> 8) & 0xFF, reg::ERR_WEIGHT_RANGE);
  EXPECT_EQ(st & reg::STATUS_DONE, 0u);
}

TEST(Mc2ramSystem, YScaleInt32MinIsRejected) {
  bool ran = false;
  Bare sys(Level::LT, [&](HostInitiator& h) {
    uint32_t v = 0x80000000u;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, kMacroBase + reg::Y_SCALE, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    v = static_cast<uint32_t>(-64);
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, kMacroBase + reg::Y_SCALE, &v, 4), tlm::TLM_OK_RESPONSE);
    v = 65;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, kMacroBase + reg::Y_SCALE, &v, 4), tlm::TLM_GENERIC_ERROR_RESPONSE);
    ran = true;
  });
  sc_core::sc_start();
  EXPECT_TRUE(ran);
}

// ---- issue 24: register contracts
// A DMA error used to leave the macro sampling with STATUS BUSY and no error until the run ended (about 1.8 h
// for 2^32 - 1 samples); docs/integration.md says the error ends the run.
class Mc2ramDmaError : public ::testing::TestWithParam<Level> {};
TEST_P(Mc2ramDmaError, TheFirstDmaErrorEndsTheRunWithTheErrorInStatus) {
  uint32_t st = 0xFFFFFFFFu;
  Bare sys(GetParam(), [&](HostInitiator& h) {
    const uint64_t b = kMacroBase;
    h.write32(b + reg::GMM_CFG, 2 | (2 << 8));
    h.write32(b + reg::PROP_SCALE, 1000);
    h.write32(b + reg::SAMPLES, 0xFFFFFFFFu);
    h.write32(b + reg::CHAINS, 2);
    for (int c = 0; c < 2; ++c)
      for (int i = 0; i < 2; ++i) h.write32(b + reg::GMM_WINDOW + c * reg::kCompStride + 4 * (i * 8 + i), 16);
    h.write32(b + reg::DMA_ADDR_HI, 0xFFFFu);  // nothing is mapped there
    h.write32(b + reg::DMA_ADDR_LO, 0);
    h.write32(b + reg::CTRL, reg::CTRL_START | reg::CTRL_DMA_EN);
    for (int t = 0; t < 200 && (h.read32(b + reg::STATUS) & reg::STATUS_BUSY); ++t) {
      h.sync();
      sc_core::wait(sc_core::sc_time(1, sc_core::SC_US));
    }
    st = h.read32(b + reg::STATUS);
  });
  sc_core::sc_start();
  EXPECT_EQ(st & reg::STATUS_BUSY, 0u) << "still sampling 200 us after the DMA error";
  EXPECT_EQ((st >> 8) & 0xFF, reg::ERR_DMA);
  EXPECT_EQ(st & reg::STATUS_DONE, reg::STATUS_DONE);
}
INSTANTIATE_TEST_SUITE_P(Levels, Mc2ramDmaError, ::testing::Values(Level::LT, Level::Cycle),
                         [](const auto& i) { return std::string(i.param == Level::LT ? "Lt" : "Cycle"); });

// DMA_ADDR_LO dropped bits 1:0 and answered OK; docs/mc2ram.md documents an error response.
TEST(Mc2ramSystem, UnalignedDmaAddressIsAnErrorNotRounded) {
  bool ran = false;
  Bare sys(Level::LT, [&](HostInitiator& h) {
    uint32_t v = 0x1002;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, kMacroBase + reg::DMA_ADDR_LO, &v, 4),
              tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_EQ(h.read32(kMacroBase + reg::DMA_ADDR_LO), 0u);  // unchanged
    v = 0x1001;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, kMacroBase + reg::DMA_ADDR_LO, &v, 4),
              tlm::TLM_GENERIC_ERROR_RESPONSE);
    v = 0x1004;
    EXPECT_EQ(h.transact(tlm::TLM_WRITE_COMMAND, kMacroBase + reg::DMA_ADDR_LO, &v, 4), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(h.read32(kMacroBase + reg::DMA_ADDR_LO), 0x1004u);
    ran = true;
  });
  sc_core::sc_start();
  EXPECT_TRUE(ran);
}
