// Cost model: cycles and counts of small layers against hand-computed goldens (arithmetic in the comments),
// exact energy accounting, and rejection of unsupported configurations.
#include <gtest/gtest.h>

#include <cmath>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/core/error.hpp"
#include "datapath_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using namespace cimsim::accel::testutil;

namespace {
int64_t cnt(const LayerCost& c, const char* k) { return c.counts.at(k); }
}  // namespace

// Default ArrayConfig: R = 16, C = 16, cim 64 x 16, B = 16 bytes/cycle, 1 ADC cycle per bit.
TEST(AccelCost, DigitalConvGolden) {
  // MAC8 conv n1 cin3 8x8 -> cout20, 3x3, stride 1, pad 1: out 8x8, P = 64, K = 27.
  // col tiles ceil(20/16) = 2, row tiles ceil(27/16) = 2
  // compute = 1 group * 2 * (27 + 2 * (2 + 64)) = 318
  // dma_in = ceil((192 input + 540 weights + 20*16 requant) / 16) = ceil(1052/16) = 66
  // dma_out = 1280 / 16 = 80; descriptor = 128/16 + 8 = 16; cycles = 16 + 66 + 318 + 80 = 480
  const LayerShape s = conv(1, 3, 8, 8, 20, 3, 1, 1, 1);
  const LayerCost c = layer_cost(ArrayConfig{}, s, Op::MAC8, Mode::Digital, CimParams{});
  EXPECT_EQ(c.compute_cycles, 318);
  EXPECT_EQ(c.dma_in_cycles, 66);
  EXPECT_EQ(c.dma_out_cycles, 80);
  EXPECT_EQ(c.descriptor_cycles, 16);
  EXPECT_EQ(c.cycles, 480);
  EXPECT_EQ(c.tiles, 4);
  EXPECT_EQ(cnt(c, "compute"), 34560);  // 1280 outputs * 27
  EXPECT_EQ(cnt(c, "requant"), 1280);
  EXPECT_EQ(cnt(c, "weight_buffer_write"), 860);  // 540 weights + 320 requant parameters
  EXPECT_EQ(cnt(c, "weight_buffer_read"), 860);   // one band reads every tile and parameter once
  EXPECT_EQ(cnt(c, "act_buffer_write"), 1472);  // 192 + 1280
  EXPECT_EQ(cnt(c, "act_buffer_read"), 4736);   // 2 col tiles * 64 * 27 + 1280
  EXPECT_EQ(cnt(c, "dram"), 2332);               // 192 + 540 + 320 + 1280
  EXPECT_EQ(cnt(c, "descriptor"), 128);
  EXPECT_EQ(cnt(c, "leakage"), 480);
  EXPECT_EQ(cnt(c, "adc"), 0);
  EXPECT_EQ(cnt(c, "dac"), 0);
  EXPECT_EQ(cnt(c, "cim_write"), 0);

  // Energy (pJ): compute 34560*0.30 = 10368; requant 1280*3.3 = 4224; dram 2332*162.5 = 378950;
  // descriptor 128*162.5 = 20800; leakage 480*1 = 480. SRAM per byte, log-log between Horowitz's 32 KiB
  // (2.5 pJ/B) and 1 MiB (12.5 pJ/B) points: 64 KiB weight buffer 2.5 * 5^(1/5), 128 KiB activation
  // buffer 2.5 * 5^(2/5).
  const EnergyTable t = EnergyTable::load_default();
  const auto e = c.energy_aj(t);
  const int64_t wb = std::llround(2.5 * std::pow(5.0, 0.2) * 1e6), ab = std::llround(2.5 * std::pow(5.0, 0.4) * 1e6);
  EXPECT_EQ(wb, 3449324);
  EXPECT_EQ(ab, 4759135);
  EXPECT_EQ(e.at("compute"), 10368000000);
  EXPECT_EQ(e.at("requant"), 4224000000);
  EXPECT_EQ(e.at("weight_buffer"), 1720 * wb);
  EXPECT_EQ(e.at("act_buffer"), 6208 * ab);
  EXPECT_EQ(e.at("dram"), 378950000000);
  EXPECT_EQ(e.at("descriptor"), 20800000000);
  EXPECT_EQ(e.at("leakage"), 480000000);
  const int64_t total = 10368000000 + 4224000000 + 1720 * wb + 6208 * ab + 378950000000 + 20800000000 + 480000000;
  EXPECT_EQ(c.total_aj(t), total);
  EXPECT_EQ(c.operator_aj(t), 10368000000);
  EXPECT_DOUBLE_EQ(layer_energy_pj(ArrayConfig{}, t, s, Op::MAC8, Mode::Digital, CimParams{}), aj_to_pj(total));
}

TEST(AccelCost, CimGroupedMac4Golden) {
  // MAC4 CIM, n2 cin4 5x5 -> cout4, 3x3, stride 2, pad 0, groups 2; rows 10, 5-bit ADC.
  // out 2x2, P = 2*4 = 8; K = 2*9 = 18; cog = 2 -> 1 col tile; chunks ceil(18/10) = 2; conv 5 cycles.
  // compute = 2 groups * 1 * (18 + 2 * (2 + 8*5)) = 2 * 102 = 204
  // weights: ceil(18*4/8) = 9 bytes/row * 4 = 36; dma_in = ceil((200 + 36 + 4*16)/16) = ceil(18.75) = 19
  // outputs 32 -> dma_out 2; cycles = 16 + 19 + 204 + 2 = 241
  const LayerShape s = conv(2, 4, 5, 5, 4, 3, 2, 0, 2);
  const CimParams cp = cim_params(10, 5, 16, 0.0, 0.0, 0);
  const LayerCost c = layer_cost(ArrayConfig{}, s, Op::MAC4, Mode::Cim, cp);
  EXPECT_EQ(c.compute_cycles, 204);
  EXPECT_EQ(c.dma_in_cycles, 19);
  EXPECT_EQ(c.dma_out_cycles, 2);
  EXPECT_EQ(c.cycles, 241);
  EXPECT_EQ(c.tiles, 4);
  EXPECT_EQ(cnt(c, "compute"), 576);         // 32 * 18 cell ops
  EXPECT_EQ(cnt(c, "adc"), 64);              // 32 outputs * 2 chunks
  EXPECT_EQ(cnt(c, "dac"), 288);             // 2 groups * 1 col tile * 8 pixels * 18 rows
  EXPECT_EQ(cnt(c, "cim_write"), 36);
  EXPECT_EQ(cnt(c, "requant"), 32);
  EXPECT_EQ(cnt(c, "act_buffer_write"), 232);  // 200 + 32
  EXPECT_EQ(cnt(c, "act_buffer_read"), 320);   // 288 + 32
  EXPECT_EQ(cnt(c, "dram"), 332);               // 200 + 36 + 64 + 32
  EXPECT_EQ(cnt(c, "leakage"), 241);

  // adc 64 * 0.512 pJ = 32.768 pJ; dac 288 * 0.032 = 9.216 pJ; compute 576 * 0.008 = 4.608 pJ.
  const EnergyTable t = EnergyTable::load_default();
  const auto e = c.energy_aj(t);
  EXPECT_EQ(e.at("adc"), 32768000);
  EXPECT_EQ(e.at("dac"), 9216000);
  EXPECT_EQ(e.at("compute"), 4608000);
  EXPECT_EQ(e.at("cim_write"), 45000000);  // 36 * 1.25 pJ

  // Twice the ADC cycles per bit: conversions take 10 cycles -> compute = 2 * (18 + 2 * (2 + 80)) = 364.
  ArrayConfig slow;
  slow.adc_cycles_per_bit = 2;
  EXPECT_EQ(layer_cost(slow, s, Op::MAC4, Mode::Cim, cp).compute_cycles, 364);
}

TEST(AccelCost, CimFcXnorGolden) {
  // XNOR CIM FC 100 -> 40, rows 64, 3-bit ADC: K = 100, P = 1, 3 col tiles of 16, 2 chunks, conv 3.
  // compute = 3 * (100 + 2 * (2 + 3)) = 330; weights ceil(100/8) = 13 * 40 = 520
  // dma_in = ceil((100 + 520 + 40*16)/16) = ceil(78.75) = 79; dma_out = ceil(40/16) = 3
  // cycles = 16 + 79 + 330 + 3 = 428
  const LayerShape s = fc(1, 100, 40);
  const LayerCost c = layer_cost(ArrayConfig{}, s, Op::XNOR, Mode::Cim, cim_params(64, 3, 4, 0, 0, 0));
  EXPECT_EQ(c.compute_cycles, 330);
  EXPECT_EQ(c.cycles, 428);
  EXPECT_EQ(cnt(c, "adc"), 80);
  EXPECT_EQ(cnt(c, "dac"), 0);  // XNOR is DAC-free
  EXPECT_EQ(cnt(c, "cim_write"), 520);
  EXPECT_EQ(cnt(c, "act_buffer_read"), 340);  // 3 * 100 + 40
  EXPECT_EQ(cnt(c, "dram"), 1300);  // 100 + 520 + 640 + 40
}

TEST(AccelCost, LedgerIsExactSumOfCountTimesEntry) {
  const EnergyTable t = EnergyTable::load_default();
  require_cost_entries(t);
  SplitMix64 g(61);
  EnergyLedger ledger;
  int layer = 0;
  int64_t expect_total = 0;
  for (const LayerShape& s : test_shapes())
    for (Op op : kAllOps)
      for (Mode m : {Mode::Digital, Mode::Cim}) {
        if (m == Mode::Cim && !cim_supported(op)) continue;
        LayerParams p = rand_layer(g, s, op, m);
        p.cim = cim_params(32, 4, 16, 0, 0, 0);
        const LayerCost c = layer_cost(ArrayConfig{}, s, op, m, p.cim);
        int64_t sum = 0;
        for (const CostTerm& term : c.terms(t)) sum += term.count * term.aj_each;
        EXPECT_EQ(sum, c.total_aj(t));
        EnergyLedger one;
        c.charge(one, t, layer);
        EXPECT_EQ(one.total_aj(), sum);
        EXPECT_EQ(one.layer_aj(layer), sum);
        for (const auto& [comp, aj] : c.energy_aj(t)) EXPECT_EQ(one.component_aj(comp), aj) << comp;
        EXPECT_DOUBLE_EQ(layer_energy_pj(ArrayConfig{}, t, s, op, m, p.cim), aj_to_pj(sum));
        c.charge(ledger, t, layer++);
        expect_total += sum;
      }
  EXPECT_EQ(ledger.total_aj(), expect_total);
  int64_t by_comp = 0;
  for (const auto& comp : ledger.components()) by_comp += ledger.component_aj(comp);
  EXPECT_EQ(by_comp, expect_total);
}

TEST(AccelCost, CimIsCheaperComputeThanDigitalForMf) {
  const EnergyTable t = EnergyTable::load_default();
  const LayerShape s = conv(1, 16, 14, 14, 32, 3, 1, 1, 1);
  const auto d = layer_cost(ArrayConfig{}, s, Op::MF, Mode::Digital, CimParams{}).energy_aj(t);
  const auto c = layer_cost(ArrayConfig{}, s, Op::MF, Mode::Cim, cim_params(64, 5, 16, 0, 0, 0)).energy_aj(t);
  EXPECT_LT(c.at("compute") + c.at("adc"), d.at("compute"));
}

TEST(AccelCost, RejectsUnsupported) {
  const LayerShape s = conv(1, 4, 6, 6, 4, 3, 1, 1, 1);
  try {
    layer_cost(ArrayConfig{}, s, Op::MAC8, Mode::Cim, CimParams{});
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("mac8 is not supported in CIM"), std::string::npos) << e.what();
  }
  for (Op op : {Op::DEEPSHIFT, Op::ADDER})
    EXPECT_THROW(layer_cost(ArrayConfig{}, s, op, Mode::Cim, CimParams{}), ConfigError);
  EXPECT_THROW(layer_cost(ArrayConfig{}, s, Op::MF, Mode::Cim, cim_params(65, 5, 16, 0, 0, 0)), ConfigError);
  EXPECT_THROW(layer_cost(ArrayConfig{}, s, Op::MF, Mode::Cim, cim_params(64, 0, 16, 0, 0, 0)), ConfigError);
  LayerShape bad = s;
  bad.groups = 3;
  EXPECT_THROW(layer_cost(ArrayConfig{}, bad, Op::MAC8, Mode::Digital, CimParams{}), ConfigError);
  ArrayConfig cfg;
  cfg.dma_bytes_per_cycle = 0;
  EXPECT_THROW(layer_cost(cfg, s, Op::MAC8, Mode::Digital, CimParams{}), ConfigError);
  const EnergyTable t = EnergyTable::load_default();
  EXPECT_EQ(ArrayConfig::with_table(ArrayConfig{}, t).adc_cycles_per_bit, 1);
}
