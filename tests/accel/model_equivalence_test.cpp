// Both abstraction levels against the independent reference (tests/accel/reference): bit-exact outputs on
// randomized layers (every operator x mode, 1x1, depthwise, stride 2, padding, odd sizes, batch 2, FC); cycles
// equal to layer_cost(); the energy ledger equal to the cost model, component by component.
#include <gtest/gtest.h>

#include "reference/reference.hpp"
#include "soc_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using namespace cimsim::accel::testing;

namespace {

struct Case {
  std::vector<LayerParams> layers;
  std::vector<std::vector<int8_t>> inputs;
};

Case make_cases(Mode mode, uint64_t seed) {
  Case c;
  uint64_t k = seed;
  for (Op op : kAllOps) {
    if (mode == Mode::Cim && !cim_supported(op)) continue;
    for (const LayerShape& s : test_shapes()) {
      ++k;
      std::vector<int8_t> x = random_tensor(s.input_elems(), mix64(k));
      LayerParams p = random_layer(s, op, mode, mix64(k + 1000), (k % 2) == 0, &x, noisy_cim(k));
      c.layers.push_back(std::move(p));
      c.inputs.push_back(std::move(x));
    }
  }
  return c;
}

class AccelModel : public ::testing::TestWithParam<Level> {
 protected:
  void check_mode(Mode mode, uint64_t seed) {
    AcceleratorSoc soc("soc", soc_config(GetParam()), table());
    const Case c = make_cases(mode, seed);
    NetworkResult r;
    soc.run([&](AcceleratorDriver& d) { r = d.run_layers(c.layers, c.inputs); });
    ASSERT_EQ(r.outputs.size(), c.layers.size());
    const ArrayConfig& cfg = soc.accelerator().config();
    int64_t total_digital_macs = 0;
    for (size_t i = 0; i < c.layers.size(); ++i) {
      const LayerParams& p = c.layers[i];
      SCOPED_TRACE(std::string("layer ") + std::to_string(i) + " " + op_name(p.op) + "/" + mode_name(p.mode));
      EXPECT_EQ(r.outputs[i], ref::layer(p, c.inputs[i]));
      const LayerCost cost = layer_cost(cfg, p.shape, p.op, p.mode, p.cim);
      EXPECT_EQ(r.stats.layers[i].cycles, cost.cycles);
      EXPECT_EQ(r.stats.layers[i].macs, p.shape.macs());
      EXPECT_EQ(r.stats.layers[i].energy_aj, cost.total_aj(table()));
      // Ledger == cost model, per component.
      const auto expect = cost.energy_aj(table());
      for (const auto& [comp, aj] : expect) {
        EXPECT_EQ(soc.accelerator().ledger().cell(static_cast<int>(i), comp).aj, aj) << comp;
        const int g = energy_component_group(comp);
        ASSERT_GE(g, 0) << comp;
        EXPECT_EQ(r.stats.layers[i].group_aj[static_cast<size_t>(g)], aj) << comp;
      }
      if (p.mode == Mode::Digital) total_digital_macs += p.shape.macs();
    }
    EXPECT_EQ(soc.accelerator().ledger().total_aj(), r.stats.total.energy_aj);
    if (AcceleratorCycle* cyc = soc.cycle_model()) {
      ASSERT_EQ(cyc->measured_cycles().size(), c.layers.size());
      for (size_t i = 0; i < c.layers.size(); ++i)
        EXPECT_EQ(cyc->measured_cycles()[i], layer_cost(cfg, c.layers[i].shape, c.layers[i].op, c.layers[i].mode,
                                                        c.layers[i].cim)
                                                 .cycles)
            << "layer " << i;
      EXPECT_EQ(static_cast<int64_t>(cyc->array.total_macs()), total_digital_macs);
      EXPECT_EQ(cyc->busy_edges(), static_cast<uint64_t>(r.stats.total.cycles));
    }
  }
};

}  // namespace

TEST_P(AccelModel, DigitalLayersBitExactCyclesAndEnergy) { check_mode(Mode::Digital, 100); }

TEST_P(AccelModel, CimLayersBitExactCyclesAndEnergy) { check_mode(Mode::Cim, 200); }

TEST_P(AccelModel, SmallArrayTilesTheSameLayers) {
  SocConfig cfg = soc_config(GetParam());
  cfg.array.rows = 3;
  cfg.array.cols = 5;
  cfg.array.cim_rows = 24;
  cfg.array.cim_cols = 3;
  cfg.array.dma_bytes_per_cycle = 4;
  AcceleratorSoc soc("soc", cfg, table());
  Case c = make_cases(Mode::Digital, 300);
  const Case cim = make_cases(Mode::Cim, 400);
  c.layers.insert(c.layers.end(), cim.layers.begin(), cim.layers.end());
  c.inputs.insert(c.inputs.end(), cim.inputs.begin(), cim.inputs.end());
  NetworkResult r;
  soc.run([&](AcceleratorDriver& d) { r = d.run_layers(c.layers, c.inputs); });
  for (size_t i = 0; i < c.layers.size(); ++i) {
    const LayerParams& p = c.layers[i];
    EXPECT_EQ(r.outputs[i], ref::layer(p, c.inputs[i])) << "layer " << i;
    EXPECT_EQ(r.stats.layers[i].cycles, layer_cost(soc.accelerator().config(), p.shape, p.op, p.mode, p.cim).cycles)
        << "layer " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Levels, AccelModel, ::testing::Values(Level::Lt, Level::Cycle),
                         [](const ::testing::TestParamInfo<Level>& i) { return std::string(level_name(i.param)); });

// Both levels elaborated side by side in one process: identical outputs, cycles and energy per layer.
TEST(AccelModelLevels, LtAndCycleAgreeLayerByLayer) {
  AcceleratorSoc lt("lt", soc_config(Level::Lt), table());
  AcceleratorSoc cy("cy", soc_config(Level::Cycle), table());
  const std::vector<int8_t> x = builtin_input(9);
  const std::vector<LayerParams> net = builtin_network(9, x);
  const NetworkResult a = lt.run_network(net, x);
  const NetworkResult b = cy.run_network(net, x);
  ASSERT_EQ(a.outputs.size(), net.size());
  EXPECT_EQ(a.outputs, b.outputs);
  for (size_t i = 0; i < net.size(); ++i) {
    EXPECT_EQ(a.stats.layers[i].cycles, b.stats.layers[i].cycles) << i;
    EXPECT_EQ(a.stats.layers[i].energy_aj, b.stats.layers[i].energy_aj) << i;
    EXPECT_EQ(a.stats.layers[i].group_aj, b.stats.layers[i].group_aj) << i;
  }
  // Simulated time of the cycle level: the run's cycles in clock periods (+ host register traffic).
  EXPECT_GE(b.sim_time, cy.accelerator().clock_period() * static_cast<double>(b.stats.total.cycles));
}

// The cycle level's product kernel: the SSE2 pmaddwd path and the scalar loop against an int64 sum reduced
// mod 2^32, on random int16 inputs with the extremes (-32768, 32767) mixed in, odd strides and several blocks.
TEST(AccelMacCoreArray, PairSumsSimdAndScalarAgreeWithWideSums) {
  uint64_t k = 0x9e3779b97f4a7c15ull;
  auto next = [&k] {
    k ^= k << 13;
    k ^= k >> 7;
    k ^= k << 17;
    return k;
  };
  auto val = [&](uint64_t r) -> int16_t {
    switch (r % 8) {
      case 0: return -32768;
      case 1: return 32767;
      case 2: return static_cast<int16_t>(static_cast<int>(r >> 8) % 256 - 128);  // int8 range (weights)
      default: return static_cast<int16_t>(r >> 16);
    }
  };
  for (int trial = 0; trial < 50; ++trial) {
    const int pairs = 1 + static_cast<int>(next() % 40), cols = 16 * (1 + static_cast<int>(next() % 3));
    const int stride = cols + 16 * static_cast<int>(next() % 2);
    std::vector<int32_t> apair(static_cast<size_t>(pairs));
    std::vector<int16_t> w(static_cast<size_t>(pairs) * stride * 2);
    for (auto& a : apair)
      a = static_cast<int32_t>(static_cast<uint16_t>(val(next())) | static_cast<uint32_t>(static_cast<uint16_t>(val(next()))) << 16);
    for (auto& v : w) v = val(next());
    std::vector<int32_t> simd(static_cast<size_t>(cols)), scalar(static_cast<size_t>(cols));
    MacCoreArray::pair_sums(apair.data(), pairs, w.data(), stride, cols, simd.data(), true);
    MacCoreArray::pair_sums(apair.data(), pairs, w.data(), stride, cols, scalar.data(), false);
    for (int c = 0; c < cols; ++c) {
      int64_t ref = 0;
      for (int p = 0; p < pairs; ++p) {
        const int64_t a0 = static_cast<int16_t>(static_cast<uint32_t>(apair[p]) & 0xffffu);
        const int64_t a1 = static_cast<int16_t>(static_cast<uint32_t>(apair[p]) >> 16);
        const size_t i = (static_cast<size_t>(p) * stride + c) * 2;
        ref += a0 * w[i] + a1 * w[i + 1];
      }
      const int32_t want = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(ref)));
      ASSERT_EQ(simd[c], want) << "trial " << trial << " col " << c;
      ASSERT_EQ(scalar[c], want) << "trial " << trial << " col " << c;
    }
  }
}
