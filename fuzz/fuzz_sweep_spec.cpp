// Fuzz target: the sweep spec loader (load_spec: bounded read, one YAML document, alias expansion bounded,
// every key validated, points expanded within 100,000 in total). Seeds: the shipped specs and the issue-24
// reproducers (aliased blocks beyond the total, an alias bomb, a second document, a report named point.json),
// written by LLVMFuzzerInitialize when $CIMSIM_FUZZ_SEED_DIR is set.
#include "cimsim/sweep/spec.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!cimsim::fuzz::seed_dir()) return 0;
  std::string many = "name: many\ncommand: run\npoints:\n  - &blk {grid: {a: &v [0,1,2,3,4,5,6,7,8,9], b: *v, c: *v, d: *v}}\n";
  for (int i = 0; i < 30; ++i) many += "  - *blk\n";
  cimsim::fuzz::write_seed("repro-total-points.yaml", many);
  std::string bomb = "name: b\ncommand: run\npoints: [{grid: {seed: [1]}}]\nxa0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  for (int i = 1; i < 9; ++i) {
    const std::string p = "*a" + std::to_string(i - 1);
    bomb += "xa" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p;
    for (int k = 1; k < 10; ++k) bomb += ", " + p;
    bomb += "]\n";
  }
  cimsim::fuzz::write_seed("repro-alias-bomb.yaml", bomb);
  cimsim::fuzz::write_seed("repro-second-document.yaml",
                           "name: a\ncommand: run\npoints: [{grid: {seed: [1]}}]\n---\nname: b\n");
  cimsim::fuzz::write_seed("repro-report-point-json.yaml",
                           "name: a\ncommand: run\npoints: [{grid: {seed: [1]}}]\noutput: {report: point.json}\n");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = cimsim::fuzz::as_file(data, size, ".yaml");
  cimsim::fuzz::expect_clean([&] {
    const cimsim::sweep::Spec s = cimsim::sweep::load_spec(path);
    if (s.points.size() > 100000) {
      std::fprintf(stderr, "fuzz finding: %zu points accepted (limit 100000)\n", s.points.size());
      std::abort();
    }
  });
  return 0;
}
