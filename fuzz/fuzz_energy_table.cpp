// Fuzz target: the energy-table loader (EnergyTable::load). Seeds: data/tech/45nm.json.
#include "cimsim/core/energy_ledger.hpp"
#include "cimsim/core/energy_table.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::as_file(data, size, ".json");
  cimsim::fuzz::expect_clean([&] {
    const cimsim::EnergyTable t = cimsim::EnergyTable::load(path);
    // Whatever loads must convert and accumulate without overflow: every entry is <= 1e6 pJ = 1e12 aJ, so a
    // million events of it fit an int64 ledger cell.
    cimsim::EnergyLedger led;
    for (const auto& [name, pj] : t.entries()) {
      const int64_t aj = t.aj(name);
      if (aj < 0) std::abort();
      led.add(name, 1000000, aj);
    }
    (void)t.fingerprint();
    (void)t.clock_hz();
  });
  return 0;
}
