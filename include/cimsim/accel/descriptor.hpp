#pragma once
// Layer descriptor: the fixed-size little-endian record the host writes to system memory and the
// accelerator fetches by DMA, one per layer, laid out back to back from DESC_ADDR. Field by field in
// docs/accelerator.md ("Descriptor format"). encode()/decode() are the only code that knows the byte layout;
// the models, the driver and the tests all go through them.
#include <array>
#include <cstdint>
#include <string>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/layer.hpp"

namespace cimsim::accel {

constexpr uint32_t kDescriptorMagic = 0x4C44534Eu;  ///< "NSDL" in memory order: 'N','S','D','L'

/// Error codes reported in STATUS.ERR_CODE (and thrown back by the driver as AcceleratorError).
enum class ErrorCode : uint8_t {
  None = 0,
  BadMagic = 1,          ///< descriptor magic word wrong (not a descriptor / wrong address)
  BadEnum = 2,           ///< kind, op or mode out of range
  BadShape = 3,          ///< zero dimension or impossible shape (kernel larger than padded input, groups ...)
  Unsupported = 4,       ///< (op, mode) pair the hardware cannot run (e.g. MAC8 in CIM)
  BufferOverflow = 5,    ///< the layer's working set does not fit the on-chip buffers
  DmaError = 6,          ///< a DMA transfer answered an error response (address outside memory)
  BadWeightSize = 7,     ///< weight_bytes differs from packed_row_bytes(op, K) * cout
  BadParams = 8,         ///< CIM parameters or requantization values out of range, bad weight encoding
  BadAddress = 9,        ///< an on-chip buffer operand (activation/weight buffer offset + extent) out of range
};
const char* error_name(ErrorCode e);
std::string error_message(ErrorCode e);

struct Descriptor {
  // geometry / operator
  LayerShape shape;
  Op op = Op::MAC8;
  Mode mode = Mode::Digital;
  bool relu = false;
  CimParams cim;
  // system-memory addresses (bytes)
  uint64_t input_addr = 0;    ///< int8 NCHW input
  uint64_t output_addr = 0;   ///< int8 NCHW output
  uint64_t weight_addr = 0;   ///< packed weights (pack_weights format)
  uint32_t weight_bytes = 0;  ///< size of the packed weights
  uint64_t mult_addr = 0;     ///< int32[cout]
  uint64_t shift_addr = 0;    ///< int32[cout]
  uint64_t bias_addr = 0;     ///< int64[cout] (requant bias, units of 2^-shift)
  // memory hierarchy (docs/accelerator.md, "Memory hierarchy"): with the *_act flags the address is a byte
  // offset in the activation buffer instead of a system-memory address
  bool in_act = false, in2_act = false, out_act = false;
  bool w_pin = false;       ///< load the constants (packed weights, mult, shift, bias) to wbuf_off and keep them
  bool w_resident = false;  ///< the constants are already at wbuf_off (pinned by an earlier run): no DMA
  uint32_t wbuf_off = 0;    ///< weight-buffer offset of pinned constants; streaming layers use [wbuf_off, end)
  uint32_t stage_off = 0, stage_bytes = 0;  ///< activation-buffer region for staging DRAM operands (0 bytes at
                                            ///< offset 0: the whole buffer, as for a layer run on its own)
  uint16_t in_ctotal = 0, out_ctotal = 0;   ///< channels of the tensor the operand is a slice of (0: cin/cout)
  // vector ops (kind MaxPool .. Add): second input of Add, and the rescale (mult, shift) pairs
  uint64_t input2_addr = 0;
  int32_t vmult[2] = {0, 0}, vshift[2] = {0, 0};
  // raw enum bytes as found in memory (decode keeps them for the BadEnum check)
  uint8_t raw_kind = 0, raw_op = 0, raw_mode = 0;
  uint32_t magic = kDescriptorMagic;
};

/// Size of one descriptor record in bytes (kDescriptorBytes of cost_model.hpp).
constexpr unsigned kDescriptorRecordBytes = 128;
using DescriptorBytes = std::array<uint8_t, kDescriptorRecordBytes>;

DescriptorBytes encode(const Descriptor& d);
Descriptor decode(const uint8_t* bytes);
/// The placement the descriptor describes on a given accelerator (stage_bytes; weight-buffer space from
/// wbuf_off to the end).
Placement placement_of(const Descriptor& d, const ArrayConfig& cfg);

/// Checks what can be checked from the record alone (magic, enums, shape, (op,mode), CIM params, weight size);
/// returns ErrorCode::None when fine.
ErrorCode validate(const Descriptor& d);

}  // namespace cimsim::accel
