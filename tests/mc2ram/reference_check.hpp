#pragma once
// Bit-exact comparison of a system run's draws, acceptance, early rejects and (optionally) cycles with the
// independent reference (shared by the MC2RAM system and clocking tests).
#include <gtest/gtest.h>

#include "common.hpp"

namespace mc2ram_test {

inline void expect_result_matches_reference(const cimsim::mc2ram::SampleJob& j, const cimsim::mc2ram::SampleResult& r,
                                            bool check_cycles) {
  using namespace cimsim::mc2ram;
  const Compiled c = compile_gmm(j.gmm, j.compile);
  const auto ref = mc2ram_ref::run_reference(
      ref_config(c, j.knobs, j.chains, j.samples, j.seed, initial_states(j.gmm, c, j.chains)));
  const int d = c.program.d;
  size_t mismatches = 0;
  for (int ch = 0; ch < j.chains; ++ch)
    for (uint32_t s = 0; s < j.samples; ++s)
      for (int k = 0; k < d; ++k) {
        const double want = c.to_user(k, ref.states[(static_cast<size_t>(ch) * j.samples + s) * d + k]);
        if (r.draws.at(ch, static_cast<int>(s), k) != want) ++mismatches;
      }
  EXPECT_EQ(mismatches, 0u);
  EXPECT_DOUBLE_EQ(r.acceptance, static_cast<double>(ref.accepts) / (j.chains * static_cast<double>(j.samples)));
  EXPECT_EQ(r.early_rejects, ref.early_rejects);
  if (check_cycles) {
    EXPECT_EQ(r.cycles, ref.cycles);
  }
}

}  // namespace mc2ram_test
