// Descriptor encode/decode/validate: the only code that knows the descriptor byte layout
// (docs/accelerator.md, "Descriptor format").
#include "cimsim/accel/descriptor.hpp"

#include <climits>
#include <algorithm>
#include <cstring>

#include "cimsim/accel/datapath.hpp"

namespace cimsim::accel {
namespace {

template <typename T>
void put(uint8_t* b, unsigned off, T v) {
  std::memcpy(b + off, &v, sizeof v);  // the host and the model are little-endian (x86-64, documented)
}
template <typename T>
T get(const uint8_t* b, unsigned off) {
  T v;
  std::memcpy(&v, b + off, sizeof v);
  return v;
}

// Field offsets (docs/accelerator.md).
enum : unsigned {
  kMagic = 0x00, kKind = 0x04, kOp = 0x05, kMode = 0x06, kFlags = 0x07,
  kN = 0x08, kCin = 0x0A, kH = 0x0C, kW = 0x0E, kCout = 0x10, kKh = 0x12, kKw = 0x14, kStride = 0x16,
  kPad = 0x18, kGroups = 0x1A, kCimRows = 0x1C, kAdcBits = 0x1E,
  kAdcRange = 0x20, kWeightBytes = 0x24, kNoise = 0x28, kGain = 0x30, kSeed = 0x38,
  kIn = 0x40, kOut = 0x48, kWgt = 0x50, kMult = 0x58, kShift = 0x60, kBias = 0x68,
  kWbufOff = 0x70, kStageOff = 0x74, kStageBytes = 0x78, kInCtotal = 0x7C, kOutCtotal = 0x7E,
};
// Flag bits (byte kFlags).
enum : uint8_t {
  kFRelu = 1u << 0, kFInAct = 1u << 1, kFIn2Act = 1u << 2, kFOutAct = 1u << 3, kFWPin = 1u << 4,
  kFWResident = 1u << 5,
};

uint16_t u16(int v) { return static_cast<uint16_t>(v); }

}  // namespace

const char* error_name(ErrorCode e) {
  switch (e) {
    case ErrorCode::None: return "none";
    case ErrorCode::BadMagic: return "bad_magic";
    case ErrorCode::BadEnum: return "bad_enum";
    case ErrorCode::BadShape: return "bad_shape";
    case ErrorCode::Unsupported: return "unsupported";
    case ErrorCode::BufferOverflow: return "buffer_overflow";
    case ErrorCode::DmaError: return "dma_error";
    case ErrorCode::BadWeightSize: return "bad_weight_size";
    case ErrorCode::BadParams: return "bad_params";
    case ErrorCode::BadAddress: return "bad_address";
  }
  return "unknown";
}

std::string error_message(ErrorCode e) {
  switch (e) {
    case ErrorCode::None: return "no error";
    case ErrorCode::BadMagic: return "descriptor magic word is wrong (not a descriptor)";
    case ErrorCode::BadEnum: return "descriptor kind, op or mode is out of range";
    case ErrorCode::BadShape: return "zero dimension or impossible layer shape";
    case ErrorCode::Unsupported: return "operator not supported in this computing mode";
    case ErrorCode::BufferOverflow: return "layer working set does not fit the on-chip buffers";
    case ErrorCode::DmaError: return "DMA transfer failed (address outside memory)";
    case ErrorCode::BadWeightSize: return "weight_bytes does not match the packed weight size";
    case ErrorCode::BadParams: return "CIM or requantization parameters out of range, or bad weight code";
    case ErrorCode::BadAddress: return "on-chip buffer offset or extent out of range";
  }
  return "unknown error code " + std::to_string(static_cast<int>(e));
}

DescriptorBytes encode(const Descriptor& d) {
  DescriptorBytes a{};
  uint8_t* b = a.data();
  const LayerShape& s = d.shape;
  put<uint32_t>(b, kMagic, d.magic);
  put<uint8_t>(b, kKind, static_cast<uint8_t>(s.kind));
  put<uint8_t>(b, kOp, static_cast<uint8_t>(d.op));
  put<uint8_t>(b, kMode, static_cast<uint8_t>(d.mode));
  put<uint8_t>(b, kFlags, static_cast<uint8_t>((d.relu ? kFRelu : 0) | (d.in_act ? kFInAct : 0) |
                                               (d.in2_act ? kFIn2Act : 0) | (d.out_act ? kFOutAct : 0) |
                                               (d.w_pin ? kFWPin : 0) | (d.w_resident ? kFWResident : 0)));
  put(b, kN, u16(s.n));
  put(b, kCin, u16(s.cin));
  put(b, kH, u16(s.h));
  put(b, kW, u16(s.w));
  put(b, kCout, u16(s.cout));
  put(b, kKh, u16(s.kh));
  put(b, kKw, u16(s.kw));
  put(b, kStride, u16(s.stride));
  put(b, kPad, u16(s.pad));
  put(b, kGroups, u16(s.groups));
  put(b, kCimRows, u16(d.cim.rows));
  put<uint8_t>(b, kAdcBits, static_cast<uint8_t>(d.cim.adc_bits));
  put<int32_t>(b, kAdcRange, d.cim.adc_range);
  put<uint32_t>(b, kWeightBytes, d.weight_bytes);
  put<double>(b, kNoise, d.cim.noise_lsb);
  put<double>(b, kGain, d.cim.gain_sigma);
  put<uint64_t>(b, kSeed, d.cim.seed);
  put<uint64_t>(b, kIn, d.input_addr);
  put<uint64_t>(b, kOut, d.output_addr);
  if (is_vector_kind(s.kind)) {  // vector ops: second input and immediate rescale pairs in the constant fields
    put<uint64_t>(b, kWgt, d.input2_addr);
    put<int32_t>(b, kMult, d.vmult[0]);
    put<int32_t>(b, kMult + 4, d.vmult[1]);
    put<int32_t>(b, kShift, d.vshift[0]);
    put<int32_t>(b, kShift + 4, d.vshift[1]);
  } else {
    put<uint64_t>(b, kWgt, d.weight_addr);
    put<uint64_t>(b, kMult, d.mult_addr);
    put<uint64_t>(b, kShift, d.shift_addr);
    put<uint64_t>(b, kBias, d.bias_addr);
  }
  put<uint32_t>(b, kWbufOff, d.wbuf_off);
  put<uint32_t>(b, kStageOff, d.stage_off);
  put<uint32_t>(b, kStageBytes, d.stage_bytes);
  put<uint16_t>(b, kInCtotal, d.in_ctotal);
  put<uint16_t>(b, kOutCtotal, d.out_ctotal);
  return a;
}

Descriptor decode(const uint8_t* b) {
  Descriptor d;
  d.magic = get<uint32_t>(b, kMagic);
  d.raw_kind = get<uint8_t>(b, kKind);
  d.raw_op = get<uint8_t>(b, kOp);
  d.raw_mode = get<uint8_t>(b, kMode);
  d.shape.kind = static_cast<LayerKind>(d.raw_kind < kNumLayerKinds ? d.raw_kind : 0);
  d.op = static_cast<Op>(d.raw_op < kNumOps ? d.raw_op : 0);
  d.mode = static_cast<Mode>(d.raw_mode <= 1 ? d.raw_mode : 0);
  const uint8_t f = get<uint8_t>(b, kFlags);
  d.relu = (f & kFRelu) != 0;
  d.in_act = (f & kFInAct) != 0;
  d.in2_act = (f & kFIn2Act) != 0;
  d.out_act = (f & kFOutAct) != 0;
  d.w_pin = (f & kFWPin) != 0;
  d.w_resident = (f & kFWResident) != 0;
  LayerShape& s = d.shape;
  s.n = get<uint16_t>(b, kN);
  s.cin = get<uint16_t>(b, kCin);
  s.h = get<uint16_t>(b, kH);
  s.w = get<uint16_t>(b, kW);
  s.cout = get<uint16_t>(b, kCout);
  s.kh = get<uint16_t>(b, kKh);
  s.kw = get<uint16_t>(b, kKw);
  s.stride = get<uint16_t>(b, kStride);
  s.pad = get<uint16_t>(b, kPad);
  s.groups = get<uint16_t>(b, kGroups);
  d.cim.rows = get<uint16_t>(b, kCimRows);
  d.cim.adc_bits = get<uint8_t>(b, kAdcBits);
  d.cim.adc_range = get<int32_t>(b, kAdcRange);
  d.weight_bytes = get<uint32_t>(b, kWeightBytes);
  d.cim.noise_lsb = get<double>(b, kNoise);
  d.cim.gain_sigma = get<double>(b, kGain);
  d.cim.seed = get<uint64_t>(b, kSeed);
  d.input_addr = get<uint64_t>(b, kIn);
  d.output_addr = get<uint64_t>(b, kOut);
  if (is_vector_kind(d.shape.kind)) {
    d.input2_addr = get<uint64_t>(b, kWgt);
    d.vmult[0] = get<int32_t>(b, kMult);
    d.vmult[1] = get<int32_t>(b, kMult + 4);
    d.vshift[0] = get<int32_t>(b, kShift);
    d.vshift[1] = get<int32_t>(b, kShift + 4);
  } else {
    d.weight_addr = get<uint64_t>(b, kWgt);
    d.mult_addr = get<uint64_t>(b, kMult);
    d.shift_addr = get<uint64_t>(b, kShift);
    d.bias_addr = get<uint64_t>(b, kBias);
  }
  d.wbuf_off = get<uint32_t>(b, kWbufOff);
  d.stage_off = get<uint32_t>(b, kStageOff);
  d.stage_bytes = get<uint32_t>(b, kStageBytes);
  d.in_ctotal = get<uint16_t>(b, kInCtotal);
  d.out_ctotal = get<uint16_t>(b, kOutCtotal);
  return d;
}

Placement placement_of(const Descriptor& d, const ArrayConfig& cfg) {
  Placement p;
  p.in_dram = !d.in_act;
  p.in2_dram = !d.in2_act;
  p.out_dram = !d.out_act;
  p.weights_resident = d.w_resident;
  p.stage_bytes = d.stage_bytes == 0 && d.stage_off == 0 ? -1 : d.stage_bytes;  // 0 at 0: the whole buffer
  p.wbuf_bytes = cfg.weight_buffer_bytes - std::min<int64_t>(d.wbuf_off, cfg.weight_buffer_bytes);
  return p;
}

ErrorCode validate(const Descriptor& d) {
  if (d.magic != kDescriptorMagic) return ErrorCode::BadMagic;
  if (d.raw_kind >= kNumLayerKinds || d.raw_op >= kNumOps || d.raw_mode > 1) return ErrorCode::BadEnum;
  if (!d.shape.check().empty()) return ErrorCode::BadShape;
  if ((d.in_ctotal != 0 && d.in_ctotal < d.shape.cin) || (d.out_ctotal != 0 && d.out_ctotal < d.shape.cout))
    return ErrorCode::BadShape;
  if (is_vector_kind(d.shape.kind)) {
    if (d.mode != Mode::Digital) return ErrorCode::Unsupported;
    if (d.w_pin || d.w_resident) return ErrorCode::BadParams;
    const int nrq = d.shape.kind == LayerKind::Copy ? 1 : d.shape.kind == LayerKind::Add ? 2 : 0;
    for (int i = 0; i < nrq; ++i)
      if (d.vmult[i] < 0 || d.vshift[i] < 0 || d.vshift[i] > 62) return ErrorCode::BadParams;
    return ErrorCode::None;
  }
  if (d.w_pin && d.w_resident) return ErrorCode::BadParams;
  if (d.mode == Mode::Cim && !cim_supported(d.op)) return ErrorCode::Unsupported;
  if (d.mode == Mode::Cim) {
    const CimParams& c = d.cim;
    if (c.rows < 1 || c.adc_bits < 1 || c.adc_bits > 16 || c.adc_range <= 0 || !(c.noise_lsb >= 0) ||
        !(c.gain_sigma >= 0) || !(c.noise_lsb < 1e6) || !(c.gain_sigma < 1e6))
      return ErrorCode::BadParams;
  }
  if (d.shape.reduction() * max_abs_term(d.op) > INT32_MAX) return ErrorCode::BadShape;
  const uint64_t expect = packed_row_bytes(d.op, d.shape.reduction()) * static_cast<uint64_t>(d.shape.cout);
  if (d.weight_bytes != expect) return ErrorCode::BadWeightSize;
  return ErrorCode::None;
}

}  // namespace cimsim::accel
