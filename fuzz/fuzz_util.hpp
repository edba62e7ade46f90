#pragma once
// Shared helpers of the libFuzzer targets (fuzz/README in docs/robustness.md).
// Policy: a target feeds arbitrary bytes to one entry point. ConfigError / IoError are the documented answers
// to bad input and are ignored; any other exception (a raw JSON library exception, std::out_of_range,
// std::bad_alloc, ...) is a finding and aborts, as do crashes, sanitizer reports, timeouts and mallocs above
// -malloc_limit_mb.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "cimsim/core/error.hpp"

namespace cimsim::fuzz {

/// Writes the input to a per-process scratch file (in /dev/shm when present) and returns its path; loaders
/// that take a path are fuzzed through the same code path users hit.
inline std::string as_file(const uint8_t* data, size_t size, const std::string& ext) {
  static const std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  const std::string path = dir + "/cimsim-fuzz-" + std::to_string(::getpid()) + ext;
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  return path;
}

/// Runs `f`; the project's own error types are fine, anything else is reported and aborts.
template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const ConfigError&) {
  } catch (const IoError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz finding: unexpected exception: %s\n", e.what());
    std::abort();
  }
}

/// Seed corpus support: when $CIMSIM_FUZZ_SEED_DIR is set, LLVMFuzzerInitialize writes generated seeds there
/// (scripts/fuzz.sh does this once per target before fuzzing).
inline const char* seed_dir() { return std::getenv("CIMSIM_FUZZ_SEED_DIR"); }
inline void write_seed(const std::string& name, const std::vector<uint8_t>& bytes) {
  const char* d = seed_dir();
  if (!d) return;
  std::ofstream(std::string(d) + "/" + name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}
inline void write_seed(const std::string& name, const std::string& text) {
  write_seed(name, std::vector<uint8_t>(text.begin(), text.end()));
}

}  // namespace cimsim::fuzz
