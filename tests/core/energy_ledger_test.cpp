#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cimsim/core/energy_ledger.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/rng.hpp"

using cimsim::EnergyLedger;

TEST(EnergyLedger, TotalIsExactSumOfComponentsAndLayers) {
  EnergyLedger led;
  cimsim::SplitMix64 rng(7);
  const char* comps[] = {"compute", "adc", "dma", "leakage"};
  int64_t expect = 0;
  for (int i = 0; i < 1000; ++i) {
    const int64_t n = static_cast<int64_t>(rng.below(1000));
    const int64_t e = static_cast<int64_t>(rng.below(123457));
    led.add(comps[i % 4], n, e, static_cast<int>(i % 5) - 1);
    expect += n * e;
  }
  EXPECT_EQ(led.total_aj(), expect);
  int64_t by_comp = 0, by_layer = 0;
  for (const auto& c : led.components()) by_comp += led.component_aj(c);
  for (int l : led.layers()) by_layer += led.layer_aj(l);
  EXPECT_EQ(by_comp, expect);
  EXPECT_EQ(by_layer, expect);
  const auto j = led.to_json();
  EXPECT_EQ(j["total_aj"].get<int64_t>(), expect);
}

TEST(EnergyLedger, CellsCountEventsAndMerge) {
  EnergyLedger a, b;
  a.add("adc", 3, 10, 0);
  a.add("adc", 2, 10, 0);
  b.add("adc", 1, 7, 0);
  b.add("dac", 4, 1, 1);
  a.merge(b);
  EXPECT_EQ(a.cell(0, "adc").count, 6);
  EXPECT_EQ(a.cell(0, "adc").aj, 57);
  EXPECT_EQ(a.cell(1, "dac").aj, 4);
  EXPECT_EQ(a.cell(2, "dac").aj, 0);
  EXPECT_EQ(a.total_aj(), 61);
  EXPECT_NE(a.to_csv().find("0,adc,6,"), std::string::npos);
}

TEST(EnergyLedger, Int64OverflowIsRefusedNotWrapped) {
  // Before issue 10 these wrapped: a total lower than (or of the opposite sign to) its parts.
  EnergyLedger led;
  const int64_t big = int64_t{1} << 62;
  EXPECT_THROW(led.add("x", 4, big), cimsim::ConfigError);  // product
  led.add_energy("a", 1, big);
  EXPECT_THROW(led.add_energy("a", 1, big), cimsim::ConfigError);  // cell sum
  led.add_energy("b", 1, big);
  EXPECT_THROW(led.total_aj(), cimsim::ConfigError);  // total over cells
  EXPECT_EQ(led.component_aj("a"), big);
}
