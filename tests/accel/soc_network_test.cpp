// Full SoC: the built-in multi-layer network against the independent reference chained layer by layer;
// repeated runs reuse uploaded weights; VCD tracing produces the documented signals.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cimsim/soc/memory.hpp"
#include "cimsim/soc/router.hpp"
#include "cimsim/soc/vcd_trace.hpp"
#include "reference/reference.hpp"
#include "soc_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using namespace cimsim::accel::testing;

namespace {
class AccelSoc : public ::testing::TestWithParam<Level> {};
}  // namespace

TEST_P(AccelSoc, MultiLayerNetworkMatchesChainedReference) {
  AcceleratorSoc soc("soc", soc_config(GetParam()), table());
  const std::vector<int8_t> x = builtin_input(21);
  const std::vector<LayerParams> net = builtin_network(21, x);
  const NetworkResult r = soc.run_network(net, x);
  ASSERT_EQ(r.outputs.size(), net.size());
  std::vector<int8_t> cur = x;
  for (size_t i = 0; i < net.size(); ++i) {
    cur = ref::layer(net[i], cur);
    EXPECT_EQ(r.outputs[i], cur) << "layer " << i;
  }
  int64_t cycles = 0;
  for (const auto& l : net) cycles += layer_cost(soc.accelerator().config(), l.shape, l.op, l.mode, l.cim).cycles;
  EXPECT_EQ(r.stats.total.cycles, cycles);
}

TEST_P(AccelSoc, RepeatedRunsReuseUploadedWeights) {
  AcceleratorSoc soc("soc", soc_config(GetParam()), table());
  const std::vector<int8_t> x = builtin_input(5);
  const std::vector<LayerParams> net = builtin_network(5, x);
  const NetworkResult a = soc.run_network(net, x);
  const uint64_t used = soc.driver().constants().used();
  // Per-layer invocation, as a runtime for non-chained graphs would do it.
  std::vector<int8_t> cur = x;
  for (size_t i = 0; i < net.size(); ++i) {
    const NetworkResult one = soc.run_network({net[i]}, cur);
    EXPECT_EQ(one.outputs[0], a.outputs[i]) << "layer " << i;
    EXPECT_EQ(one.stats.layers[0].cycles, a.stats.layers[i].cycles);
    cur = one.outputs[0];
  }
  EXPECT_EQ(soc.driver().constants().used(), used);  // nothing uploaded twice
}

TEST_P(AccelSoc, BatchOfTwoImages) {
  AcceleratorSoc soc("soc", soc_config(GetParam()), table());
  const LayerShape s = conv(2, 6, 9, 9, 10, 3, 1, 1);
  const std::vector<int8_t> x = random_tensor(s.input_elems(), 8);
  const LayerParams p = random_layer(s, Op::MF, Mode::Cim, 9, true, &x, noisy_cim(3));
  const NetworkResult r = soc.run_network({p}, x);
  EXPECT_EQ(r.outputs[0], ref::layer(p, x));
}

INSTANTIATE_TEST_SUITE_P(Levels, AccelSoc, ::testing::Values(Level::Lt, Level::Cycle),
                         [](const ::testing::TestParamInfo<Level>& i) { return std::string(level_name(i.param)); });

namespace {
// The VCD of one small layer at cycle level, default or detailed trace.
std::string trace_one_layer(bool detail) {
  std::string path;
  {
    // Absolute path under the temp dir: the test never writes into the source tree's traces/.
    VcdTrace vcd((std::filesystem::temp_directory_path() / ("accel_soc_test_" + std::to_string(::getpid()))).string());
    SocConfig cfg = soc_config(Level::Cycle);
    cfg.trace_detail = detail;
    AcceleratorSoc soc("soc", cfg, table(), vcd.file());
    const std::vector<int8_t> x = random_tensor(4 * 25, 1);
    soc.run_network({random_layer(conv(1, 4, 5, 5, 4, 3, 1, 1), Op::MAC8, Mode::Digital, 2, true, &x)}, x);
    path = vcd.close();
  }
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  std::filesystem::remove(path);
  return ss.str();
}
}  // namespace

TEST(AccelSocTrace, VcdHasTheDocumentedSignals) {
  const std::string v = trace_one_layer(false);
  for (const char* name : {"start", "busy", "done", "state", "layer", "band", "op", "mode", "dma_active", "irq"})
    EXPECT_NE(v.find(std::string(" ") + name + " "), std::string::npos) << "$var " << name;
  for (const char* name : {"clk", "acc0"})  // detail only
    EXPECT_EQ(v.find(std::string(" ") + name + " "), std::string::npos) << "$var " << name;
  EXPECT_NE(v.find("$enddefinitions"), std::string::npos);
  EXPECT_NE(v.find("#"), std::string::npos);  // has timestamps
}

TEST(AccelSocTrace, DetailedVcdAddsTheClockAndAccumulators) {
  const std::string v = trace_one_layer(true);
  for (const char* name : {"clk", "acc0", "acc3", "state", "band"})
    EXPECT_NE(v.find(std::string(" ") + name + " "), std::string::npos) << "$var " << name;
}

TEST(AccelSocTrace, NoTraceFileMeansNoTracing) {
  AcceleratorSoc soc("soc", soc_config(Level::Cycle), table(), nullptr);
  const std::vector<int8_t> x = random_tensor(4 * 25, 1);
  const NetworkResult r =
      soc.run_network({random_layer(conv(1, 4, 5, 5, 4, 3, 1, 1), Op::MAC8, Mode::Digital, 2, true, &x)}, x);
  EXPECT_EQ(r.outputs.size(), 1u);
}

// The models plugged into a hand-built SoC at other addresses, IRQ left unbound: the driver polls STATUS.
TEST(AccelSocCustom, OwnSocWithUnboundIrqPolls) {
  Router router("router");
  Memory mem("mem", 1 << 20);
  AcceleratorCycle acc("acc", ArrayConfig{}, table());
  NetworkResult r;
  const std::vector<int8_t> x = random_tensor(4 * 36, 2);
  const LayerParams p = random_layer(conv(1, 4, 6, 6, 8, 3, 1, 1), Op::MAC4, Mode::Cim, 4, true, &x, noisy_cim(1));
  bool done = false;
  HostInitiator host("host", [&](HostInitiator& h) {
    AcceleratorDriver d(h, 0x10000, 0x200000, 1 << 20);
    d.probe();
    r = d.run_network({p}, x);
    done = true;
    sc_core::sc_stop();
  });
  host.socket.bind(router.target_socket);
  acc.dma.bind(router.target_socket);
  router.initiator_socket.bind(acc.csr);
  router.initiator_socket.bind(mem.socket);
  router.map(0, 0x10000, 0x1000, "acc");
  router.map(1, 0x200000, 1 << 20, "mem");
  sc_core::sc_start();
  ASSERT_TRUE(done);
  EXPECT_EQ(r.outputs[0], ref::layer(p, x));
  EXPECT_EQ(r.stats.layers[0].cycles, layer_cost(acc.config(), p.shape, p.op, p.mode, p.cim).cycles);
}
