#include <gtest/gtest.h>

#include <cmath>

#include "cimsim/core/rng.hpp"

TEST(Rng, CounterRngIsAPureFunctionOfSeedStreamIndex) {
  cimsim::CounterRng a(42, 3), b(42, 3), c(43, 3), d(42, 4);
  EXPECT_EQ(a.bits(17), b.bits(17));
  EXPECT_NE(a.bits(17), c.bits(17));
  EXPECT_NE(a.bits(17), d.bits(17));
  // Visiting order does not matter.
  const double g5 = a.gauss(5);
  for (int i = 0; i < 5; ++i) (void)a.gauss(i);
  EXPECT_EQ(a.gauss(5), g5);
}

TEST(Rng, GaussianMomentsWithinSamplingError) {
  // n = 200000 draws: the standard error of the mean is 1/sqrt(n) = 0.0022; of the variance ~sqrt(2/n) = 0.0032.
  cimsim::CounterRng r(1);
  const int n = 200000;
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double g = r.gauss(i);
    s += g;
    s2 += g * g;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  EXPECT_NEAR(mean, 0.0, 5 * 0.0022);
  EXPECT_NEAR(var, 1.0, 5 * 0.0032);
}

TEST(Rng, SplitMixBelowIsInRangeAndUniform) {
  cimsim::SplitMix64 r(9);
  int hist[10] = {};
  for (int i = 0; i < 100000; ++i) {
    const auto v = r.below(10);
    ASSERT_LT(v, 10u);
    ++hist[v];
  }
  for (int h : hist) EXPECT_NEAR(h, 10000, 5 * std::sqrt(10000 * 0.9));
}
