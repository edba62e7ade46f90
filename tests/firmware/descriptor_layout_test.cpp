// encode()/decode() (descriptor.cpp) agree with the declarative layout table (descriptor_layout.cpp) field by
// field: changing one field of a Descriptor changes exactly the bytes the table gives for it, with the value
// little-endian at that offset; a value written at the table's offset decodes into that field; the table's
// fields do not overlap and lie inside the record; bytes outside the table stay zero.
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <map>

#include "cimsim/accel/descriptor.hpp"
#include "cimsim/accel/descriptor_layout.hpp"

using namespace cimsim::accel;

namespace {

// How to set (from a raw little-endian value) and get (as raw bits) each named field of a Descriptor.
struct Access {
  std::function<void(Descriptor&, uint64_t)> set;
  std::function<uint64_t(const Descriptor&)> get;
};

template <class T>
uint64_t bits(T v) {
  uint64_t u = 0;
  std::memcpy(&u, &v, sizeof v);
  return u;
}
template <class T>
T from(uint64_t u) {
  T v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

std::map<std::string, Access> accessors() {
  std::map<std::string, Access> m;
#define U16(nm, expr) \
  m[nm] = {[](Descriptor& d, uint64_t v) { expr = static_cast<int>(static_cast<uint16_t>(v)); }, \
           [](const Descriptor& d) { return static_cast<uint64_t>(static_cast<uint16_t>(expr)); }}
  m["magic"] = {[](Descriptor& d, uint64_t v) { d.magic = static_cast<uint32_t>(v); },
                [](const Descriptor& d) { return uint64_t{d.magic}; }};
  m["kind"] = {[](Descriptor& d, uint64_t v) { d.shape.kind = static_cast<LayerKind>(v); },
               [](const Descriptor& d) { return uint64_t{d.raw_kind}; }};
  m["op"] = {[](Descriptor& d, uint64_t v) { d.op = static_cast<Op>(v); },
             [](const Descriptor& d) { return uint64_t{d.raw_op}; }};
  m["mode"] = {[](Descriptor& d, uint64_t v) { d.mode = static_cast<Mode>(v); },
               [](const Descriptor& d) { return uint64_t{d.raw_mode}; }};
  m["flags"] = {[](Descriptor& d, uint64_t v) { d.relu = (v & 1) != 0; },
                [](const Descriptor& d) { return uint64_t{d.relu ? 1u : 0u}; }};
  U16("n", d.shape.n);
  U16("cin", d.shape.cin);
  U16("h", d.shape.h);
  U16("w", d.shape.w);
  U16("cout", d.shape.cout);
  U16("kh", d.shape.kh);
  U16("kw", d.shape.kw);
  U16("stride", d.shape.stride);
  U16("pad", d.shape.pad);
  U16("groups", d.shape.groups);
  U16("cim_rows", d.cim.rows);
#undef U16
  m["adc_bits"] = {[](Descriptor& d, uint64_t v) { d.cim.adc_bits = static_cast<int>(static_cast<uint8_t>(v)); },
                   [](const Descriptor& d) { return static_cast<uint64_t>(static_cast<uint8_t>(d.cim.adc_bits)); }};
  m["adc_range"] = {[](Descriptor& d, uint64_t v) { d.cim.adc_range = static_cast<int32_t>(static_cast<uint32_t>(v)); },
                    [](const Descriptor& d) { return uint64_t{static_cast<uint32_t>(d.cim.adc_range)}; }};
  m["weight_bytes"] = {[](Descriptor& d, uint64_t v) { d.weight_bytes = static_cast<uint32_t>(v); },
                       [](const Descriptor& d) { return uint64_t{d.weight_bytes}; }};
  m["noise_lsb"] = {[](Descriptor& d, uint64_t v) { d.cim.noise_lsb = from<double>(v); },
                    [](const Descriptor& d) { return bits(d.cim.noise_lsb); }};
  m["gain_sigma"] = {[](Descriptor& d, uint64_t v) { d.cim.gain_sigma = from<double>(v); },
                     [](const Descriptor& d) { return bits(d.cim.gain_sigma); }};
#define U64(nm, field) \
  m[nm] = {[](Descriptor& d, uint64_t v) { d.field = v; }, [](const Descriptor& d) { return uint64_t{d.field}; }}
  U64("seed", cim.seed);
  U64("input_addr", input_addr);
  U64("output_addr", output_addr);
  U64("weight_addr", weight_addr);
  U64("mult_addr", mult_addr);
  U64("shift_addr", shift_addr);
  U64("bias_addr", bias_addr);
#undef U64
#define U32(nm, field)                                                                            \
  m[nm] = {[](Descriptor& d, uint64_t v) { d.field = static_cast<decltype(d.field)>(v); }, \
           [](const Descriptor& d) { return static_cast<uint64_t>(d.field); }}
  U32("wbuf_off", wbuf_off);
  U32("stage_off", stage_off);
  U32("stage_bytes", stage_bytes);
  U32("in_ctotal", in_ctotal);
  U32("out_ctotal", out_ctotal);
#undef U32
  return m;
}

// A value that fills the field's width with distinct bytes and is valid for its type (enums small).
uint64_t probe(const DescriptorField& f) {
  if (f.bytes == 1) return 0x01;  // valid for the enum bytes and the flags
  if (std::string(f.type) == "f64") return bits(1.5e-3);
  uint64_t v = 0;
  for (unsigned i = 0; i < f.bytes; ++i) v |= uint64_t{0x11u * (i + 1)} << (8 * i);
  return v;
}

}  // namespace

TEST(DescriptorLayout, FieldsAreInsideTheRecordAndDisjoint) {
  const auto& t = descriptor_layout();
  std::vector<int> owner(kDescriptorRecordBytes, -1);
  for (size_t i = 0; i < t.size(); ++i) {
    ASSERT_LE(t[i].offset + t[i].bytes, kDescriptorRecordBytes) << t[i].name;
    EXPECT_EQ(t[i].offset % t[i].bytes, 0u) << t[i].name << " is not naturally aligned";
    for (unsigned b = t[i].offset; b < t[i].offset + t[i].bytes; ++b) {
      EXPECT_EQ(owner[b], -1) << t[i].name << " overlaps " << (owner[b] >= 0 ? t[owner[b]].name : "");
      owner[b] = static_cast<int>(i);
    }
  }
}

TEST(DescriptorLayout, EncodeWritesEachFieldWhereTheTableSays) {
  const auto acc = accessors();
  Descriptor zero;
  zero.magic = 0;
  zero.shape = LayerShape{};
  const DescriptorBytes base = encode(zero);
  for (const auto& f : descriptor_layout()) {
    auto it = acc.find(f.name);
    ASSERT_NE(it, acc.end()) << "no accessor for table field " << f.name << " (update this test with the layout)";
    Descriptor d = zero;
    const uint64_t v = probe(f);
    it->second.set(d, v);
    const DescriptorBytes b = encode(d);
    for (unsigned i = 0; i < kDescriptorRecordBytes; ++i) {
      const bool inside = i >= f.offset && i < f.offset + f.bytes;
      if (!inside) {
        EXPECT_EQ(b[i], base[i]) << f.name << " changed byte " << i << " outside its table slot";
      } else {
        const uint8_t want = static_cast<uint8_t>(v >> (8 * (i - f.offset)));
        EXPECT_EQ(b[i], want) << f.name << " byte " << (i - f.offset);
      }
    }
  }
}

TEST(DescriptorLayout, DecodeReadsEachFieldWhereTheTableSays) {
  const auto acc = accessors();
  for (const auto& f : descriptor_layout()) {
    auto it = acc.find(f.name);
    ASSERT_NE(it, acc.end()) << f.name;
    DescriptorBytes rec{};
    const uint64_t v = probe(f);
    for (unsigned i = 0; i < f.bytes; ++i) rec[f.offset + i] = static_cast<uint8_t>(v >> (8 * i));
    const Descriptor d = decode(rec.data());
    EXPECT_EQ(it->second.get(d), v) << f.name;
  }
}

TEST(DescriptorLayout, BytesOutsideTheTableAreZeroInEveryEncoding) {
  std::vector<bool> covered(kDescriptorRecordBytes, false);
  for (const auto& f : descriptor_layout())
    for (unsigned b = f.offset; b < f.offset + f.bytes; ++b) covered[b] = true;
  Descriptor d;
  d.shape = LayerShape::conv(2, 300, 40, 50, 600, 3, 2, 1, 3);
  d.cim.seed = ~0ull;
  d.input_addr = d.output_addr = d.weight_addr = d.mult_addr = d.shift_addr = d.bias_addr = ~0ull;
  d.weight_bytes = ~0u;
  d.cim.noise_lsb = -1.0;
  const DescriptorBytes b = encode(d);
  for (unsigned i = 0; i < kDescriptorRecordBytes; ++i)
    if (!covered[i]) {
      EXPECT_EQ(b[i], 0) << "byte " << i << " is written but not in the layout table";
    }
}

// The flags byte: each ENOS_DESC_FLAG_* bit of the description is the bit encode() writes for that flag, and
// decode() reads it back into the same flag.
#include "cimsim/accel/regdesc.hpp"

TEST(DescriptorLayout, FlagBitsMatchTheDescription) {
  const auto dd = device_description();
  const cimsim::EnumDef* flags = nullptr;
  for (const auto& e : dd.enums)
    if (e.name == "DESC_FLAG") flags = &e;
  ASSERT_NE(flags, nullptr);
  const std::map<std::string, bool Descriptor::*> member = {
      {"RELU", &Descriptor::relu},   {"IN_ACT", &Descriptor::in_act}, {"IN2_ACT", &Descriptor::in2_act},
      {"OUT_ACT", &Descriptor::out_act}, {"W_PIN", &Descriptor::w_pin}, {"W_RESIDENT", &Descriptor::w_resident}};
  unsigned flags_off = 0;
  for (const auto& f : descriptor_layout())
    if (std::string(f.name) == "flags") flags_off = f.offset;
  ASSERT_EQ(flags->values.size(), member.size());
  for (const auto& v : flags->values) {
    auto it = member.find(v.name);
    ASSERT_NE(it, member.end()) << v.name;
    Descriptor d;
    d.*(it->second) = true;
    const DescriptorBytes b = encode(d);
    EXPECT_EQ(b[flags_off], v.value) << v.name;
    DescriptorBytes rec{};
    rec[flags_off] = static_cast<uint8_t>(v.value);
    EXPECT_TRUE(decode(rec.data()).*(it->second)) << v.name;
  }
}
