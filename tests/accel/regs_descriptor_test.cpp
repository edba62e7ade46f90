// Descriptor record: byte layout as documented in docs/accelerator.md, round trip, validation codes.
#include <gtest/gtest.h>

#include <cstring>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/accel/descriptor.hpp"

using namespace cimsim::accel;

namespace {
template <typename T>
T at(const DescriptorBytes& b, unsigned off) {
  T v;
  std::memcpy(&v, b.data() + off, sizeof v);
  return v;
}

Descriptor sample() {
  Descriptor d;
  d.shape.kind = LayerKind::Conv2d;
  d.shape.n = 2;
  d.shape.cin = 6;
  d.shape.h = 9;
  d.shape.w = 7;
  d.shape.cout = 4;
  d.shape.kh = 3;
  d.shape.kw = 3;
  d.shape.stride = 2;
  d.shape.pad = 1;
  d.shape.groups = 2;
  d.op = Op::MF;
  d.mode = Mode::Cim;
  d.relu = true;
  d.cim.rows = 24;
  d.cim.adc_bits = 6;
  d.cim.adc_range = 77;
  d.cim.noise_lsb = 0.125;
  d.cim.gain_sigma = 0.5;
  d.cim.seed = 0x1122334455667788ull;
  d.weight_bytes = static_cast<uint32_t>(packed_row_bytes(Op::MF, 27) * 4);
  d.input_addr = 0x8000000000000010ull;
  d.output_addr = 0x20;
  d.weight_addr = 0x30;
  d.mult_addr = 0x40;
  d.shift_addr = 0x50;
  d.bias_addr = 0x60;
  return d;
}
}  // namespace

TEST(AccelDescriptor, FieldOffsetsAsDocumented) {
  const DescriptorBytes b = encode(sample());
  ASSERT_EQ(b.size(), 128u);
  EXPECT_EQ(at<uint32_t>(b, 0x00), kDescriptorMagic);
  EXPECT_EQ(at<uint8_t>(b, 0x04), 0);
  EXPECT_EQ(at<uint8_t>(b, 0x05), 4);
  EXPECT_EQ(at<uint8_t>(b, 0x06), 1);
  EXPECT_EQ(at<uint8_t>(b, 0x07), 1);
  const uint16_t dims[10] = {2, 6, 9, 7, 4, 3, 3, 2, 1, 2};
  for (unsigned i = 0; i < 10; ++i) EXPECT_EQ(at<uint16_t>(b, 0x08 + 2 * i), dims[i]) << i;
  EXPECT_EQ(at<uint16_t>(b, 0x1C), 24);
  EXPECT_EQ(at<uint8_t>(b, 0x1E), 6);
  EXPECT_EQ(at<int32_t>(b, 0x20), 77);
  EXPECT_EQ(at<uint32_t>(b, 0x24), sample().weight_bytes);
  EXPECT_EQ(at<double>(b, 0x28), 0.125);
  EXPECT_EQ(at<double>(b, 0x30), 0.5);
  EXPECT_EQ(at<uint64_t>(b, 0x38), 0x1122334455667788ull);
  EXPECT_EQ(at<uint64_t>(b, 0x40), 0x8000000000000010ull);
  EXPECT_EQ(at<uint64_t>(b, 0x48), 0x20u);
  EXPECT_EQ(at<uint64_t>(b, 0x50), 0x30u);
  EXPECT_EQ(at<uint64_t>(b, 0x58), 0x40u);
  EXPECT_EQ(at<uint64_t>(b, 0x60), 0x50u);
  EXPECT_EQ(at<uint64_t>(b, 0x68), 0x60u);
  for (unsigned i = 0x70; i < 0x80; ++i) EXPECT_EQ(b[i], 0) << i;
}

TEST(AccelDescriptor, RoundTripAndValid) {
  const Descriptor d = sample();
  const DescriptorBytes b = encode(d);
  const Descriptor e = decode(b.data());
  EXPECT_EQ(encode(e), b);
  EXPECT_EQ(validate(e), ErrorCode::None);
}

TEST(AccelDescriptor, ValidationCodes) {
  auto code = [](auto mutate) {
    DescriptorBytes b = encode(sample());
    mutate(b);
    return validate(decode(b.data()));
  };
  EXPECT_EQ(code([](DescriptorBytes& b) { b[0] ^= 1; }), ErrorCode::BadMagic);
  EXPECT_EQ(code([](DescriptorBytes& b) { b[0x04] = 8; }), ErrorCode::BadEnum);  // kinds 0..7
  EXPECT_EQ(code([](DescriptorBytes& b) { b[0x05] = 7; }), ErrorCode::BadEnum);
  EXPECT_EQ(code([](DescriptorBytes& b) { b[0x06] = 2; }), ErrorCode::BadEnum);
  EXPECT_EQ(code([](DescriptorBytes& b) { b[0x0C] = 0; }), ErrorCode::BadShape);  // h = 0
  EXPECT_EQ(code([](DescriptorBytes& b) { b[0x05] = 0; }), ErrorCode::Unsupported);  // mac8 in CIM
  EXPECT_EQ(code([](DescriptorBytes& b) { b[0x1E] = 17; }), ErrorCode::BadParams);  // adc_bits
  EXPECT_EQ(code([](DescriptorBytes& b) { b[0x24] ^= 1; }), ErrorCode::BadWeightSize);
}

TEST(AccelDescriptor, ErrorNamesAreDistinct) {
  for (int a = 0; a <= 8; ++a)
    for (int b = a + 1; b <= 8; ++b)
      EXPECT_STRNE(error_name(static_cast<ErrorCode>(a)), error_name(static_cast<ErrorCode>(b)));
  EXPECT_EQ(error_message(static_cast<ErrorCode>(99)), "unknown error code 99");
}
