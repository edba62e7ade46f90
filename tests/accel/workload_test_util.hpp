#pragma once
// Helpers for the workload/report tests: a per-test temporary directory and "the message names X" checks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <unistd.h>

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

}  // namespace cimsim_test
