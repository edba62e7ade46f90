// Accelerator register map: one behaviour per test (each test is its own process: one SystemC elaboration).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "soc_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using namespace cimsim::accel::testing;

namespace {

/// Runs `body` on the host of a fresh LT SoC.
template <typename F>
void with_soc(F body, Level level = Level::Lt) {
  AcceleratorSoc soc("soc", soc_config(level), table());
  bool ran = false;
  soc.run([&](AcceleratorDriver& d) {
    body(soc, d);
    ran = true;
  });
  EXPECT_TRUE(ran);
}

/// One small valid layer, uploaded; returns the descriptor table address.
uint64_t one_layer(AcceleratorDriver& d) {
  const LayerParams p = random_layer(conv(1, 4, 5, 5, 4, 3, 1, 1), Op::MAC8, Mode::Digital, 7);
  const uint64_t in = d.scratch().alloc(p.shape.input_elems());
  const uint64_t out = d.scratch().alloc(p.shape.outputs());
  return d.write_descriptors({d.make_descriptor(p, in, out)});
}

}  // namespace

TEST(AccelRegs, ResetValues) {
  with_soc([](AcceleratorSoc&, AcceleratorDriver& d) {
    EXPECT_EQ(d.read_reg(reg::ID), kIdValue);
    EXPECT_EQ(d.read_reg(reg::VERSION), kVersionValue);
    EXPECT_EQ(d.read_reg(reg::CTRL), 0u);
    EXPECT_EQ(d.read_reg(reg::STATUS), 0u);
    EXPECT_EQ(d.read_reg(reg::DESC_ADDR_LO), 0u);
    EXPECT_EQ(d.read_reg(reg::DESC_ADDR_HI), 0u);
    EXPECT_EQ(d.read_reg(reg::LAYER_COUNT), 1u);
    EXPECT_EQ(d.read_reg(reg::IRQ_ENABLE), 0u);
    EXPECT_EQ(d.read_reg(reg::IRQ_STATUS), 0u);
    EXPECT_EQ(d.read_reg(reg::PERF_SEL), kPerfWholeRun);
    EXPECT_EQ(d.read_reg(reg::CYCLES_LO), 0u);
    EXPECT_EQ(d.read_reg(reg::ENERGY_HI), 0u);
    for (size_t g = 0; g < energy_register_groups().size(); ++g)
      EXPECT_EQ(d.read_reg(energy_comp_lo(static_cast<int>(g))), 0u);
  });
}

TEST(AccelRegs, WriteToReadOnlyIsCommandError) {
  with_soc([](AcceleratorSoc& soc, AcceleratorDriver& d) {
    EXPECT_EQ(reg_write(soc, reg::ID, 0x1234), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(reg_write(soc, reg::STATUS, 0xFF), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(reg_write(soc, reg::CYCLES_LO, 1), tlm::TLM_COMMAND_ERROR_RESPONSE);
    EXPECT_EQ(d.read_reg(reg::ID), kIdValue);
    EXPECT_EQ(d.read_reg(reg::STATUS), 0u);
  });
}

TEST(AccelRegs, UnmappedOrMisalignedOffsetIsAddressError) {
  with_soc([](AcceleratorSoc& soc, AcceleratorDriver&) {
    uint32_t v = 0;
    EXPECT_EQ(reg_read(soc, 0x034, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);  // hole
    EXPECT_EQ(reg_read(soc, 0xFFC, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(reg_read(soc, reg::STATUS + 2, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
    EXPECT_EQ(reg_write(soc, 0x070, 1), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  });
}

TEST(AccelRegs, AccessWidthOtherThanFourBytesIsBurstError) {
  with_soc([](AcceleratorSoc& soc, AcceleratorDriver&) {
    uint8_t b[8] = {};
    const uint64_t a = soc.config().csr_base + reg::LAYER_COUNT;
    EXPECT_EQ(soc.host().transact(tlm::TLM_READ_COMMAND, a, b, 2), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(soc.host().transact(tlm::TLM_READ_COMMAND, a, b, 8), tlm::TLM_BURST_ERROR_RESPONSE);
    EXPECT_EQ(soc.host().transact(tlm::TLM_WRITE_COMMAND, a, b, 1), tlm::TLM_BURST_ERROR_RESPONSE);
  });
}

TEST(AccelRegs, PartialByteEnablesAreRejected) {
  with_soc([](AcceleratorSoc& soc, AcceleratorDriver& d) {
    uint32_t v = 0x00000005;
    const uint8_t be[4] = {0xFF, 0x00, 0x00, 0x00};
    EXPECT_EQ(soc.host().transact(tlm::TLM_WRITE_COMMAND, soc.config().csr_base + reg::LAYER_COUNT, &v, 4, be, 4),
              tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    EXPECT_EQ(d.read_reg(reg::LAYER_COUNT), 1u);
    const uint8_t all[4] = {0xFF, 0xFF, 0xFF, 0xFF};
    EXPECT_EQ(soc.host().transact(tlm::TLM_WRITE_COMMAND, soc.config().csr_base + reg::LAYER_COUNT, &v, 4, all, 4),
              tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(d.read_reg(reg::LAYER_COUNT), 5u);
  });
}

TEST(AccelRegs, LayerCountOutOfRangeIsGenericError) {
  with_soc([](AcceleratorSoc& soc, AcceleratorDriver& d) {
    EXPECT_EQ(reg_write(soc, reg::LAYER_COUNT, 0), tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_EQ(reg_write(soc, reg::LAYER_COUNT, kMaxLayers + 1), tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_EQ(d.read_reg(reg::LAYER_COUNT), 1u);
    EXPECT_EQ(reg_write(soc, reg::LAYER_COUNT, kMaxLayers), tlm::TLM_OK_RESPONSE);
    EXPECT_EQ(d.read_reg(reg::LAYER_COUNT), kMaxLayers);
  });
}

TEST(AccelRegs, MisalignedDescriptorAddressIsGenericError) {
  with_soc([](AcceleratorSoc& soc, AcceleratorDriver& d) {
    EXPECT_EQ(reg_write(soc, reg::DESC_ADDR_LO, 0x1004), tlm::TLM_GENERIC_ERROR_RESPONSE);
    EXPECT_EQ(d.read_reg(reg::DESC_ADDR_LO), 0u);
    EXPECT_EQ(reg_write(soc, reg::DESC_ADDR_LO, 0x1008), tlm::TLM_OK_RESPONSE);
  });
}

TEST(AccelRegs, IrqStatusIsWriteOneToClear) {
  with_soc([](AcceleratorSoc& soc, AcceleratorDriver& d) {
    const uint64_t t = one_layer(d);
    d.write_reg(reg::DESC_ADDR_LO, static_cast<uint32_t>(t));
    d.write_reg(reg::DESC_ADDR_HI, static_cast<uint32_t>(t >> 32));
    d.write_reg(reg::IRQ_ENABLE, irq::DONE);
    d.write_reg(reg::CTRL, ctrl::START);
    ASSERT_TRUE(soc.host().wait_irq(sc_core::sc_time(1, sc_core::SC_MS)));
    EXPECT_EQ(d.read_reg(reg::IRQ_STATUS), irq::DONE);
    EXPECT_EQ(d.read_reg(reg::STATUS), status::DONE);
    d.write_reg(reg::IRQ_STATUS, 0);  // writing 0 changes nothing
    EXPECT_EQ(d.read_reg(reg::IRQ_STATUS), irq::DONE);
    d.write_reg(reg::IRQ_STATUS, irq::DONE);
    EXPECT_EQ(d.read_reg(reg::IRQ_STATUS), 0u);
    soc.host().sync();
    sc_core::wait(sc_core::sc_time(1, sc_core::SC_NS));
    EXPECT_FALSE(soc.host().irq->read());
  });
}

TEST(AccelRegs, IrqLineFollowsEnableMask) {
  with_soc([](AcceleratorSoc& soc, AcceleratorDriver& d) {
    const uint64_t t = one_layer(d);
    d.write_reg(reg::DESC_ADDR_LO, static_cast<uint32_t>(t));
    d.write_reg(reg::IRQ_ENABLE, 0);
    d.write_reg(reg::CTRL, ctrl::START);
    EXPECT_FALSE(soc.host().wait_irq(sc_core::sc_time(100, sc_core::SC_US)));  // masked
    EXPECT_EQ(d.read_reg(reg::STATUS), status::DONE);
    EXPECT_EQ(d.read_reg(reg::IRQ_STATUS), irq::DONE);
    d.write_reg(reg::IRQ_ENABLE, irq::DONE);
    EXPECT_TRUE(soc.host().wait_irq(sc_core::sc_time(1, sc_core::SC_US)));
  });
}

TEST(AccelRegs, StartWhileBusyIsGenericError) {
  with_soc(
      [](AcceleratorSoc& soc, AcceleratorDriver& d) {
        const uint64_t t = one_layer(d);
        d.write_reg(reg::DESC_ADDR_LO, static_cast<uint32_t>(t));
        d.write_reg(reg::IRQ_ENABLE, irq::DONE | irq::ERROR);
        d.write_reg(reg::CTRL, ctrl::START);
        soc.host().sync();
        sc_core::wait(sc_core::sc_time(20, sc_core::SC_NS));
        EXPECT_TRUE(d.read_reg(reg::STATUS) & status::BUSY);
        EXPECT_EQ(reg_write(soc, reg::CTRL, ctrl::START), tlm::TLM_GENERIC_ERROR_RESPONSE);
        EXPECT_EQ(reg_write(soc, reg::CTRL, ctrl::SOFT_RESET), tlm::TLM_GENERIC_ERROR_RESPONSE);
        ASSERT_TRUE(soc.host().wait_irq(sc_core::sc_time(1, sc_core::SC_MS)));
        EXPECT_EQ(d.read_reg(reg::STATUS), status::DONE);
      },
      Level::Cycle);
}

TEST(AccelRegs, SoftResetClearsStatusAndCounters) {
  with_soc([](AcceleratorSoc&, AcceleratorDriver& d) {
    const uint64_t t = one_layer(d);
    d.run(t, 1);
    EXPECT_NE(d.read_reg(reg::CYCLES_LO), 0u);
    d.write_reg(reg::IRQ_ENABLE, 0);
    d.write_reg(reg::CTRL, ctrl::START);  // leaves DONE pending
    d.host().sync();
    sc_core::wait(sc_core::sc_time(100, sc_core::SC_US));
    EXPECT_EQ(d.read_reg(reg::IRQ_STATUS), irq::DONE);
    d.soft_reset();
    EXPECT_EQ(d.read_reg(reg::STATUS), 0u);
    EXPECT_EQ(d.read_reg(reg::IRQ_STATUS), 0u);
    EXPECT_EQ(d.read_reg(reg::CYCLES_LO), 0u);
    EXPECT_EQ(d.read_reg(reg::CTRL), 0u);
  });
}

TEST(AccelRegs, PerfSelectViewsSumToTheRun) {
  with_soc([](AcceleratorSoc&, AcceleratorDriver& d) {
    std::vector<LayerParams> layers = {random_layer(conv(1, 4, 6, 6, 4, 3, 1, 1), Op::MAC8, Mode::Digital, 1),
                                       random_layer(conv(1, 4, 6, 6, 8, 1, 1, 0), Op::BWN, Mode::Digital, 2)};
    const NetworkResult r = d.run_network(layers, random_tensor(4 * 36, 3));
    ASSERT_EQ(r.stats.layers.size(), 2u);
    LayerStats sum;
    for (const auto& l : r.stats.layers) {
      sum.cycles += l.cycles;
      sum.macs += l.macs;
      sum.energy_aj += l.energy_aj;
    }
    EXPECT_EQ(sum.cycles, r.stats.total.cycles);
    EXPECT_EQ(sum.macs, r.stats.total.macs);
    EXPECT_EQ(sum.energy_aj, r.stats.total.energy_aj);
    int64_t groups = 0;
    for (int64_t g : r.stats.total.group_aj) groups += g;
    EXPECT_EQ(groups, r.stats.total.energy_aj);
    const LayerStats none = d.read_stats(5);  // beyond the run: zeros
    EXPECT_EQ(none.cycles, 0);
  });
}

TEST(AccelRegs, DocsEmbedTheRegisterTable) {
  std::ifstream f(std::string(CIMSIM_SOURCE_DIR) + "/docs/accelerator.md");
  ASSERT_TRUE(f.good()) << "docs/accelerator.md missing";
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_NE(ss.str().find(register_map_markdown()), std::string::npos)
      << "docs/accelerator.md must contain register_map_markdown() verbatim:\n"
      << register_map_markdown();
}
