// libFuzzer target: the assignment loader (entry point shared with the smoke test, tests/fuzz/accel_workload_fuzz.cpp).
#define CIMSIM_FUZZ_TARGET fuzz_assignment
#include "../tests/fuzz/accel_workload_fuzz.cpp"
