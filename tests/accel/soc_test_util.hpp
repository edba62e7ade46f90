#pragma once
// Helpers of the accelerator SystemC tests (model_*, regs_*, soc_* tests): a SoC per test process, raw
// register access that returns the TLM status, random layers.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <vector>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/datapath.hpp"
#include "cimsim/accel/random_network.hpp"
#include "cimsim/accel/soc.hpp"
#include "cimsim/core/rng.hpp"

namespace cimsim::accel {
inline void PrintTo(Level l, std::ostream* os) { *os << level_name(l); }
}  // namespace cimsim::accel

namespace cimsim::accel::testing {

inline const EnergyTable& table() {
  static const EnergyTable t = EnergyTable::load_default();
  return t;
}

inline SocConfig soc_config(Level level) {
  SocConfig c;
  c.level = level;
  c.mem_size = 8ull << 20;
  return c;
}

/// TLM status of a 32-bit register write / read through the host (no throw).
inline tlm::tlm_response_status reg_write(AcceleratorSoc& soc, uint32_t off, uint32_t v) {
  return soc.host().transact(tlm::TLM_WRITE_COMMAND, soc.config().csr_base + off, &v, 4);
}
inline tlm::tlm_response_status reg_read(AcceleratorSoc& soc, uint32_t off, uint32_t& v) {
  return soc.host().transact(tlm::TLM_READ_COMMAND, soc.config().csr_base + off, &v, 4);
}

inline LayerShape conv(int n, int cin, int h, int w, int cout, int k, int stride, int pad, int groups = 1) {
  return LayerShape::conv(n, cin, h, w, cout, k, stride, pad, groups);
}

inline LayerShape fc(int n, int cin, int cout) { return LayerShape::fc(n, cin, cout); }

/// A set of shapes covering 1x1, depthwise, stride 2, padding, odd sizes, batch 2 and FC.
inline std::vector<LayerShape> test_shapes() {
  return {conv(1, 3, 7, 5, 5, 3, 1, 1),      // odd sizes, padding, cout < C
          conv(1, 20, 6, 6, 18, 1, 1, 0),    // 1x1, cin/cout beyond one tile
          conv(1, 8, 9, 9, 8, 3, 2, 1, 8),   // depthwise, stride 2
          conv(2, 4, 5, 6, 6, 3, 2, 0),      // batch 2, stride 2, no padding
          conv(1, 6, 4, 4, 4, 3, 1, 2, 2),   // grouped, pad 2
          fc(1, 70, 19)};                    // fully connected
}

inline CimParams noisy_cim(uint64_t seed) {
  CimParams c;
  c.rows = 24;
  c.adc_bits = 5;
  c.adc_range = 48;
  c.noise_lsb = 0.3;
  c.gain_sigma = 0.05;
  c.seed = seed;
  return c;
}

}  // namespace cimsim::accel::testing
