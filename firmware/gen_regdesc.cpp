// Build-time generator: writes the firmware C headers and the CMSIS-SVD file from the models' register
// tables (docs/integration.md "Register descriptions").
//   gen_regdesc <out-dir>   ->  <out-dir>/include/cimsim_fw/enos_regs.h, mc2ram_regs.h, <out-dir>/cimsim.svd
#include <cstdio>
#include <exception>
#include <string>

#include <systemc>

#include "cimsim/accel/regdesc.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/mc2ram/regmap.hpp"

int sc_main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <out-dir>\n", argv[0]);
    return 2;
  }
  try {
    const std::string out = argv[1];
    const auto enos = cimsim::accel::device_description();
    const auto mc2 = cimsim::mc2ram::device_description();
    cimsim::atomic_write(out + "/include/cimsim_fw/enos_regs.h", cimsim::to_c_header(enos));
    cimsim::atomic_write(out + "/include/cimsim_fw/mc2ram_regs.h", cimsim::to_c_header(mc2));
    // Base addresses of the example SoC (examples/plug-into-your-soc); tools rebase peripherals freely.
    cimsim::atomic_write(out + "/cimsim.svd", cimsim::to_svd("CIMSIM", {{enos, 0x40000000ull}, {mc2, 0x40010000ull}}));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gen_regdesc: %s\n", e.what());
    return 1;
  }
  return 0;
}
