// Headline figures (issue 23): every formula against values computed by hand, plus the engineering-unit text.
#include <gtest/gtest.h>

#include <cmath>

#include "cimsim/accel/headline.hpp"

using namespace cimsim::accel;

TEST(Headline, HandComputedInference) {
  // 1e6 MACs, 2e6 pJ system (2 uJ), 5e5 pJ operator, 28'400 cycles at 1 GHz.
  const Headline h = headline({1e6, 2e6, 5e5, 28400, 1e9});
  EXPECT_DOUBLE_EQ(h.pj_per_mac_system, 2.0);           // 2e6 / 1e6
  EXPECT_DOUBLE_EQ(h.pj_per_mac_operator, 0.5);         // 5e5 / 1e6
  EXPECT_DOUBLE_EQ(h.tops_per_w_system, 1.0);           // 2 ops/MAC / 2 pJ/MAC = 1 op/pJ = 1 TOPS/W
  EXPECT_DOUBLE_EQ(h.tops_per_w_operator, 4.0);         // 2 / 0.5
  EXPECT_DOUBLE_EQ(h.uj_per_inference, 2.0);
  EXPECT_DOUBLE_EQ(h.operator_uj_per_inference, 0.5);
  EXPECT_DOUBLE_EQ(h.latency_s, 28.4e-6);               // 28'400 / 1e9
  EXPECT_NEAR(h.inferences_per_s, 35211.267605633802, 1e-6);  // 1e9 / 28'400
  EXPECT_NEAR(h.edp_j_s, 2e-6 * 28.4e-6, 1e-22);        // 5.68e-11 J s
  const auto j = h.to_json();
  EXPECT_NEAR(j["edp_uj_ms"].get<double>(), 2.0 * 0.0284, 1e-12);  // 2 uJ * 0.0284 ms
  EXPECT_NEAR(j["latency_ms"].get<double>(), 0.0284, 1e-15);
  EXPECT_EQ(Headline::csv_columns().size(), h.csv_values().size());
}

TEST(Headline, NoMacsGivesNullRatiosNotInfinity) {
  const Headline h = headline({0, 100, 0, 10, 1e9});
  EXPECT_TRUE(std::isnan(h.pj_per_mac_system));
  EXPECT_TRUE(h.to_json()["pj_per_mac_system"].is_null());
  EXPECT_DOUBLE_EQ(h.tops_per_w_system, 0.0);  // 0 MACs in 100 pJ
  EXPECT_TRUE(h.to_json()["tops_per_w_operator"].is_null());
  EXPECT_THROW(headline({-1, 0, 0, 0, 0}), std::invalid_argument);
}

TEST(Headline, HandComputedSampler) {
  // 4 chains x 500 samples, 2000 cycles at 500 MHz (4 us), 364 pJ in all, smallest ESS 120.
  const SamplerHeadline s = sampler_headline({364, 2000, 4, 500, 5e8, 120});
  EXPECT_DOUBLE_EQ(s.pj_per_sample, 364.0 / 2000.0);       // 0.182 pJ
  EXPECT_DOUBLE_EQ(s.ns_per_sample, 4000.0 / 2000.0);      // 4 us over 2000 samples = 2 ns
  EXPECT_DOUBLE_EQ(s.ns_per_sample_per_chain, 4000.0 / 500.0);  // 8 ns = 4 cycles
  EXPECT_DOUBLE_EQ(s.samples_per_s, 2000.0 / 4e-6);        // 5e8
  EXPECT_DOUBLE_EQ(s.ess_per_uj, 120.0 / 364e-6);
  EXPECT_DOUBLE_EQ(s.to_json()["energy_uj"].get<double>(), 364e-6);
}

TEST(Headline, EngineeringUnits) {
  EXPECT_EQ(eng(2.84e-5, "s"), "28.40 us");
  EXPECT_EQ(eng(1.5e-6, "J"), "1.500 uJ");
  EXPECT_EQ(eng(123456.0, "inf/s"), "123.5 kinf/s");
  EXPECT_EQ(eng(999.96, "J"), "1.000 kJ");  // rounding carries into the next prefix
  EXPECT_EQ(eng(0.0, "J"), "0 J");
  EXPECT_EQ(eng(389.4, ""), "389.4");  // a bare number has no trailing space
  EXPECT_EQ(eng(61690.0, ""), "61.69 k");
  EXPECT_EQ(eng(std::nan(""), "J"), "n/a");
  EXPECT_EQ(eng(-3.2e-3, "s"), "-3.200 ms");
  EXPECT_EQ(pct(0.3912), "39.12 %");
  EXPECT_EQ(pct(1.0), "100.0 %");
  EXPECT_EQ(pct(0.001234), "0.123 %");
}
