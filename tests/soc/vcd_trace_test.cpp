// VcdTrace (issue 10): an unwritable trace directory is an IoError before the simulation (it used to end in a
// SIGFPE inside SystemC), and a trace that cannot be written completely (full disk) is an IoError with
// nothing published (it used to be truncated and renamed into place, exit 0). One elaboration per process.
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <sys/resource.h>
#include <unistd.h>

#include <systemc>

#include "cimsim/core/error.hpp"
#include "cimsim/soc/vcd_trace.hpp"

namespace fs = std::filesystem;

namespace {

/// A counter that changes every nanosecond: about 10 bytes of VCD per step.
struct Ticker : sc_core::sc_module {
  int value = 0;
  int steps;
  SC_HAS_PROCESS(Ticker);
  Ticker(sc_core::sc_module_name n, int steps_) : sc_core::sc_module(n), steps(steps_) { SC_THREAD(run); }
  void run() {
    for (int i = 0; i < steps; ++i) {
      wait(1, sc_core::SC_NS);
      ++value;
    }
  }
};

fs::path fresh_dir(const char* tag) {
  const fs::path d = fs::temp_directory_path() / (std::string(tag) + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

size_t entries(const fs::path& d) { return static_cast<size_t>(std::distance(fs::directory_iterator(d), {})); }

}  // namespace

TEST(VcdTrace, CompleteTraceIsPublishedAndNothingElseRemains) {
  const fs::path dir = fresh_dir("cimsim_vcd_ok_");
  cimsim::VcdTrace vcd((dir / "t").string());
  Ticker t("t", 1000);
  sc_core::sc_trace(vcd.file(), t.value, "value");
  sc_core::sc_start();
  const std::string out = vcd.close();
  EXPECT_EQ(out, (dir / "t.vcd").string());
  std::ifstream f(out);
  const std::string text((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(text.find("$enddefinitions"), std::string::npos);
  EXPECT_NE(text.find("\n#1000000\n"), std::string::npos);  // the last change, at 1000 ns in ps
  EXPECT_EQ(entries(dir), 1u);  // no temporary, no FIFO left
  fs::remove_all(dir);
}

TEST(VcdTrace, UnwritableDirectoryIsAnIoErrorBeforeTheSimulation) {
  const fs::path dir = fresh_dir("cimsim_vcd_bad_");
  std::ofstream(dir / "file") << "x";  // a regular file where a directory is needed (fails for root too)
  const std::string stem = (dir / "file" / "sub" / "v").string();
  try {
    cimsim::VcdTrace vcd(stem);
    FAIL() << "created a trace under a regular file";
  } catch (const cimsim::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(stem + ".vcd"), std::string::npos) << e.what();
  }
  EXPECT_EQ(entries(dir), 1u);
  fs::remove_all(dir);
}

TEST(VcdTrace, FullDiskIsAnIoErrorAndPublishesNothing) {
  // RLIMIT_FSIZE makes writes past 8 KiB fail (EFBIG) the way a full disk fails them (ENOSPC).
  const fs::path dir = fresh_dir("cimsim_vcd_full_");
  std::signal(SIGXFSZ, SIG_IGN);
  cimsim::VcdTrace vcd((dir / "t").string());
  Ticker t("t", 20000);  // ~200 KB of trace
  sc_core::sc_trace(vcd.file(), t.value, "value");
  struct rlimit lim {};
  ::getrlimit(RLIMIT_FSIZE, &lim);
  const struct rlimit small {8192, lim.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  sc_core::sc_start();
  try {
    vcd.close();
    FAIL() << "a truncated trace was published";
  } catch (const cimsim::IoError& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "t.vcd").string()), std::string::npos) << e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &lim);
  EXPECT_FALSE(fs::exists(dir / "t.vcd"));
  EXPECT_EQ(entries(dir), 0u);
  fs::remove_all(dir);
}

TEST(VcdTrace, ExistingNonRegularFinalPathIsRefused) {
  const fs::path dir = fresh_dir("cimsim_vcd_link_");
  std::ofstream(dir / "target") << "keep";
  fs::create_symlink(dir / "target", dir / "t.vcd");
  EXPECT_THROW(cimsim::VcdTrace((dir / "t").string()), cimsim::IoError);
  EXPECT_TRUE(fs::is_symlink(dir / "t.vcd"));
  fs::remove_all(dir);
}
