#pragma once
// libFuzzer-style entry points for the accelerator's workload loaders (architecture YAML, SCALE-Sim topology CSV,
// assignment CSV). Each parses the bytes as a file; a ConfigError or IoError is the expected answer to bad input;
// anything else escapes (libFuzzer reports it), and an accepted input that breaks the loader's own guarantees
// aborts. Return 0 always (libFuzzer convention). Build a fuzzer with
//   clang++ -fsanitize=fuzzer,address,undefined -DCIMSIM_FUZZ_TARGET=fuzz_arch accel_workload_fuzz.cpp ...
#include <cstddef>
#include <cstdint>

namespace cimsim::fuzz {

int fuzz_arch(const uint8_t* data, size_t size);
int fuzz_topology(const uint8_t* data, size_t size);
int fuzz_assignment(const uint8_t* data, size_t size);

}  // namespace cimsim::fuzz
