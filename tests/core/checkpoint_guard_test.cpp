// Issue 24: a search's --out-dir is never replaced without being told, and a checkpoint is verified (zip
// CRC-32 of every record) before it is resumed from. The end-to-end cases through `cimsim search` are in
// tests/core/search_outdir_test.sh.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "cimsim/core/error.hpp"
#include "cimsim/enos/checkpoint_guard.hpp"

namespace fs = std::filesystem;
using cimsim::enos::check_search_out_dir;
using cimsim::enos::verify_zip_checksums;

namespace {
// A stored (uncompressed) zip archive written independently of the checker: sizes and CRC-32 from zlib's
// definition (bitwise, no table).
uint32_t crc_bitwise(const std::string& s) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : s) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}
void put(std::string& o, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) o += static_cast<char>((v >> (8 * i)) & 0xFF);
}
std::string make_zip(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out, cd;
  for (const auto& [name, data] : files) {
    const uint64_t off = out.size();
    const uint32_t crc = crc_bitwise(data);
    put(out, 0x04034b50, 4); put(out, 20, 2); put(out, 0, 2); put(out, 0, 2); put(out, 0, 4);
    put(out, crc, 4); put(out, data.size(), 4); put(out, data.size(), 4); put(out, name.size(), 2); put(out, 0, 2);
    out += name + data;
    put(cd, 0x02014b50, 4); put(cd, 20, 2); put(cd, 20, 2); put(cd, 0, 2); put(cd, 0, 2); put(cd, 0, 4);
    put(cd, crc, 4); put(cd, data.size(), 4); put(cd, data.size(), 4); put(cd, name.size(), 2); put(cd, 0, 2);
    put(cd, 0, 2); put(cd, 0, 2); put(cd, 0, 2); put(cd, 0, 4); put(cd, off, 4);
    cd += name;
  }
  const uint64_t cd_off = out.size();
  out += cd;
  put(out, 0x06054b50, 4); put(out, 0, 2); put(out, 0, 2); put(out, files.size(), 2); put(out, files.size(), 2);
  put(out, cd.size(), 4); put(out, cd_off, 4); put(out, 0, 2);
  return out;
}
std::string what_of(const std::string& bytes) {
  try {
    verify_zip_checksums(bytes, "ck.pt");
  } catch (const cimsim::ConfigError& e) {
    return e.what();
  }
  return "";
}
fs::path scratch(const std::string& tag) {
  const fs::path d = fs::temp_directory_path() / ("cimsim_ckguard_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
}  // namespace

TEST(CheckpointGuard, IntactArchivePassesAndAFlippedBitIsNamed) {
  const std::string tensor(4096, '\x3f');
  const std::string zip = make_zip({{"archive/data.pkl", "pickle"}, {"archive/data/0", tensor}});
  EXPECT_EQ(what_of(zip), "");
  std::string bad = zip;
  bad[30 + 16 + 6 + 30 + 14 + 2000] ^= 0x10;  // inside the tensor record's data
  const std::string m = what_of(bad);
  EXPECT_NE(m.find("checkpoint 'ck.pt' is corrupt"), std::string::npos) << m;
  EXPECT_NE(m.find("record 'archive/data/0' does not match its CRC-32"), std::string::npos) << m;
}

TEST(CheckpointGuard, TruncatedOrForeignBytesAreConfigErrors) {
  const std::string zip = make_zip({{"a", "hello"}});
  EXPECT_NE(what_of(zip.substr(0, zip.size() - 5)), "");
  EXPECT_NE(what_of("not a checkpoint\n"), "");
  EXPECT_NE(what_of(""), "");
  std::string lying = zip;
  lying[lying.size() - 6] = '\x7f';  // central directory offset beyond the file
  EXPECT_NE(what_of(lying).find("beyond the end"), std::string::npos) << what_of(lying);
}

TEST(CheckpointGuard, ReadCheckpointRefusesAFifoWithoutBlocking) {
  const fs::path d = scratch("fifo");
  const std::string f = (d / "checkpoint.pt").string();
  ASSERT_EQ(::mkfifo(f.c_str(), 0600), 0);
  EXPECT_THROW(cimsim::enos::read_checkpoint(f), cimsim::IoError);
  fs::remove_all(d);
}

TEST(CheckpointGuard, OutDirHoldingARunIsRefusedUnlessToldWhatToDo) {
  const fs::path d = scratch("outdir");
  EXPECT_NO_THROW(check_search_out_dir((d / "absent").string(), false, false));
  EXPECT_NO_THROW(check_search_out_dir(d.string(), false, false));  // empty
  std::ofstream(d / "notes.txt") << "mine";
  EXPECT_NO_THROW(check_search_out_dir(d.string(), false, false));  // other files only
  std::ofstream(d / "report.json") << "{}";
  try {
    check_search_out_dir(d.string(), false, false);
    FAIL();
  } catch (const cimsim::ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("already holds a search run (report.json)"), std::string::npos) << m;
    EXPECT_NE(m.find("--resume"), std::string::npos) << m;
    EXPECT_NE(m.find("--force"), std::string::npos) << m;
  }
  EXPECT_THROW(check_search_out_dir(d.string(), true, false), cimsim::ConfigError);  // nothing to resume from
  EXPECT_NO_THROW(check_search_out_dir(d.string(), false, true));
  std::ofstream(d / "checkpoint.pt") << "x";
  EXPECT_NO_THROW(check_search_out_dir(d.string(), true, false));
  EXPECT_THROW(check_search_out_dir(d.string(), true, true), cimsim::ConfigError);
  EXPECT_THROW(check_search_out_dir((d / "notes.txt").string(), false, false), cimsim::IoError);
  fs::remove_all(d);
}

TEST(CheckpointGuard, ConfigDifferenceNamesTheSetting) {
  const nlohmann::json a = {{"lr", 0.001}, {"seed", 1}, {"net", "squeezenet"}};
  nlohmann::json b = a;
  EXPECT_EQ(cimsim::enos::config_difference(a, b), "");
  b["lr"] = 0.002;
  EXPECT_EQ(cimsim::enos::config_difference(a, b), "'lr' (checkpoint 0.001, this run 0.002)");
  b.erase("seed");
  EXPECT_EQ(cimsim::enos::config_difference(a, b),
            "'lr' (checkpoint 0.001, this run 0.002), 'seed' (checkpoint 1, this run absent)");
}
