// RegisterBank bus rules, one behavior per test (plain payloads, no simulation needed).
#include <gtest/gtest.h>

#include <cstring>

#include "cimsim/soc/register_bank.hpp"

using cimsim::Access;
using cimsim::RegisterBank;

namespace {
struct Bank : ::testing::Test {
  RegisterBank bank{"dev"};
  int writes = 0;
  uint32_t live = 5;
  void SetUp() override {
    bank.add({"ID", 0x00, Access::RO, 0xC1D50001, 0xFFFFFFFF, "id", {}, {}, {}});
    bank.add({"CTRL", 0x04, Access::RW, 0x0, 0x3, "ctrl", {}, {}, [this](uint32_t, uint32_t) { ++writes; }});
    bank.add({"STATUS", 0x08, Access::W1C, 0x0, 0xFFFFFFFF, "status", {}, {}, {}});
    bank.add({"LIMIT", 0x0C, Access::RW, 0x10, 0xFFFFFFFF, "limit", {}, [](uint32_t v) { return v <= 100; }, {}});
    bank.add({"KICK", 0x10, Access::WO, 0x0, 0xFFFFFFFF, "kick", {}, {}, {}});
    bank.add({"LIVE", 0x14, Access::RO, 0x0, 0xFFFFFFFF, "live", [this](uint32_t) { return live; }, {}, {}});
  }
  tlm::tlm_response_status go(tlm::tlm_command cmd, uint64_t addr, uint32_t& v, unsigned len = 4,
                              unsigned char* be = nullptr, unsigned bel = 0, int streaming = -1) {
    tlm::tlm_generic_payload gp;
    unsigned char buf[8] = {};
    std::memcpy(buf, &v, 4);
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(buf);
    gp.set_data_length(len);
    gp.set_streaming_width(streaming < 0 ? len : static_cast<unsigned>(streaming));
    gp.set_byte_enable_ptr(be);
    gp.set_byte_enable_length(bel);
    const auto s = bank.access(gp);
    std::memcpy(&v, buf, 4);
    EXPECT_EQ(s, gp.get_response_status());
    return s;
  }
};
}  // namespace

TEST_F(Bank, ResetValuesReadBack) {
  uint32_t v = 0;
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x00, v), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(v, 0xC1D50001u);
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x0C, v), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(v, 0x10u);
}

TEST_F(Bank, ReadOnlyRejectsWrites) {
  uint32_t v = 1;
  EXPECT_EQ(go(tlm::TLM_WRITE_COMMAND, 0x00, v), tlm::TLM_COMMAND_ERROR_RESPONSE);
  EXPECT_EQ(bank.get("ID"), 0xC1D50001u);
}

TEST_F(Bank, WriteOnlyRejectsReads) {
  uint32_t v = 0;
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x10, v), tlm::TLM_COMMAND_ERROR_RESPONSE);
}

TEST_F(Bank, UnmappedAndMisalignedAddressesAreAddressErrors) {
  uint32_t v = 0;
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x40, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x02, v), tlm::TLM_ADDRESS_ERROR_RESPONSE);
}

TEST_F(Bank, WrongWidthIsBurstError) {
  uint32_t v = 0;
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x04, v, 2), tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x04, v, 8), tlm::TLM_BURST_ERROR_RESPONSE);
}

// Streaming width 0 means "no streaming" (riscv-vp's ISS and other VPs send it): accepted like 4.
TEST_F(Bank, StreamingWidthZeroIsNoStreaming) {
  uint32_t v = 2;
  EXPECT_EQ(go(tlm::TLM_WRITE_COMMAND, 0x04, v, 4, nullptr, 0, 0), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(bank.get("CTRL"), 2u);
  EXPECT_EQ(writes, 1);
  v = 0;
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x00, v, 4, nullptr, 0, 0), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(v, 0xC1D50001u);
  // a real streaming width below the register width is still a burst error
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x00, v, 4, nullptr, 0, 2), tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(go(tlm::TLM_WRITE_COMMAND, 0x04, v, 4, nullptr, 0, 1), tlm::TLM_BURST_ERROR_RESPONSE);
  EXPECT_EQ(bank.get("CTRL"), 2u);
}

TEST_F(Bank, PartialByteEnablesAreRejected) {
  uint32_t v = 3;
  unsigned char partial[4] = {0xFF, 0, 0xFF, 0xFF};
  EXPECT_EQ(go(tlm::TLM_WRITE_COMMAND, 0x04, v, 4, partial, 4), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  unsigned char full[4] = {0xFF, 0xFF, 0xFF, 0xFF};
  EXPECT_EQ(go(tlm::TLM_WRITE_COMMAND, 0x04, v, 4, full, 4), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(bank.get("CTRL"), 3u);
}

TEST_F(Bank, WriteMaskAndCallback) {
  uint32_t v = 0xFFFFFFFF;
  EXPECT_EQ(go(tlm::TLM_WRITE_COMMAND, 0x04, v), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(bank.get("CTRL"), 0x3u);
  EXPECT_EQ(writes, 1);
}

TEST_F(Bank, WriteOneToClear) {
  bank.set("STATUS", 0b1011);
  uint32_t v = 0b0010;
  EXPECT_EQ(go(tlm::TLM_WRITE_COMMAND, 0x08, v), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(bank.get("STATUS"), 0b1001u);
}

TEST_F(Bank, OutOfRangeWriteIsGenericErrorAndKeepsValue) {
  uint32_t v = 101;
  EXPECT_EQ(go(tlm::TLM_WRITE_COMMAND, 0x0C, v), tlm::TLM_GENERIC_ERROR_RESPONSE);
  EXPECT_EQ(bank.get("LIMIT"), 0x10u);
  v = 100;
  EXPECT_EQ(go(tlm::TLM_WRITE_COMMAND, 0x0C, v), tlm::TLM_OK_RESPONSE);
}

TEST_F(Bank, ReadCallbackPresentsLiveValue) {
  uint32_t v = 0;
  live = 77;
  EXPECT_EQ(go(tlm::TLM_READ_COMMAND, 0x14, v), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(v, 77u);
}

TEST_F(Bank, DebugAccessSpansRegistersWithoutSideEffects) {
  unsigned char buf[8] = {};
  tlm::tlm_generic_payload gp;
  gp.set_command(tlm::TLM_READ_COMMAND);
  gp.set_address(0x00);
  gp.set_data_ptr(buf);
  gp.set_data_length(8);
  EXPECT_EQ(bank.debug_access(gp), 8u);
  uint32_t id;
  std::memcpy(&id, buf, 4);
  EXPECT_EQ(id, 0xC1D50001u);
  uint32_t w = 9;
  gp.set_command(tlm::TLM_WRITE_COMMAND);
  gp.set_address(0x04);
  gp.set_data_ptr(reinterpret_cast<unsigned char*>(&w));
  gp.set_data_length(4);
  EXPECT_EQ(bank.debug_access(gp), 4u);
  EXPECT_EQ(bank.get("CTRL"), 9u);
  EXPECT_EQ(writes, 0);
  gp.set_address(0x100);
  EXPECT_EQ(bank.debug_access(gp), 0u);
}

TEST_F(Bank, MarkdownListsEveryRegister) {
  const auto md = bank.to_markdown();
  for (const auto& d : bank.defs()) EXPECT_NE(md.find(d.name), std::string::npos);
}

TEST(RegisterBankDef, OverlapIsRejected) {
  RegisterBank b("x");
  b.add({"A", 0, Access::RW, 0, 0xFFFFFFFF, "", {}, {}, {}});
  EXPECT_THROW(b.add({"B", 0, Access::RW, 0, 0xFFFFFFFF, "", {}, {}, {}}), std::logic_error);
  EXPECT_THROW(b.add({"C", 2, Access::RW, 0, 0xFFFFFFFF, "", {}, {}, {}}), std::logic_error);
}
