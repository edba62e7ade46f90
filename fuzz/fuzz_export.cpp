// Fuzz target: the ENOS export loader (load_export), then save -> reload of whatever loaded (the writer must
// accept everything the reader accepts). Seeds: synthetic exports (make_synthetic_export), written by
// LLVMFuzzerInitialize when $CIMSIM_FUZZ_SEED_DIR is set.
#include "cimsim/core/energy_table.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/enos/synthetic.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!cimsim::fuzz::seed_dir()) return 0;
  const cimsim::EnergyTable table = cimsim::EnergyTable::load_default();
  // Issue-24 reproducer: "meta" nested deep overflowed the stack in a recursive JSON copy (the report had 200,000
  // levels, 400 KB; 20,000 keep the corpus small; both are refused at 256 levels now).
  cimsim::fuzz::write_seed("repro-deep-meta.json", "{\"format\": \"enos-export\", \"meta\": " +
                                                       std::string(20000, '[') + std::string(20000, ']') + "}");
  for (uint64_t seed : {1, 2, 3})
    cimsim::fuzz::write_seed("synthetic-" + std::to_string(seed) + ".json",
                             cimsim::enos::export_to_json(cimsim::enos::make_synthetic_export(seed, table)).dump(1));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::as_file(data, size, ".enos.json");
  cimsim::enos::NetworkExport e;
  bool loaded = false;
  cimsim::fuzz::expect_clean([&] {
    e = cimsim::enos::load_export(path);
    loaded = true;
  });
  if (loaded) {
    // A loaded export is valid: writing it and reading it back must not fail.
    try {
      (void)cimsim::enos::export_from_json(cimsim::enos::export_to_json(e), "round trip");
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "fuzz finding: a loaded export does not round-trip: %s\n", ex.what());
      std::abort();
    }
  }
  return 0;
}
