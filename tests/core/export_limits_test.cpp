// Issue 24: an export is checked against what the simulator can build before anything is allocated (a 1 TiB
// weight buffer was accepted), and its JSON depth is bounded (a 200,000-deep "meta" overflowed the stack).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/enos/synthetic.hpp"

namespace fs = std::filesystem;

namespace {
std::string load_error(const nlohmann::json& j, const std::string& name) {
  const fs::path p = fs::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + ".enos.json");
  std::ofstream(p) << j.dump();
  std::string m;
  try {
    (void)cimsim::enos::load_export(p.string());
  } catch (const cimsim::ConfigError& e) {
    m = e.what();
  }
  fs::remove(p);
  return m;
}
}  // namespace

TEST(ExportLimits, BuffersBeyondWhatTheSimulatorBuildsAreRefused) {
  const cimsim::EnergyTable table = cimsim::EnergyTable::load_default();
  nlohmann::json j = cimsim::enos::export_to_json(cimsim::enos::make_synthetic_export(1, table));
  EXPECT_EQ(load_error(j, "ok"), "");
  j["array"]["weight_buffer_bytes"] = int64_t{1} << 40;  // 1 TiB
  const std::string m = load_error(j, "tib");
  EXPECT_NE(m.find("weight_buffer_bytes"), std::string::npos) << m;
  j["array"]["weight_buffer_bytes"] = 65536;
  j["array"]["rows"] = 65536;
  EXPECT_NE(load_error(j, "rows").find("rows"), std::string::npos);
}

TEST(ExportLimits, DeeplyNestedMetaIsAConfigErrorNotACrash) {
  const cimsim::EnergyTable table = cimsim::EnergyTable::load_default();
  const std::string base = cimsim::enos::export_to_json(cimsim::enos::make_synthetic_export(2, table)).dump();
  const fs::path p = fs::temp_directory_path() / ("deep_" + std::to_string(::getpid()) + ".enos.json");
  // Replace the object's last '}' with a 200,000-deep "meta" (400 KB).
  std::ofstream(p) << base.substr(0, base.rfind('}')) << ", \"meta2\": " << std::string(200000, '[')
                   << std::string(200000, ']') << "}";
  try {
    (void)cimsim::enos::load_export(p.string());
    ADD_FAILURE() << "accepted";
  } catch (const cimsim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("nested deeper than 256 levels"), std::string::npos) << e.what();
  }
  fs::remove(p);
}
