#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>
#include <filesystem>
#include <fstream>
#include <iterator>

#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/core/yaml.hpp"

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

// Issue 11 (item 8): out-of-range numbers, YAML non-finite floats and duplicate keys are refused, naming the
// file and the key (JSON) or line:column (YAML).
TEST(Io, OutOfRangeNonFiniteAndDuplicateKeysAreRefused) {
  const fs::path dir = fs::temp_directory_path() / ("cimsim_badnum_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto expect_error = [&](const std::string& name, const std::string& text, std::vector<std::string> parts) {
    std::ofstream(dir / name) << text;
    try {
      cimsim::load_json_or_yaml((dir / name).string());
      ADD_FAILURE() << name << " was accepted";
    } catch (const cimsim::ConfigError& e) {
      parts.push_back(name);
      for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  };
  expect_error("big.json", "{\"weights\": [1.0], \"means\": [[1e400]]}", {"means", "out of the range"});
  expect_error("dup.json", "{\"weights\": [1.0], \"weights\": [0.5]}", {"duplicate key \"weights\""});
  expect_error("dupin.json", "{\"a\": {\"x\": 1, \"x\": 2}}", {"duplicate key \"x\""});
  expect_error("big.yaml", "weights: [1.0]\nmeans: [[1e400]]\n", {":2:", "1e400", "out of the range"});
  expect_error("nan.yaml", "weights: [.nan]\n", {":1:", ".nan", "non-finite"});
  expect_error("inf.yaml", "means: [[-.inf, 1]]\n", {"-.inf", "non-finite"});
  expect_error("dup.yaml", "weights: [1]\nweights: [2]\n", {":2:", "duplicate key \"weights\""});
  // Still fine: tiny numbers, the same key in different objects, quoted "nan" strings.
  std::ofstream(dir / "ok.json") << "{\"a\": {\"x\": 1e-300}, \"b\": {\"x\": 2}, \"s\": \"nan\"}";
  const auto j = cimsim::load_json_or_yaml((dir / "ok.json").string());
  EXPECT_EQ(j["b"]["x"], 2);
  std::ofstream(dir / "ok.yaml") << "s: 'nan'\nv: 1e-300\n";
  EXPECT_EQ(cimsim::load_json_or_yaml((dir / "ok.yaml").string())["s"], "nan");
  fs::remove_all(dir);
}

// ---- issue 10: outputs replace regular files only; every write is checked
namespace {
fs::path fresh_dir(const char* tag) {
  const fs::path dir = fs::temp_directory_path() / (std::string(tag) + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}
std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void expect_refused(const fs::path& p, const char* kind) {
  try {
    cimsim::atomic_write(p.string(), "new\n");
    FAIL() << "replaced " << kind << " " << p;
  } catch (const cimsim::IoError& e) {
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(kind), std::string::npos) << e.what();
  }
}
}  // namespace

TEST(Io, AtomicWriteRefusesToReplaceSymlinksFifosAndDirectories) {
  const fs::path dir = fresh_dir("cimsim_io_nonreg_");
  std::ofstream(dir / "target.txt") << "keep\n";
  fs::create_symlink(dir / "target.txt", dir / "link.txt");
  expect_refused(dir / "link.txt", "symbolic link");
  EXPECT_TRUE(fs::is_symlink(dir / "link.txt"));
  EXPECT_EQ(slurp(dir / "target.txt"), "keep\n");
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0644), 0);
  expect_refused(dir / "fifo", "FIFO");
  EXPECT_TRUE(fs::is_fifo(dir / "fifo"));
  fs::create_directories(dir / "sub");
  expect_refused(dir / "sub", "directory");
  EXPECT_TRUE(fs::is_directory(dir / "sub"));
  int temporaries = 0;
  for (auto& e : fs::directory_iterator(dir)) temporaries += e.path().filename().string().find(".tmp") != std::string::npos;
  EXPECT_EQ(temporaries, 0);
  fs::remove_all(dir);
}

TEST(Io, AtomicWriteOnAFullDiskFailsAndKeepsTheOldFile) {
  // RLIMIT_FSIZE makes write() fail with EFBIG past the limit, as a full disk fails with ENOSPC.
  const fs::path dir = fresh_dir("cimsim_io_full_");
  const fs::path out = dir / "report.json";
  cimsim::atomic_write(out.string(), "old\n");
  std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit lim {};
  ::getrlimit(RLIMIT_FSIZE, &lim);
  const struct rlimit small {4096, lim.rlim_max};
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  EXPECT_THROW(cimsim::atomic_write(out.string(), std::string(100000, 'x')), cimsim::IoError);
  ::setrlimit(RLIMIT_FSIZE, &lim);
  EXPECT_EQ(slurp(out), "old\n");
  int files = 0;
  for (auto& e : fs::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  fs::remove_all(dir);
}

TEST(Io, JsonNumberOverflowIsAConfigErrorNamingTheFile) {
  const fs::path dir = fresh_dir("cimsim_io_1e999_");
  std::ofstream(dir / "big.json") << "{\"x\": 1e999}";
  try {
    cimsim::load_json_or_yaml((dir / "big.json").string());
    FAIL();
  } catch (const cimsim::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("big.json"), std::string::npos) << e.what();
  }
  EXPECT_THROW(cimsim::read_file(dir.string()), cimsim::IoError);  // a directory is not a readable file
  fs::remove_all(dir);
}

// ---- issue 24: inputs bounded before they are read ----
namespace {
fs::path scratch(const std::string& tag) {
  const fs::path d = fs::temp_directory_path() / ("cimsim_bounded_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}
template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception of the expected type";
  return "";
}
}  // namespace

// /dev/zero was read until memory ran out; a FIFO without a writer blocked forever (the test would time out).
TEST(BoundedInput, NonRegularFilesAreRefusedWithoutReading) {
  const fs::path d = scratch("nonreg");
  const std::string fifo = (d / "in.yaml").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string m = error_of<cimsim::IoError>([&] { cimsim::load_json_or_yaml(fifo); });
  EXPECT_NE(m.find(fifo), std::string::npos) << m;
  EXPECT_NE(m.find("a FIFO, not a regular file"), std::string::npos) << m;
  m = error_of<cimsim::IoError>([] { cimsim::read_file("/dev/zero"); });
  EXPECT_NE(m.find("/dev/zero: it is a character device"), std::string::npos) << m;
  m = error_of<cimsim::IoError>([&] { cimsim::read_file(d.string()); });
  EXPECT_NE(m.find("a directory"), std::string::npos) << m;
  EXPECT_THROW(cimsim::check_input_file(fifo, cimsim::InputKind::Checkpoint), cimsim::IoError);
  fs::remove_all(d);
}

TEST(BoundedInput, SizeLimitPerKindIsOverridable) {
  const fs::path d = scratch("size");
  const std::string f = (d / "t.json").string();
  std::ofstream(f) << "{\"a\": \"" << std::string(2000, 'x') << "\"}";
  EXPECT_EQ(cimsim::input_limit(cimsim::InputKind::Config), uint64_t{64} << 20);
  EXPECT_EQ(cimsim::input_limit(cimsim::InputKind::Export), uint64_t{4} << 30);
  ::setenv("CIMSIM_MAX_CONFIG_BYTES", "1000", 1);
  const std::string m = error_of<cimsim::ConfigError>([&] { cimsim::load_json_or_yaml(f); });
  EXPECT_NE(m.find(f), std::string::npos) << m;
  EXPECT_NE(m.find("CIMSIM_MAX_CONFIG_BYTES"), std::string::npos) << m;
  EXPECT_NO_THROW(cimsim::read_file(f, cimsim::InputKind::Export));  // another kind, another limit
  ::setenv("CIMSIM_MAX_CONFIG_BYTES", "-5", 1);
  EXPECT_THROW(cimsim::input_limit(cimsim::InputKind::Config), cimsim::ConfigError);
  ::unsetenv("CIMSIM_MAX_CONFIG_BYTES");
  EXPECT_EQ(cimsim::load_json_or_yaml(f)["a"].get<std::string>().size(), 2000u);
  fs::remove_all(d);
}

// A 200,000-deep "meta" (400 KB) overflowed the stack in a recursive JSON copy.
TEST(BoundedInput, JsonNestingIsBounded) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  std::string m = error_of<cimsim::ConfigError>([&] { cimsim::parse_json(deep, "deep.json"); });
  EXPECT_NE(m.find("deep.json: JSON nested deeper than 256 levels"), std::string::npos) << m;
  const std::string meta = "{\"meta\": " + std::string(300, '[') + std::string(300, ']') + "}";
  m = error_of<cimsim::ConfigError>([&] { cimsim::parse_json(meta, "m.json"); });
  EXPECT_NE(m.find("under \"meta\""), std::string::npos) << m;
  const std::string ok = std::string(200, '[') + std::string(200, ']');
  EXPECT_NO_THROW(cimsim::parse_json(ok, "ok.json"));
}

// The "billion laughs": a 1.7 KB GMM file reached 3.4 GB and aborted (std::bad_alloc through a noexcept frame).
TEST(BoundedInput, YamlAliasExpansionIsBoundedBeforeConversion) {
  std::string y = "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  for (int i = 1; i < 12; ++i) {
    y += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k) y += std::string(k ? ", " : "") + "*a" + std::to_string(i - 1);
    y += "]\n";
  }
  EXPECT_LT(y.size(), 2000u);
  const fs::path d = scratch("laughs");
  std::ofstream(d / "bomb.yaml") << y;
  const std::string m = error_of<cimsim::ConfigError>([&] { cimsim::load_json_or_yaml((d / "bomb.yaml").string()); });
  EXPECT_NE(m.find("more than 1000000 nodes"), std::string::npos) << m;
  EXPECT_NE(m.find("bomb.yaml"), std::string::npos) << m;
  // Aliases within the bound still work.
  std::ofstream(d / "small.yaml") << "base: &b {x: 1}\nuse: *b\n";
  EXPECT_EQ(cimsim::load_json_or_yaml((d / "small.yaml").string())["use"]["x"], 1);
  // Depth through aliases.
  std::string deep;
  for (int i = 0; i < 300; ++i) deep += "[";
  for (int i = 0; i < 300; ++i) deep += "]";
  EXPECT_THROW(cimsim::load_yaml(deep, "deep.yaml"), cimsim::ConfigError);
  fs::remove_all(d);
}

// A second document was ignored silently.
TEST(BoundedInput, SecondYamlDocumentIsRefused) {
  const std::string m =
      error_of<cimsim::ConfigError>([] { cimsim::load_yaml("k: 1\n---\nk: 2\n", "two.yaml"); });
  EXPECT_NE(m.find("two.yaml:"), std::string::npos) << m;
  EXPECT_NE(m.find("second YAML document"), std::string::npos) << m;
  EXPECT_TRUE(cimsim::load_yaml("", "empty.yaml").IsNull());
  EXPECT_EQ(cimsim::load_yaml("---\nk: 1\n", "one.yaml")["k"].as<int>(), 1);
  EXPECT_EQ(cimsim::load_yaml("%YAML 1.2\n---\nk: 1\n...\n# end\n", "one.yaml")["k"].as<int>(), 1);
  EXPECT_EQ(cimsim::load_yaml("k: |\n  ---\n  text\n", "block.yaml")["k"].as<std::string>(), "---\ntext\n");
  EXPECT_NE(error_of<cimsim::ConfigError>([] { cimsim::load_yaml("k: 1\n...\nk: 2\n", "e.yaml"); })
                .find("e.yaml:3: a second YAML document"),
            std::string::npos);
}

// fuzz_sweep_spec found a 216-byte input on which yaml-cpp 0.7's LoadAll never returns; load_yaml must answer
// (an error or a document), as it does for every input. Kept in fuzz/repro/.
TEST(BoundedInput, YamlLoadAllHangReproducerAnswers) {
  std::ifstream f(std::string(CIMSIM_TEST_SOURCE_DIR) + "/fuzz/repro/sweep-spec-loadall-hang.yaml", std::ios::binary);
  ASSERT_TRUE(f.good());
  const std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  ASSERT_EQ(text.size(), 216u);
  try {
    cimsim::load_yaml(text, "repro.yaml");
  } catch (const cimsim::ConfigError&) {
  }
}

// Output paths are checked before any work starts, without creating anything.
TEST(OutputPaths, CheckedBeforeTheWorkWithoutSideEffects) {
  const fs::path d = scratch("outpaths");
  std::ofstream(d / "file") << "x";
  std::string m = error_of<cimsim::IoError>([&] { cimsim::check_output_path((d / "file" / "r.json").string(), "--report"); });
  EXPECT_NE(m.find("--report"), std::string::npos) << m;
  EXPECT_NE(m.find("is not a directory"), std::string::npos) << m;
  m = error_of<cimsim::IoError>([&] { cimsim::check_output_path(d.string(), "--report-csv"); });
  EXPECT_NE(m.find("--report-csv"), std::string::npos) << m;
  EXPECT_NO_THROW(cimsim::check_output_path((d / "new" / "deeper" / "r.json").string(), "--report"));
  EXPECT_FALSE(fs::exists(d / "new"));
  EXPECT_NO_THROW(cimsim::check_output_path((d / "file").string(), "--report"));  // a regular file is replaced
  EXPECT_THROW(cimsim::check_output_path("", "--plot"), cimsim::IoError);
  fs::remove_all(d);
}

TEST(OutputPaths, OutputWriterWritesTheOthersAndReportsEveryFailure) {
  const fs::path d = scratch("writer");
  std::ofstream(d / "file") << "x";
  cimsim::OutputWriter w;
  w.attempt("--report-csv", [&] { cimsim::atomic_write((d / "file" / "c.csv").string(), "x"); });
  w.attempt("--report", [&] { cimsim::atomic_write((d / "r.json").string(), "{}\n"); });
  w.attempt("--plot", [&] { cimsim::atomic_write((d / "file" / "p.png").string(), "x"); });
  const std::string m = error_of<cimsim::IoError>([&] { w.finish(); });
  EXPECT_TRUE(fs::is_regular_file(d / "r.json"));
  EXPECT_NE(m.find("--plot"), std::string::npos) << m;
  EXPECT_NE(m.find("(written: --report"), std::string::npos) << m;
  fs::remove_all(d);
}
