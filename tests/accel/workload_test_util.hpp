#pragma once
// Helpers for the workload/report tests: a per-test temporary directory and "the message names X" checks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

#include "cimsim/core/error.hpp"

namespace cimsim_test {

/// A fresh directory for this test (removed on destruction).
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path = std::filesystem::temp_directory_path() /
           ("cimsim_workload_" + std::to_string(::getpid()) + "_" + (info ? info->name() : "x"));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  /// Writes `text` to `name` in this directory; returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
};

/// Runs `f`, expects an exception of type E whose message contains every string of `parts`.
template <class E>
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts, const std::string& label) {
  try {
    f();
    ADD_FAILURE() << label << ": no exception";
  } catch (const E& e) {
    const std::string m = e.what();
    for (const auto& p : parts) EXPECT_NE(m.find(p), std::string::npos) << label << ": '" << p << "' not in: " << m;
  } catch (const std::exception& e) {
    ADD_FAILURE() << label << ": wrong exception type: " << e.what();
  }
}

/// One bad input file: its text and the pieces its error message must contain (besides the file's path).
struct BadCase {
  std::string label, text;
  std::vector<std::string> parts;
};

/// Writes every case to its own file (bad<i><ext>) in `dir` and expects `load(path)` to throw a ConfigError naming
/// the path and every part.
template <class Load>
void expect_bad_files(const TempDir& dir, const std::vector<BadCase>& cases, const std::string& ext, Load load) {
  int i = 0;
  for (const auto& c : cases) {
    const std::string p = dir.write("bad" + std::to_string(i++) + ext, c.text);
    std::vector<std::string> parts = c.parts;
    parts.push_back(p);
    expect_error<cimsim::ConfigError>([&] { load(p); }, parts, c.label);
  }
}

/// Loads every file with extension `ext` in `dir` (expecting no exception); returns how many there were.
template <class Load>
int expect_all_load(const std::string& dir, const std::string& ext, Load load) {
  int n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir))
    if (f.path().extension() == ext) {
      EXPECT_NO_THROW(load(f.path().string())) << f.path();
      ++n;
    }
  return n;
}

}  // namespace cimsim_test
