// Architecture files: shipped design points, the minimum-buffer rule, and every bad-input case (the message names
// the file and the key).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cimsim/accel/arch.hpp"
#include "cimsim/core/error.hpp"
#include "workload_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using cimsim_test::BadCase;
using cimsim_test::expect_all_load;
using cimsim_test::expect_bad_files;
using cimsim_test::expect_error;
using cimsim_test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kArchDir = std::string(CIMSIM_SOURCE_DIR) + "/data/arch/";

// A valid file; `replace` swaps one line for another (or removes it when `with` is empty).
std::string arch_text(const std::string& line = "", const std::string& with = "") {
  std::string s =
      "name: t\n"
      "clock_hz: 1.0e9\n"
      "array:\n"
      "  rows: 16\n"
      "  cols: 16\n"
      "cim:\n"
      "  rows: 64\n"
      "  cols: 16\n"
      "  adc_cycles_per_bit: 1\n"
      "buffers:\n"
      "  weight_bytes: 65536\n"
      "  act_bytes: 131072\n"
      "dma:\n"
      "  bytes_per_cycle: 16\n"
      "vector:\n"
      "  lanes: 16\n"
      "double_buffering: false\n";
  if (!line.empty()) {
    const size_t p = s.find(line + "\n");
    if (p == std::string::npos) throw std::logic_error("arch_text: no line " + line);
    s.replace(p, line.size() + 1, with.empty() ? std::string() : with + "\n");
  }
  return s;
}

/// `s` without its first occurrence of `piece`.
std::string cut(std::string s, const std::string& piece) {
  const size_t p = s.find(piece);
  if (p == std::string::npos) throw std::logic_error("cut: no " + piece);
  return s.erase(p, piece.size());
}

}  // namespace

TEST(ArchFile, DefaultIsTheBuiltInDefaults) {
  const Architecture a = load_architecture(kArchDir + "default.yaml");
  const ArrayConfig d;
  EXPECT_EQ(a.name, "default");
  EXPECT_EQ(a.origin, kArchDir + "default.yaml");
  EXPECT_EQ(a.array.rows, d.rows);
  EXPECT_EQ(a.array.cols, d.cols);
  EXPECT_EQ(a.array.cim_rows, d.cim_rows);
  EXPECT_EQ(a.array.cim_cols, d.cim_cols);
  EXPECT_EQ(a.array.weight_buffer_bytes, d.weight_buffer_bytes);
  EXPECT_EQ(a.array.act_buffer_bytes, d.act_buffer_bytes);
  EXPECT_EQ(a.array.dma_bytes_per_cycle, d.dma_bytes_per_cycle);
  EXPECT_EQ(a.array.adc_cycles_per_bit, d.adc_cycles_per_bit);
  EXPECT_EQ(a.array.vector_lanes, d.vector_lanes);
  EXPECT_EQ(a.array.double_buffer, d.double_buffer);
  EXPECT_EQ(a.array.clock_hz, 1e9);
  EXPECT_TRUE(fs::equivalent(a.tech_path, std::string(CIMSIM_SOURCE_DIR) + "/data/tech/45nm.json"));
}

TEST(ArchFile, ShippedDesignPoints) {
  const Architecture e = load_architecture(kArchDir + "edge-small.yaml");
  EXPECT_EQ(e.name, "edge-small");
  EXPECT_EQ(e.array.rows, 8);
  EXPECT_EQ(e.array.cols, 8);
  EXPECT_EQ(e.array.cim_rows, 64);
  EXPECT_EQ(e.array.cim_cols, 8);
  EXPECT_EQ(e.array.weight_buffer_bytes, 16 * 1024);
  EXPECT_EQ(e.array.act_buffer_bytes, 32 * 1024);
  EXPECT_EQ(e.array.dma_bytes_per_cycle, 8);
  EXPECT_EQ(e.array.vector_lanes, 8);
  EXPECT_FALSE(e.array.double_buffer);
  const Architecture l = load_architecture(kArchDir + "large.yaml");
  EXPECT_EQ(l.name, "large");
  EXPECT_EQ(l.array.rows, 32);
  EXPECT_EQ(l.array.cols, 32);
  EXPECT_EQ(l.array.cim_rows, 128);
  EXPECT_EQ(l.array.cim_cols, 32);
  EXPECT_EQ(l.array.weight_buffer_bytes, 256 * 1024);
  EXPECT_EQ(l.array.act_buffer_bytes, 512 * 1024);
  EXPECT_EQ(l.array.dma_bytes_per_cycle, 32);
  EXPECT_EQ(l.array.vector_lanes, 32);
  EXPECT_TRUE(l.array.double_buffer);
  // Every shipped file loads.
  EXPECT_GE(expect_all_load(kArchDir, ".yaml", [](const std::string& p) { load_architecture(p); }), 3);
}

TEST(ArchFile, NameDefaultsToStemAndTechIsOptionalAndRelative) {
  TempDir d;
  const std::string p = d.write("my-point.yaml", arch_text("name: t"));
  const Architecture a = load_architecture(p);
  EXPECT_EQ(a.name, "my-point");
  EXPECT_EQ(a.tech_path, "");
  EXPECT_EQ(a.array.clock_hz, 1e9);
  fs::create_directories(d.path / "tables");
  d.write("tables/t.json", "{}");
  const Architecture b = load_architecture(d.write("rel.yaml", "tech: tables/t.json\n" + arch_text("clock_hz: 1.0e9")));
  EXPECT_EQ(b.tech_path, (d.path / "tables" / "t.json").string());
  EXPECT_EQ(b.array.clock_hz, 0.0);  // not set: the table's clock
  const std::string abs = (d.path / "tables" / "t.json").string();
  EXPECT_EQ(load_architecture(d.write("abs.yaml", "tech: " + abs + "\n" + arch_text())).tech_path, abs);
  EXPECT_TRUE(load_architecture(d.write("db.yaml", arch_text("double_buffering: false", "double_buffering: true")))
                  .array.double_buffer);
}

TEST(ArchFile, MinimumBufferRule) {
  ArrayConfig c;  // 16x16 array, 64x16 macro: max(256, 1024) + 16 x 16 = 1280
  EXPECT_EQ(min_weight_buffer_bytes(c), 1280);
  c.rows = c.cols = 64;  // 64x64 array, 64x16 macro: 4096 + 16 x 64
  EXPECT_EQ(min_weight_buffer_bytes(c), 4096 + 1024);
  c.cim_cols = 128;  // macro 64x128 = 8192, requant for 128 channels
  EXPECT_EQ(min_weight_buffer_bytes(c), 8192 + 2048);
  EXPECT_EQ(min_act_buffer_bytes(c), 8192);

  TempDir d;
  auto with = [&](const std::string& w, const std::string& a) {
    std::string t = arch_text("  weight_bytes: 65536", "  weight_bytes: " + w);
    const size_t p = t.find("  act_bytes: 131072");
    t.replace(p, 19, "  act_bytes: " + a);
    return d.write("b.yaml", t);
  };
  EXPECT_EQ(load_architecture(with("1280", "8192")).array.weight_buffer_bytes, 1280);
  const std::string p1 = with("1279", "8192");
  expect_error<ConfigError>([&] { load_architecture(p1); }, {p1, "buffers.weight_bytes", "1280"}, "weight 1279");
  const std::string p2 = with("1280", "8191");
  expect_error<ConfigError>([&] { load_architecture(p2); }, {p2, "buffers.act_bytes", "8192"}, "act 8191");
}

TEST(ArchFile, BadInputNamesFileAndKey) {
  const std::vector<BadCase> cases = {
      {"missing key", arch_text("  cols: 16"), {"array.cols", "missing"}},
      {"missing section", cut(arch_text(), "dma:\n  bytes_per_cycle: 16\n"), {"'dma'", "missing"}},
      {"missing boolean", arch_text("double_buffering: false"), {"double_buffering", "missing"}},
      {"unknown top key", arch_text() + "frequency: 3\n", {"'frequency'", "unknown key"}},
      {"unknown nested key", arch_text("  rows: 16", "  rows: 16\n  depth: 4"), {"array.depth", "unknown key"}},
      {"non-numeric", arch_text("  rows: 16", "  rows: sixteen"), {"array.rows", "non-numeric", "line 4"}},
      {"non-integer", arch_text("  lanes: 16", "  lanes: 16.5"), {"vector.lanes", "integer", "16.5"}},
      {"zero", arch_text("  bytes_per_cycle: 16", "  bytes_per_cycle: 0"), {"dma.bytes_per_cycle", ">= 1"}},
      {"negative", arch_text("  cols: 16", "  cols: -4"), {"array.cols", ">= 1"}},
      {"absurd array", arch_text("  rows: 16", "  rows: 100000"), {"array.rows", "out of range", "256"}},
      {"absurd buffer", arch_text("  act_bytes: 131072", "  act_bytes: 1099511627776"), {"buffers.act_bytes", "range"}},
      {"int overflow", arch_text("  act_bytes: 131072", "  act_bytes: 99999999999999999999999"),
       {"buffers.act_bytes", "range"}},
      {"adc cycles", arch_text("  adc_cycles_per_bit: 1", "  adc_cycles_per_bit: 65"), {"cim.adc_cycles_per_bit", "64"}},
      {"quoted number", arch_text("  lanes: 16", "  lanes: \"16\""), {"vector.lanes", "quoted"}},
      {"null value", arch_text("  lanes: 16", "  lanes:"), {"vector.lanes", "no value"}},
      {"list value", arch_text("  lanes: 16", "  lanes: [16]"), {"vector.lanes", "list"}},
      {"boolean yes", arch_text("double_buffering: false", "double_buffering: yes"), {"double_buffering", "true or false"}},
      {"boolean number", arch_text("double_buffering: false", "double_buffering: 1"), {"double_buffering", "true or false"}},
      {"section not a map", cut(arch_text(), "\n  lanes: 16"), {"'vector'", "mapping"}},
      {"duplicate key", arch_text("  rows: 16", "  rows: 16\n  rows: 8"), {"array.rows", "twice"}},
      {"clock range", arch_text("clock_hz: 1.0e9", "clock_hz: 1e300"), {"clock_hz", "range"}},
      {"clock nan", arch_text("clock_hz: 1.0e9", "clock_hz: .nan"), {"clock_hz", "non-numeric"}},
      {"clock text", arch_text("clock_hz: 1.0e9", "clock_hz: fast"), {"clock_hz", "non-numeric"}},
      {"tech missing", "tech: nowhere/t.json\n" + arch_text(), {"'tech'", "nowhere/t.json", "does not exist"}},
      {"empty name", arch_text("name: t", "name: \"\""), {"'name'", "non-empty"}},
      {"malformed", "array: {rows: 16\n", {"malformed YAML"}},
      {"empty file", "", {"empty"}},
      {"not a mapping", "- 1\n- 2\n", {"mapping"}},
  };
  TempDir d;
  expect_bad_files(d, cases, ".yaml", [](const std::string& p) { load_architecture(p); });
  expect_error<IoError>([&] { load_architecture((d.path / "absent.yaml").string()); }, {"absent.yaml"}, "absent");
}
