// Test entry point: libsystemc provides main() and calls sc_main, so GoogleTest runs from here.
// The environment is set here (not through ctest properties) so that running a test binary by hand behaves
// like ctest: no SystemC banner, traces under the build tree.
#include <cstdlib>

#include <gtest/gtest.h>
#include <systemc>

int sc_main(int argc, char* argv[]) {
  ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
#ifdef CIMSIM_TEST_TRACES
  ::setenv("CIMSIM_TRACES", CIMSIM_TEST_TRACES, 0);
#endif
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
