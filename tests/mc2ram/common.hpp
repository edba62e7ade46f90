#pragma once
// Helpers shared by the MC2RAM tests: GMMs, the reference configuration from a compiled program.
#include <Eigen/Dense>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/rng.hpp"
#include "cimsim/diag/gmm.hpp"
#include "cimsim/mc2ram/driver.hpp"
#include "reference/mh_reference.hpp"

namespace mc2ram_test {

/// A random valid GMM with K components in D dims (seeded): means in [-3, 3], covariances B B^T + 0.3 I.
inline cimsim::diag::Gmm random_gmm(int k, int d, uint64_t seed) {
  cimsim::SplitMix64 r(seed);
  cimsim::diag::Gmm g;
  double sum = 0;
  for (int i = 0; i < k; ++i) {
    g.weights.push_back(0.5 + r.uniform());
    sum += g.weights.back();
    Eigen::VectorXd m(d);
    for (int j = 0; j < d; ++j) m(j) = -3 + 6 * r.uniform();
    g.means.push_back(m);
    Eigen::MatrixXd b(d, d);
    for (int a = 0; a < d; ++a)
      for (int c = 0; c < d; ++c) b(a, c) = 0.4 * r.gauss();
    g.covs.push_back(b * b.transpose() + 0.3 * Eigen::MatrixXd::Identity(d, d));
  }
  for (auto& w : g.weights) w /= sum;
  return g;
}

inline mc2ram_ref::RefConfig ref_config(const cimsim::mc2ram::Compiled& c, const cimsim::mc2ram::Knobs& k, int lanes,
                                        uint32_t samples, uint64_t seed,
                                        const std::vector<std::array<int32_t, cimsim::mc2ram::kMaxD>>& init) {
  mc2ram_ref::RefConfig r;
  r.k = c.program.k;
  r.d = c.program.d;
  r.y_scale_log2 = c.program.y_scale_log2;
  r.prop_scale = c.program.prop_scale;
  for (int i = 0; i < r.k; ++i) {
    mc2ram_ref::RefComponent rc{};
    for (int a = 0; a < 8; ++a)
      for (int b = 0; b < 8; ++b) rc.a[a][b] = c.program.comp[i].a[a][b];
    for (int a = 0; a < 8; ++a) rc.bias[a] = c.program.comp[i].bias[a];
    rc.c = c.program.comp[i].c;
    rc.y_shift = c.program.comp[i].y_shift;
    r.comp.push_back(rc);
  }
  r.dac_bits = k.dac_bits;
  r.adc_bits = k.adc_bits;
  r.rng_bits = k.rng_bits;
  r.rng_fresh_bits = k.rng_fresh_bits;
  r.rng_period = k.rng_period;
  r.lanes = lanes;
  r.samples = samples;
  r.seed = seed;
  for (const auto& s : init) {
    std::array<int32_t, 8> a{};
    for (int j = 0; j < 8; ++j) a[j] = s[j];
    r.init.push_back(a);
  }
  return r;
}

inline const cimsim::EnergyTable& table() {
  static const cimsim::EnergyTable t = cimsim::EnergyTable::load_default();
  return t;
}

}  // namespace mc2ram_test
