// A short deterministic mutation run through the libFuzzer entry points (tests/fuzz/accel_workload_fuzz.cpp):
// every mutant of the shipped files must end in a result or a ConfigError/IoError, never another exception or
// a broken invariant (which aborts). The long coverage-guided runs are libFuzzer's (see that file).
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "cimsim/core/io.hpp"
#include "fuzz/accel_workload_fuzz.hpp"

namespace fs = std::filesystem;

namespace {

using Entry = int (*)(const uint8_t*, size_t);

void mutate_and_run(Entry entry, const std::vector<std::string>& seeds, int rounds) {
  std::mt19937_64 rng(12345);
  const std::string alphabet = "0123456789-.,:#\n {}[]\"'eE+xX";
  for (const auto& s : seeds) {
    ASSERT_NO_THROW(entry(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
    for (int r = 0; r < rounds; ++r) {
      std::string m = s;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int e = 0; e < edits && !m.empty(); ++e) {
        const size_t at = rng() % m.size();
        switch (rng() % 5) {
          case 0: m[at] = alphabet[rng() % alphabet.size()]; break;            // replace
          case 1: m.insert(at, 1, alphabet[rng() % alphabet.size()]); break;   // insert
          case 2: m.erase(at, 1 + rng() % 8); break;                           // delete
          case 3: m.resize(at); break;                                         // truncate
          default: m[at] = static_cast<char>(rng() & 0xff); break;             // any byte
        }
      }
      ASSERT_NO_THROW(entry(reinterpret_cast<const uint8_t*>(m.data()), m.size())) << m;
    }
  }
}

std::vector<std::string> files(const std::string& dir, const std::string& ext) {
  std::vector<std::string> out;
  for (const auto& f : fs::directory_iterator(std::string(CIMSIM_SOURCE_DIR) + "/data/" + dir))
    if (f.path().extension() == ext) out.push_back(cimsim::read_file(f.path().string()));
  return out;
}

}  // namespace

TEST(WorkloadFuzzSmoke, Architecture) { mutate_and_run(cimsim::fuzz::fuzz_arch, files("arch", ".yaml"), 1000); }
TEST(WorkloadFuzzSmoke, Topology) { mutate_and_run(cimsim::fuzz::fuzz_topology, files("topologies", ".csv"), 500); }
TEST(WorkloadFuzzSmoke, Assignment) {
  mutate_and_run(cimsim::fuzz::fuzz_assignment,
                 {"layer,op,mode,adc_bits,cim_rows\nconv1, mac8, digital\nconv2, xnor, cim, 4, 32,\n",
                  "fc, mf, cim, , 16\n# comment\n"},
                 1000);
}
