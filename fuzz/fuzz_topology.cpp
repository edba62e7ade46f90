// libFuzzer target: the topology loader (entry point shared with the smoke test, tests/fuzz/accel_workload_fuzz.cpp).
#define CIMSIM_FUZZ_TARGET fuzz_topology
#include "../tests/fuzz/accel_workload_fuzz.cpp"
