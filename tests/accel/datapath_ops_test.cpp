// Datapath vs the independent reference: operator terms, every operator x mode on varied shapes,
// requantization, packing, and validation messages.
#include <gtest/gtest.h>

#include <climits>
#include <string>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/error.hpp"
#include "datapath_test_util.hpp"
#include "reference/reference.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using namespace cimsim::accel::testutil;

namespace {

std::vector<int> valid_weights(Op op) {
  std::vector<int> v;
  for (int w = -128; w <= 127; ++w)
    if (weight_valid(op, w)) v.push_back(w);
  return v;
}

void expect_layer_matches(const LayerParams& p, uint64_t seed, const std::string& what) {
  SplitMix64 g(seed);
  const auto in = rand_input(g, p.shape.input_elems());
  const auto acc = layer_accumulators(p, in.data());
  const auto racc = ref::accumulators(p, in);
  ASSERT_EQ(acc.size(), racc.size()) << what;
  size_t bad = 0;
  for (size_t i = 0; i < acc.size(); ++i)
    if (acc[i] != racc[i] && bad++ < 3) ADD_FAILURE() << what << ": acc[" << i << "] " << acc[i] << " != " << racc[i];
  std::vector<int8_t> out(static_cast<size_t>(p.shape.outputs()));
  run_layer(p, in.data(), out.data());
  EXPECT_EQ(out, ref::layer(p, in)) << what;
}

std::string describe(const LayerParams& p) {
  const LayerShape& s = p.shape;
  return std::string(op_name(p.op)) + "/" + mode_name(p.mode) + " n" + std::to_string(s.n) + " cin" +
         std::to_string(s.cin) + " " + std::to_string(s.h) + "x" + std::to_string(s.w) + " cout" +
         std::to_string(s.cout) + " k" + std::to_string(s.kh) + " s" + std::to_string(s.stride) + " p" +
         std::to_string(s.pad) + " g" + std::to_string(s.groups) + " rows" + std::to_string(p.cim.rows);
}

}  // namespace

TEST(AccelOps, NamesAndParsing) {
  for (Op op : kAllOps) EXPECT_EQ(parse_op(op_name(op)), op);
  EXPECT_EQ(parse_mode("cim"), Mode::Cim);
  EXPECT_EQ(parse_mode("digital"), Mode::Digital);
  EXPECT_FALSE(parse_op("mac16").has_value());
  EXPECT_FALSE(parse_mode("analog").has_value());
  EXPECT_EQ(weight_bits(Op::BWN), 1);
  EXPECT_EQ(weight_bits(Op::DEEPSHIFT), 4);
  EXPECT_TRUE(weight_valid(Op::DEEPSHIFT, -64));
  EXPECT_FALSE(weight_valid(Op::DEEPSHIFT, 3));
  EXPECT_FALSE(weight_valid(Op::BWN, 0));
  EXPECT_FALSE(weight_valid(Op::MAC4, -8));
  EXPECT_FALSE(weight_valid(Op::MAC8, -128));
}

TEST(AccelOps, OpTermExhaustiveVsReference) {
  for (Op op : kAllOps)
    for (int w : valid_weights(op))
      for (int x = -128; x <= 127; ++x)
        ASSERT_EQ(op_term(op, static_cast<int8_t>(x), static_cast<int8_t>(w)), ref::term(op, x, w))
            << op_name(op) << " x=" << x << " w=" << w;
}

TEST(AccelOps, OpTermSpotValues) {
  EXPECT_EQ(op_term(Op::MAC8, -128, 127), -16256);
  EXPECT_EQ(op_term(Op::MAC4, 7, 3), 0);     // (7 + 8) >> 4 = 0
  EXPECT_EQ(op_term(Op::MAC4, 8, 3), 3);     // (8 + 8) >> 4 = 1
  EXPECT_EQ(op_term(Op::MAC4, -9, 3), -3);   // (-1) >> 4 = -1
  EXPECT_EQ(op_term(Op::MAC4, 127, -7), -49);  // 135 >> 4 = 8 -> clamped to 7
  EXPECT_EQ(op_term(Op::MAC4, -128, -7), 56);  // -120 >> 4 = -8
  EXPECT_EQ(op_term(Op::BWN, -5, -1), 5);
  EXPECT_EQ(op_term(Op::XNOR, 0, 1), -1);    // x = 0 counts as -1
  EXPECT_EQ(op_term(Op::XNOR, 0, -1), 1);
  EXPECT_EQ(op_term(Op::MF, -3, 5), -5 + 3);  // sign(x)|w| + sign(w)|x|
  EXPECT_EQ(op_term(Op::MF, 0, -7), 0);
  EXPECT_EQ(op_term(Op::DEEPSHIFT, -3, -16), 48);
  EXPECT_EQ(op_term(Op::DEEPSHIFT, 100, 0), 0);
  EXPECT_EQ(op_term(Op::ADDER, 0, -9), -9);
  EXPECT_EQ(op_term(Op::ADDER, -128, 127), -255);
}

TEST(AccelOps, DigitalAllOpsMatchReference) {
  SplitMix64 g(11);
  int idx = 0;
  for (const LayerShape& s : test_shapes())
    for (Op op : kAllOps) {
      const LayerParams p = rand_layer(g, s, op, Mode::Digital);
      expect_layer_matches(p, 1000 + idx++, describe(p));
    }
}

TEST(AccelOps, CimAllSupportedOpsMatchReference) {
  SplitMix64 g(12);
  int idx = 0;
  const CimParams configs[] = {
      cim_params(64, 5, 64, 0.0, 0.0, 1),      // quantization only
      cim_params(16, 4, 40, 0.7, 0.05, 7),     // noise + gain mismatch
      cim_params(7, 8, 300, 1.5, 0.2, 99),     // odd chunk size, heavy noise
      cim_params(1, 1, 1, 0.3, 0.0, 3),        // 1-bit ADC, one row per chunk
  };
  for (const LayerShape& s : test_shapes())
    for (Op op : kAllOps) {
      if (!cim_supported(op)) continue;
      for (const CimParams& c : configs) {
        LayerParams p = rand_layer(g, s, op, Mode::Cim);
        p.cim = c;
        expect_layer_matches(p, 5000 + idx++, describe(p));
      }
    }
}

TEST(AccelOps, LargerLayerMatchesReference) {
  SplitMix64 g(13);
  const LayerShape s = conv(2, 16, 14, 14, 24, 3, 1, 1, 1);
  for (Op op : {Op::MAC8, Op::MF, Op::ADDER, Op::MAC4}) {
    LayerParams p = rand_layer(g, s, op, Mode::Digital);
    expect_layer_matches(p, 77, describe(p));
  }
  LayerParams p = rand_layer(g, s, Op::MF, Mode::Cim);
  p.cim = cim_params(32, 6, 500, 0.4, 0.03, 5);
  expect_layer_matches(p, 78, describe(p));
}

TEST(AccelRequant, EdgeCases) {
  // Rounding half up (toward +inf) at shift 1: (3 * 1 + 1) >> 1 = 2; (-3 + 1) >> 1 = -1.
  EXPECT_EQ(requantize(3, 1, 1, 0, false), 2);
  EXPECT_EQ(requantize(-3, 1, 1, 0, false), -1);
  EXPECT_EQ(requantize(-1, 1, 1, 0, false), 0);
  EXPECT_EQ(requantize(5, 1, 2, 0, false), 1);  // (5 + 2) >> 2 = 1
  EXPECT_EQ(requantize(6, 1, 2, 0, false), 2);  // (6 + 2) >> 2 = 2
  // Shift 0: no rounding term.
  EXPECT_EQ(requantize(17, 3, 0, -10, false), 41);  // 17 * 3 - 10
  // Clamps.
  EXPECT_EQ(requantize(1000, 1, 0, 0, false), 127);
  EXPECT_EQ(requantize(-1000, 1, 0, 0, false), -128);
  EXPECT_EQ(requantize(-1000, 1, 0, 0, true), 0);
  EXPECT_EQ(requantize(-1, 1, 0, 0, true), 0);
  EXPECT_EQ(requantize(55, 1, 0, 0, true), 55);
  // Bias added after the multiply, in units of 2^-shift: (10 * 2 + 5 + 1) >> 1 = 13.
  EXPECT_EQ(requantize(10, 2, 1, 5, false), 13);
  // A fractional bias moves the threshold by less than one accumulator unit: with mult 1, shift 4 an
  // accumulator unit is 1/16 code; (3 + 5 + 8) >> 4 = 1 but (3 + 4 + 8) >> 4 = 0.
  EXPECT_EQ(requantize(3, 1, 4, 5, false), 1);
  EXPECT_EQ(requantize(3, 1, 4, 4, false), 0);
  EXPECT_EQ(requantize(-3, 1, 4, -5, false), 0);   // (-8 + 8) >> 4 = 0
  EXPECT_EQ(requantize(-3, 1, 4, -6, false), -1);  // (-9 + 8) >> 4 = -1
  // Large multiplier and extreme accumulators: no overflow.
  EXPECT_EQ(requantize(INT32_MAX, INT32_MAX, 62, INT32_MAX, false), 1);  // (2^62 - 2^32 + 1 + 2^31 - 1 + 2^61) / 2^62 ~ 1.5-
  EXPECT_EQ(requantize(INT32_MIN, INT32_MAX, 62, INT32_MIN, false), -1);  // (-2^62 + 2^31 - 2^31 + 2^61) / 2^62 = -0.5
  EXPECT_EQ(requantize(INT32_MAX, INT32_MAX, 62, INT64_MAX, false), 3);  // (2^62 - 2^32 + 1 + 2^63 - 1 + 2^61) / 2^62 ~ 3.5-
  EXPECT_EQ(requantize(INT32_MIN, INT32_MAX, 62, INT64_MIN, false), -3);  // (-2^62 + 2^31 - 2^63 + 2^61) / 2^62 ~ -2.5+
  EXPECT_EQ(requantize(INT32_MAX, INT32_MAX, 0, INT64_MIN, false), -128);
  EXPECT_EQ(requantize(INT32_MIN, INT32_MAX, 0, INT64_MAX, false), 127);
  EXPECT_EQ(requantize(INT32_MIN, INT32_MAX, 0, INT32_MIN, false), -128);
  EXPECT_EQ(requantize(1, INT32_MAX, 31, 0, false), 1);  // (2^31-1 + 2^30) >> 31 = 1
  EXPECT_EQ(requantize(0, 0, 5, 0, false), 0);
}

TEST(AccelRequant, RandomVsReference) {
  SplitMix64 g(21);
  for (int i = 0; i < 200000; ++i) {
    const int32_t acc = static_cast<int32_t>(g.next());
    const int32_t mult = static_cast<int32_t>(g.next() >> 33);
    const int32_t shift = static_cast<int32_t>(g.below(63));
    const int64_t bias = static_cast<int64_t>(g.next()) >> g.below(64);
    const bool relu = g.below(2);
    ASSERT_EQ(requantize(acc, mult, shift, bias, relu), ref::requant(acc, mult, shift, bias, relu))
        << acc << " " << mult << " " << shift << " " << bias << " " << relu;
  }
}

TEST(AccelPacking, RoundTripAndFormatVsReference) {
  SplitMix64 g(31);
  for (Op op : kAllOps)
    for (int64_t K : {1, 3, 7, 8, 9, 16, 33, 171}) {
      const int cout = 1 + static_cast<int>(g.below(5));
      std::vector<int8_t> w(static_cast<size_t>(cout * K));
      for (auto& v : w) v = rand_weight(g, op);
      const auto packed = pack_weights(op, w, cout, K);
      EXPECT_EQ(packed.size(), packed_row_bytes(op, K) * cout);
      EXPECT_EQ(packed_row_bytes(op, K), static_cast<size_t>((K * weight_bits(op) + 7) / 8));
      EXPECT_EQ(packed, ref::pack(op, w, cout, K)) << op_name(op) << " K=" << K;
      EXPECT_EQ(unpack_weights(op, packed.data(), packed.size(), cout, K), w) << op_name(op) << " K=" << K;
      EXPECT_EQ(ref::unpack(op, packed, cout, K), w);
    }
}

TEST(AccelPacking, DocumentedCodes) {
  // MAC4: 4-bit two's complement, LSB first: -1 -> 0xF, 2 -> 0x2 => byte 0x2F.
  EXPECT_EQ(pack_weights(Op::MAC4, {-1, 2}, 1, 2), (std::vector<uint8_t>{0x2F}));
  // BWN: bit = 1 for +1: {+1,-1,-1,+1,+1} -> 0b11001 = 0x19 (row padded to one byte).
  EXPECT_EQ(pack_weights(Op::BWN, {1, -1, -1, 1, 1}, 1, 5), (std::vector<uint8_t>{0x19}));
  // DEEPSHIFT: -4 -> sign 1, e 2 = 0xA; 0 -> 0x7; 64 -> 0x6; 1 -> 0x0.
  EXPECT_EQ(pack_weights(Op::DEEPSHIFT, {-4, 0, 64, 1}, 1, 4), (std::vector<uint8_t>{0x7A, 0x06}));
  // 8-bit: int8 two's complement.
  EXPECT_EQ(pack_weights(Op::MF, {-1, 127}, 1, 2), (std::vector<uint8_t>{0xFF, 0x7F}));
  // Two rows of K = 3 XNOR: each row padded to a byte.
  EXPECT_EQ(pack_weights(Op::XNOR, {1, 1, 1, -1, -1, 1}, 2, 3), (std::vector<uint8_t>{0x07, 0x04}));
}

TEST(AccelPacking, RejectsBadValuesAndSizes) {
  EXPECT_THROW(pack_weights(Op::MAC4, {8}, 1, 1), ConfigError);
  EXPECT_THROW(pack_weights(Op::MAC4, {-8}, 1, 1), ConfigError);
  EXPECT_THROW(pack_weights(Op::BWN, {0}, 1, 1), ConfigError);
  EXPECT_THROW(pack_weights(Op::DEEPSHIFT, {3}, 1, 1), ConfigError);
  EXPECT_THROW(pack_weights(Op::DEEPSHIFT, {-128}, 1, 1), ConfigError);
  EXPECT_THROW(pack_weights(Op::MAC8, {-128}, 1, 1), ConfigError);
  EXPECT_THROW(pack_weights(Op::MAC8, {1, 2, 3}, 2, 2), ConfigError);  // size mismatch
  try {
    pack_weights(Op::XNOR, {1, 1, 2}, 1, 3);
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("weight[2] = 2"), std::string::npos) << e.what();
  }
  const std::vector<uint8_t> few(3, 0);
  EXPECT_THROW(unpack_weights(Op::MAC8, few.data(), few.size(), 2, 2), ConfigError);
  const uint8_t mac4_minus8 = 0x08, ds_bad = 0x0F, i8_bad = 0x80;
  EXPECT_THROW(unpack_weights(Op::MAC4, &mac4_minus8, 1, 1, 1), ConfigError);
  EXPECT_THROW(unpack_weights(Op::DEEPSHIFT, &ds_bad, 1, 1, 1), ConfigError);
  EXPECT_THROW(unpack_weights(Op::ADDER, &i8_bad, 1, 1, 1), ConfigError);
}

TEST(AccelValidation, BadShapesRejectedWithReasons) {
  auto why = [](LayerShape s) { return s.check(); };
  auto has = [](const std::string& msg, const char* part) { return msg.find(part) != std::string::npos; };
  LayerShape ok = conv(1, 4, 8, 8, 4, 3, 1, 1, 2);
  EXPECT_EQ(why(ok), "");
  LayerShape s = ok;
  s.cin = 0;
  EXPECT_TRUE(has(why(s), "cin = 0")) << why(s);
  s = ok;
  s.n = -1;
  EXPECT_TRUE(has(why(s), "n = -1")) << why(s);
  s = ok;
  s.groups = 3;
  EXPECT_TRUE(has(why(s), "not divisible by groups")) << why(s);
  s = ok;
  s.cout = 5;
  EXPECT_TRUE(has(why(s), "cout = 5 is not divisible")) << why(s);
  s = ok;
  s.kh = 11;
  EXPECT_TRUE(has(why(s), "larger than the padded input")) << why(s);
  s = ok;
  s.stride = 0;
  EXPECT_TRUE(has(why(s), "stride = 0")) << why(s);
  s = ok;
  s.pad = -1;
  EXPECT_TRUE(has(why(s), "pad = -1")) << why(s);
  s = fc(1, 10, 10);
  s.h = 2;
  EXPECT_TRUE(has(why(s), "fully-connected")) << why(s);
  s = conv(1, 1 << 20, 1, 1, 1, 1, 1, 0, 1);
  s.kh = s.kw = 1;
  EXPECT_EQ(why(s), "");  // K = 2^20 is fine for the shape itself
  s = conv(1, 1 << 20, 64, 64, 1, 64, 1, 0, 1);
  EXPECT_FALSE(why(s).empty());  // K = 2^32: overflows
}

TEST(AccelValidation, BadParamsRejected) {
  SplitMix64 g(41);
  const LayerShape s = conv(1, 4, 6, 6, 4, 3, 1, 1, 1);
  LayerParams p = rand_layer(g, s, Op::MAC8, Mode::Digital);
  EXPECT_EQ(p.check(), "");
  LayerParams q = p;
  q.weights.pop_back();
  EXPECT_NE(q.check().find("weights has"), std::string::npos) << q.check();
  q = p;
  q.weights[5] = -128;
  EXPECT_NE(q.check().find("weight[5] = -128"), std::string::npos) << q.check();
  q = p;
  q.rq.shift[1] = 63;
  EXPECT_NE(q.check().find("shift[1] = 63"), std::string::npos) << q.check();
  q = p;
  q.rq.mult[2] = -1;
  EXPECT_NE(q.check().find("mult[2]"), std::string::npos) << q.check();
  q = p;
  q.rq.bias.resize(3);
  EXPECT_NE(q.check().find("requant"), std::string::npos) << q.check();
  q = p;
  q.mode = Mode::Cim;  // MAC8 has no CIM mode
  EXPECT_NE(q.check().find("not supported in CIM"), std::string::npos) << q.check();
  std::vector<int8_t> in(static_cast<size_t>(s.input_elems())), out(static_cast<size_t>(s.outputs()));
  EXPECT_THROW(run_layer(q, in.data(), out.data()), ConfigError);
  EXPECT_THROW(layer_accumulators(q, in.data()), ConfigError);

  LayerParams c = rand_layer(g, s, Op::MAC4, Mode::Cim);
  EXPECT_EQ(c.check(), "");
  LayerParams d = c;
  d.cim.rows = 0;
  EXPECT_NE(d.check().find("cim.rows"), std::string::npos);
  d = c;
  d.cim.rows = 4097;
  EXPECT_NE(d.check().find("cim.rows"), std::string::npos);
  d = c;
  d.cim.adc_bits = 17;
  EXPECT_NE(d.check().find("adc_bits"), std::string::npos);
  d = c;
  d.cim.adc_range = 0;
  EXPECT_NE(d.check().find("adc_range"), std::string::npos);
  d = c;
  d.cim.noise_lsb = -0.1;
  EXPECT_NE(d.check().find("noise_lsb"), std::string::npos);
  d = c;
  d.cim.gain_sigma = std::nan("");
  EXPECT_NE(d.check().find("gain_sigma"), std::string::npos);
  // Per-operator accumulator bound: MAC8 K = 132112 * 16256 > 2^31 - 1, XNOR fine.
  LayerShape big = fc(1, 132112, 1);
  LayerParams b;
  b.shape = big;
  b.op = Op::XNOR;
  b.weights.assign(static_cast<size_t>(big.weight_elems()), 1);
  b.rq.mult = {1};
  b.rq.shift = {0};
  b.rq.bias = {0};
  EXPECT_EQ(b.check(), "");
  b.op = Op::MAC8;
  EXPECT_NE(b.check().find("overflows a 32-bit accumulator"), std::string::npos) << b.check();
}

TEST(AccelValidation, SizeProductsThatWrapInt64AreRejected) {
  // Issue 10: n*cin*h*w = 2^64 wrapped to 0 and the shape passed as tiny (depthwise, 1x1 kernel).
  LayerShape s = conv(1 << 20, 1 << 20, 1 << 20, 16, 1 << 20, 1, 1, 0, 1 << 20);
  const std::string why = s.check();
  EXPECT_NE(why.find("overflows 64 bits"), std::string::npos) << why;
  int64_t p = 0;
  EXPECT_FALSE(cimsim::accel::checked_product({int64_t{1} << 40, int64_t{1} << 30}, p));
  EXPECT_TRUE(cimsim::accel::checked_product({int64_t{1} << 40, int64_t{1} << 20}, p));
  EXPECT_EQ(p, int64_t{1} << 60);
}
