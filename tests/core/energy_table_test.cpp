#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/error.hpp"

using cimsim::ConfigError;
using cimsim::EnergyTable;
using nlohmann::json;

namespace {
json minimal() {
  return json{{"technology", "t"},
              {"clock_hz", 1e9},
              {"vdd_v", 0.9},
              {"energy_pj", {{"a", {{"b", 0.25}, {"c", 2}}}, {"common", {{"adc_by_bits", {{"5", 0.5}}}}}}},
              {"params", {{"k", -3}}}};
}

std::string error_of(const json& j) {
  try {
    EnergyTable::from_json(j, "mem.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(EnergyTable, LoadsNestedEntriesAsDottedPaths) {
  const auto t = EnergyTable::from_json(minimal(), "mem.json");
  EXPECT_DOUBLE_EQ(t.pj("a.b"), 0.25);
  EXPECT_EQ(t.aj("a.b"), 250000);
  EXPECT_EQ(t.aj("a.c"), 2000000);
  EXPECT_DOUBLE_EQ(t.pj(EnergyTable::adc_entry(5)), 0.5);
  EXPECT_DOUBLE_EQ(t.param("k"), -3);  // params may be negative
  EXPECT_DOUBLE_EQ(t.clock_hz(), 1e9);
}

TEST(EnergyTable, MissingEntryNamesIt) {
  const auto t = EnergyTable::from_json(minimal(), "mem.json");
  try {
    t.pj("a.zzz");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("energy_pj.a.zzz"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("mem.json"), std::string::npos);
  }
  EXPECT_THROW(t.require({"a.b", "x.y"}), ConfigError);
  EXPECT_NO_THROW(t.require({"a.b", "a.c"}));
}

TEST(EnergyTable, NegativeEntryRejectedByName) {
  auto j = minimal();
  j["energy_pj"]["a"]["b"] = -0.1;
  const auto msg = error_of(j);
  EXPECT_NE(msg.find("'a.b'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("negative"), std::string::npos) << msg;
}

TEST(EnergyTable, MalformedEntryRejectedByName) {
  auto j = minimal();
  j["energy_pj"]["a"]["c"] = "lots";
  EXPECT_NE(error_of(j).find("'a.c'"), std::string::npos);
  j = minimal();
  j.erase("clock_hz");
  EXPECT_NE(error_of(j).find("clock_hz"), std::string::npos);
  j = minimal();
  j["vdd_v"] = 0;
  EXPECT_NE(error_of(j).find("vdd_v"), std::string::npos);
  EXPECT_NE(error_of(json::array()).find("object"), std::string::npos);
}

TEST(EnergyTable, MissingFileIsIoError) {
  EXPECT_THROW(EnergyTable::load("/nonexistent/table.json"), cimsim::IoError);
}

TEST(EnergyTable, ProjectTableLoadsAndHasSharedEntries) {
  const auto t = EnergyTable::load_default();
  EXPECT_EQ(t.technology(), "45nm");
  EXPECT_DOUBLE_EQ(t.clock_hz(), 1e9);
  for (int b = 1; b <= 8; ++b) {
    EXPECT_TRUE(t.has(EnergyTable::adc_entry(b))) << b;
    EXPECT_TRUE(t.has(EnergyTable::dac_entry(b))) << b;
  }
  EXPECT_TRUE(t.has("common.dram_per_byte"));
  EXPECT_EQ(t.fingerprint(), EnergyTable::load_default().fingerprint());
}

// ---- validation by contract (issue 10): every number range-checked before arithmetic
TEST(EnergyTable, EntryAboveTheCeilingRejectedByName) {
  for (double v : {1e300, 1e7, 2e6}) {
    auto j = minimal();
    j["energy_pj"]["a"]["c"] = v;
    const auto msg = error_of(j);
    EXPECT_NE(msg.find("mem.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'a.c'"), std::string::npos) << msg;
  }
  auto j = minimal();
  j["energy_pj"]["a"]["c"] = EnergyTable::kMaxEntryPj;  // the ceiling itself is allowed, and exact in aJ
  EXPECT_EQ(EnergyTable::from_json(j, "mem.json").aj("a.c"), int64_t{1000000000000});
}

TEST(EnergyTable, ClockAndSupplyOutsideTheirRangeRejectedByName) {
  for (double hz : {1e300, 1e-300, 0.0, -1e9, 1e11, 10.0}) {
    auto j = minimal();
    j["clock_hz"] = hz;
    const auto msg = error_of(j);
    EXPECT_NE(msg.find("mem.json"), std::string::npos) << hz;
    EXPECT_NE(msg.find("'clock_hz'"), std::string::npos) << msg;
  }
  for (double v : {1e300, 0.0, 100.0}) {
    auto j = minimal();
    j["vdd_v"] = v;
    EXPECT_NE(error_of(j).find("'vdd_v'"), std::string::npos) << v;
  }
  auto j = minimal();
  j["params"]["k"] = 1e300;
  EXPECT_NE(error_of(j).find("'k'"), std::string::npos);
}

TEST(EnergyTable, NonStringTechnologyIsAConfigErrorNamingTheFile) {
  auto j = minimal();
  j["technology"] = 45;
  const auto msg = error_of(j);
  EXPECT_NE(msg.find("mem.json"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'technology'"), std::string::npos) << msg;
}

TEST(EnergyTable, NumberOverflowingADoubleIsAConfigErrorNamingTheFile) {
  const std::string path = ::testing::TempDir() + "/cimsim_huge_number.json";
  {
    std::ofstream f(path);
    f << R"({"technology":"t","clock_hz":1e999,"vdd_v":0.9,"energy_pj":{"a":1}})";
  }
  try {
    EnergyTable::load(path);
    FAIL() << "accepted 1e999";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST(EnergyTable, AttojouleConversionRefusesInsteadOfWrapping) {
  EXPECT_EQ(cimsim::pj_to_aj(1.25), 1250000);
  EXPECT_THROW(cimsim::pj_to_aj(1e300), ConfigError);
  EXPECT_THROW(cimsim::pj_to_aj(-1e300), ConfigError);
  EXPECT_THROW(cimsim::pj_to_aj(std::nan("")), ConfigError);
}
