#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"

namespace fs = std::filesystem;

TEST(Io, AtomicWriteCreatesDirsAndLeavesNoTemporaries) {
  const fs::path dir = fs::temp_directory_path() / ("cimsim_io_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string path = (dir / "a" / "out.json").string();
  cimsim::atomic_write_json(path, {{"x", 1}});
  cimsim::atomic_write_json(path, {{"x", 2}});
  EXPECT_EQ(cimsim::load_json_or_yaml(path)["x"], 2);
  int files = 0;
  for (auto& e : fs::directory_iterator(dir / "a")) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

TEST(Io, YamlAndJsonParseAndErrorsNameTheFile) {
  const fs::path dir = fs::temp_directory_path() / ("cimsim_yaml_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "g.yaml") << "k: 2\nweights: [0.5, 0.5]\nname: two\n";
  const auto j = cimsim::load_json_or_yaml((dir / "g.yaml").string());
  EXPECT_EQ(j["k"], 2);
  EXPECT_DOUBLE_EQ(j["weights"][1].get<double>(), 0.5);
  EXPECT_EQ(j["name"], "two");
  std::ofstream(dir / "bad.json") << "{\"k\": ";
  try {
    cimsim::load_json_or_yaml((dir / "bad.json").string());
    FAIL();
  } catch (const cimsim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("bad.json"), std::string::npos);
  }
  EXPECT_THROW(cimsim::load_json_or_yaml((dir / "none.json").string()), cimsim::IoError);
  fs::remove_all(dir);
}

// Data lookup (docs/integration.md): $CIMSIM_DATA wins; otherwise <prefix>/share/cimsim found from the running
// program (here the build tree's share/cimsim, a link to the source data/). No absolute path is compiled in.
TEST(Io, DataDirIsFoundRelativeToTheProgramUnlessOverridden) {
  ::unsetenv("CIMSIM_DATA");
  const std::string d = cimsim::data_dir();
  EXPECT_NE(d.find("share/cimsim"), std::string::npos) << d;
  EXPECT_TRUE(std::filesystem::is_regular_file(std::filesystem::path(d) / "tech" / "45nm.json")) << d;
  ::setenv("CIMSIM_DATA", "/somewhere/else", 1);
  EXPECT_EQ(cimsim::data_dir(), "/somewhere/else");
  ::unsetenv("CIMSIM_DATA");
}
