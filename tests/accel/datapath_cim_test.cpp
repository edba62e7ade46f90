// CIM mode: ideal conversion equals digital, quantization/noise/gain follow the documented streams, and the
// noise depends on the seed.
#include <gtest/gtest.h>

#include <cmath>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/rng.hpp"
#include "datapath_test_util.hpp"
#include "reference/reference.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using namespace cimsim::accel::testutil;

TEST(AccelCim, IdealWideAdcEqualsDigital) {
  SplitMix64 g(51);
  for (const LayerShape& s : test_shapes())
    for (Op op : kAllOps) {
      if (!cim_supported(op)) continue;
      LayerParams p = rand_layer(g, s, op, Mode::Digital);
      const auto in = rand_input(g, s.input_elems());
      const auto dig = layer_accumulators(p, in.data());
      p.mode = Mode::Cim;
      for (int rows : {1, 16, 64, 4096}) {
        // 16-bit ADC with adc_range = 2^15: code = partial whenever |partial| < 2^15 (always here).
        p.cim = cim_params(rows, 16, 1 << 15, 0.0, 0.0, 123);
        EXPECT_EQ(layer_accumulators(p, in.data()), dig) << op_name(op) << " rows " << rows;
      }
    }
}

TEST(AccelCim, CodeQuantizationAndClamp) {
  CimParams c = cim_params(8, 5, 64, 0.0, 0.0, 0);  // v = p * 16 / 64 = p / 4
  EXPECT_EQ(cim_code(c, 0, 0, 0, 0, 1), 0);
  EXPECT_EQ(cim_code(c, 1, 0, 0, 0, 1), 0);    // 0.25 -> 0
  EXPECT_EQ(cim_code(c, 2, 0, 0, 0, 1), 1);    // 0.5 -> floor(1.0) = 1 (half rounds up)
  EXPECT_EQ(cim_code(c, -2, 0, 0, 0, 1), 0);   // -0.5 -> floor(0.0) = 0
  EXPECT_EQ(cim_code(c, -3, 0, 0, 0, 1), -1);  // -0.75 -> -1
  EXPECT_EQ(cim_code(c, 60, 0, 0, 0, 1), 15);  // 15
  EXPECT_EQ(cim_code(c, 64, 0, 0, 0, 1), 15);  // 16 clamps to 2^4 - 1
  EXPECT_EQ(cim_code(c, -64, 0, 0, 0, 1), -16);
  EXPECT_EQ(cim_code(c, -1000, 0, 0, 0, 1), -16);
  c.adc_bits = 1;  // codes -1, 0
  EXPECT_EQ(cim_code(c, 1000, 0, 0, 0, 1), 0);
  EXPECT_EQ(cim_code(c, -1000, 0, 0, 0, 1), -1);
}

TEST(AccelCim, CodeUsesDocumentedStreams) {
  const CimParams c = cim_params(8, 6, 50, 0.8, 0.1, 4242);
  const double half = 32.0;
  for (int oc : {0, 3, 17})
    for (uint64_t out_index : {0ull, 5ull, 123456ull})
      for (int64_t j = 0; j < 3; ++j)
        for (int64_t part : {-77, -3, 0, 9, 41}) {
          const double gain = 1.0 + c.gain_sigma * ref::normal(c.seed, 2, static_cast<uint64_t>(oc));
          const double n = ref::normal(c.seed, 1, out_index * 3 + static_cast<uint64_t>(j));
          double v = static_cast<double>(part) * half / 50.0;
          v = v * gain;
          v = v + c.noise_lsb * n;
          double code = std::floor(v + 0.5);
          code = std::fmin(std::fmax(code, -half), half - 1);
          EXPECT_EQ(cim_code(c, part, oc, out_index, j, 3), static_cast<int32_t>(code));
        }
  // The spec'd stream is CounterRng(seed, 1).gauss / CounterRng(seed, 2).gauss.
  EXPECT_EQ(ref::normal(9, 1, 77), CounterRng(9, 1).gauss(77));
  EXPECT_EQ(cim_gain(c, 3), 1.0 + 0.1 * CounterRng(4242, 2).gauss(3));
  EXPECT_EQ(cim_gain(cim_params(8, 6, 50, 0.8, 0.0, 4242), 3), 1.0);
}

TEST(AccelCim, NoiseDependsOnSeedAndIsReproducible) {
  SplitMix64 g(52);
  const LayerShape s = conv(2, 8, 9, 9, 8, 3, 1, 1, 1);
  for (Op op : {Op::MAC4, Op::BWN, Op::XNOR, Op::MF}) {
    LayerParams p = rand_layer(g, s, op, Mode::Cim);
    p.cim = cim_params(16, 5, 64, 0.6, 0.08, 1);
    const auto in = rand_input(g, s.input_elems());
    const auto a1 = layer_accumulators(p, in.data());
    EXPECT_EQ(a1, layer_accumulators(p, in.data())) << "same seed, same result";
    const auto r = ref::accumulators(p, in);
    EXPECT_EQ(a1, std::vector<int32_t>(r.begin(), r.end())) << op_name(op) << ": bit-exact vs reference";
    p.cim.seed = 2;
    const auto a2 = layer_accumulators(p, in.data());
    EXPECT_NE(a1, a2) << op_name(op) << ": another seed must change the noise";
  }
}

TEST(AccelCim, NoiseIndexIncludesBatch) {
  // The same image twice in a batch draws different noise for the two copies (out_index spans n).
  SplitMix64 g(53);
  LayerShape s = conv(2, 4, 6, 6, 4, 3, 1, 1, 1);
  LayerParams p = rand_layer(g, s, Op::MF, Mode::Cim);
  p.cim = cim_params(8, 4, 32, 1.0, 0.0, 8);
  auto one = rand_input(g, s.input_elems() / 2);
  std::vector<int8_t> in = one;
  in.insert(in.end(), one.begin(), one.end());
  const auto acc = layer_accumulators(p, in.data());
  const size_t half = acc.size() / 2;
  EXPECT_NE(std::vector<int32_t>(acc.begin(), acc.begin() + half), std::vector<int32_t>(acc.begin() + half, acc.end()));
}
