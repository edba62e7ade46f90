// The generated firmware headers (build/firmware/include/cimsim_fw/*_regs.h) against the models' tables:
// every register, field, enum value, constant, window and descriptor field of device_description() appears in
// the header with the same value, the header has nothing the table lacks, and key values equal the C++
// constants the models use. A stale or hand-edited header fails here.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "cimsim/accel/descriptor.hpp"
#include "cimsim/accel/regdesc.hpp"
#include "cimsim/accel/regmap.hpp"
#include "cimsim/mc2ram/datapath.hpp"
#include "cimsim/mc2ram/regmap.hpp"
#include "cimsim/mc2ram/regs.hpp"
#include "cimsim_fw/enos_regs.h"
#include "cimsim_fw/mc2ram_regs.h"

using namespace cimsim;

namespace {

std::map<std::string, uint64_t> parse_defines(const std::string& path) {
  std::ifstream f(path);
  EXPECT_TRUE(f.good()) << path;
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  std::map<std::string, uint64_t> m;
  const std::regex re(R"(#define\s+(\w+)\s+(0x[0-9A-Fa-f]+|[0-9]+)u(ll)?\b)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
    m[(*it)[1]] = std::stoull((*it)[2], nullptr, 0);
  return m;
}

void expect_header_matches(const DeviceDescription& d, const std::string& file) {
  auto defs = parse_defines(std::string(CIMSIM_FW_GEN_DIR) + "/" + file);
  const std::string P = d.prefix + "_";
  auto take = [&](const std::string& name, uint64_t want) {
    auto it = defs.find(name);
    if (it == defs.end()) {
      ADD_FAILURE() << file << ": missing " << name;
      return;
    }
    EXPECT_EQ(it->second, want) << file << ": " << name;
    defs.erase(it);
  };
  take(P + "WINDOW_BYTES", d.window_bytes);
  for (const auto& r : d.registers) {
    take(P + r.name + "_OFFSET", r.offset);
    take(P + r.name + "_RESET", r.reset);
    take(P + r.name + "_WRITE_MASK", r.write_mask);
  }
  for (const auto& f : d.fields) {
    const std::string n = P + f.reg + "_" + f.name;
    take(n + "_SHIFT", f.lsb);
    take(n + "_WIDTH", f.width);
    take(n + "_MASK", ((uint64_t{1} << f.width) - 1) << f.lsb);
  }
  for (const auto& e : d.enums)
    for (const auto& v : e.values) take(P + e.name + "_" + v.name, v.value);
  for (const auto& c : d.constants) take(P + c.name, c.value);
  for (const auto& w : d.windows) {
    take(P + w.name + "_OFFSET", w.offset);
    take(P + w.name + "_BYTES", w.bytes);
  }
  for (const auto& rec : d.records) {
    take(P + rec.name + "_BYTES", rec.size);
    for (const auto& f : rec.fields) {
      std::string up = f.name;
      for (char& ch : up) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      take(P + rec.name + "_" + up + "_OFF", f.offset);
      take(P + rec.name + "_" + up + "_SIZE", f.bytes);
    }
  }
  for (const auto& [name, v] : defs) ADD_FAILURE() << file << ": " << name << " is not in the model's table";
}

}  // namespace

TEST(RegDesc, EnosHeaderMatchesTheTable) { expect_header_matches(accel::device_description(), "enos_regs.h"); }
TEST(RegDesc, Mc2ramHeaderMatchesTheTable) { expect_header_matches(mc2ram::device_description(), "mc2ram_regs.h"); }

// The table itself agrees with the constants the models are written against.
TEST(RegDesc, TablesAgreeWithTheModelConstants) {
  EXPECT_EQ(ENOS_STATUS_OFFSET, accel::reg::STATUS);
  EXPECT_EQ(ENOS_E_COMPUTE_LO_OFFSET, accel::reg::ENERGY_COMP_BASE);
  EXPECT_EQ(ENOS_STATUS_ERR_CODE_SHIFT, accel::status::ERR_CODE_SHIFT);
  EXPECT_EQ(ENOS_STATUS_ERR_CODE_MASK, accel::status::ERR_CODE_MASK);
  EXPECT_EQ(ENOS_ERR_DMA_ERROR, static_cast<unsigned>(accel::ErrorCode::DmaError));
  EXPECT_EQ(ENOS_DESC_BYTES, accel::kDescriptorRecordBytes);
  EXPECT_EQ(ENOS_ID_VALUE, accel::kIdValue);
  EXPECT_EQ(MC2RAM_FIFO_DATA_OFFSET, mc2ram::reg::FIFO_DATA);
  EXPECT_EQ(MC2RAM_GMM_WINDOW_OFFSET, mc2ram::reg::GMM_WINDOW);
  EXPECT_EQ(MC2RAM_INIT_WINDOW_OFFSET, mc2ram::reg::INIT_WINDOW);
  EXPECT_EQ(MC2RAM_COMP_STRIDE, mc2ram::reg::kCompStride);
  EXPECT_EQ(MC2RAM_FIFO_DEPTH, mc2ram::reg::kFifoDepth);
  EXPECT_EQ(MC2RAM_ERR_DMA_INCOMPLETE, mc2ram::reg::ERR_DMA_INCOMPLETE);
  EXPECT_EQ(MC2RAM_MAX_K, static_cast<unsigned>(mc2ram::kMaxK));
  // every register of the MC2RAM table is at the offset regs.hpp names, and the model's bank is the table
  const auto m = mc2ram::register_map();
  ASSERT_FALSE(m.empty());
  EXPECT_EQ(m.front().name, "ID");
  EXPECT_EQ(m.back().offset, mc2ram::reg::ENERGY_HI);
}

#include "cimsim/core/energy_table.hpp"
#include "cimsim/mc2ram/macro.hpp"

// The macro's register bank is built from the table: same rows, same order, same attributes.
TEST(RegDesc, Mc2ramModelBankIsTheTable) {
  const EnergyTable t = EnergyTable::load_default();
  mc2ram::Macro m("mc2ram", mc2ram::Level::LT, t);
  const auto& bank = m.registers().defs();
  const auto table = mc2ram::register_map();
  ASSERT_EQ(bank.size(), table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(bank[i].name, table[i].name);
    EXPECT_EQ(bank[i].offset, table[i].offset);
    EXPECT_EQ(bank[i].access, table[i].access);
    EXPECT_EQ(bank[i].reset, table[i].reset);
    EXPECT_EQ(bank[i].write_mask, table[i].write_mask);
  }
}
