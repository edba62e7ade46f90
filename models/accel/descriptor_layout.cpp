// Descriptor layout table (include/cimsim/accel/descriptor_layout.hpp); docs/accelerator.md "Descriptor format".
#include "cimsim/accel/descriptor_layout.hpp"

#include "cimsim/accel/descriptor.hpp"

namespace cimsim::accel {

const std::vector<DescriptorField>& descriptor_layout() {
  static const std::vector<DescriptorField> t = {
      {"magic", 0x00, 4, "u32", "0x4C44534E"},
      {"kind", 0x04, 1, "u8", "0 conv2d, 1 fully connected, 2 maxpool, 3 avgpool, 4 global avgpool, 5 channel shuffle, 6 copy, 7 add"},
      {"op", 0x05, 1, "u8", "0 mac8, 1 mac4, 2 bwn, 3 xnor, 4 mf, 5 deepshift, 6 adder"},
      {"mode", 0x06, 1, "u8", "0 digital, 1 cim"},
      {"flags", 0x07, 1, "u8", "bit0 ReLU, bit1 input in act. buffer, bit2 input2 in act. buffer, bit3 output in act. buffer, bit4 pin constants, bit5 constants resident (ENOS_DESC_FLAG_*)"},
      {"n", 0x08, 2, "u16", "batch"},
      {"cin", 0x0A, 2, "u16", "input channels"},
      {"h", 0x0C, 2, "u16", "input height"},
      {"w", 0x0E, 2, "u16", "input width"},
      {"cout", 0x10, 2, "u16", "output channels"},
      {"kh", 0x12, 2, "u16", "kernel height"},
      {"kw", 0x14, 2, "u16", "kernel width"},
      {"stride", 0x16, 2, "u16", "stride"},
      {"pad", 0x18, 2, "u16", "zero padding"},
      {"groups", 0x1A, 2, "u16", "groups (cin for depthwise)"},
      {"cim_rows", 0x1C, 2, "u16", "CIM partial-sum rows per ADC conversion"},
      {"adc_bits", 0x1E, 1, "u8", "CIM ADC bits"},
      {"adc_range", 0x20, 4, "i32", "CIM ADC full scale, partial-sum units"},
      {"weight_bytes", 0x24, 4, "u32", "size of the packed weights"},
      {"noise_lsb", 0x28, 8, "f64", "CIM ADC noise sigma, LSB"},
      {"gain_sigma", 0x30, 8, "f64", "CIM column gain mismatch sigma"},
      {"seed", 0x38, 8, "u64", "CIM noise/mismatch seed"},
      {"input_addr", 0x40, 8, "u64", "int8 NCHW input"},
      {"output_addr", 0x48, 8, "u64", "int8 NCHW output"},
      {"weight_addr", 0x50, 8, "u64", "packed weights; vector kinds: input2_addr (second input of add)"},
      {"mult_addr", 0x58, 8, "u64", "int32[cout] requant multipliers (ENOS_MULT_BYTES each); vector kinds: vmult[0], vmult[1] (2 x i32)"},
      {"shift_addr", 0x60, 8, "u64", "int32[cout] requant shifts (ENOS_SHIFT_BYTES each); vector kinds: vshift[0], vshift[1] (2 x i32)"},
      {"bias_addr", 0x68, 8, "u64", "int64[cout] biases, ENOS_BIAS_BYTES each (unused by vector kinds)"},
      {"wbuf_off", 0x70, 4, "u32", "weight-buffer offset of pinned/resident constants"},
      {"stage_off", 0x74, 4, "u32", "activation-buffer offset of the staging region"},
      {"stage_bytes", 0x78, 4, "u32", "staging region size"},
      {"in_ctotal", 0x7C, 2, "u16", "channels of the tensor the input is a slice of (0: cin)"},
      {"out_ctotal", 0x7E, 2, "u16", "channels of the tensor the output is a slice of (0: cout)"},
  };
  return t;
}

RecordDef descriptor_record() {
  RecordDef r;
  r.name = "DESC";
  r.size = kDescriptorRecordBytes;
  r.doc = "layer descriptor, LAYER_COUNT records back to back from DESC_ADDR";
  for (const auto& f : descriptor_layout())
    r.fields.push_back({f.name, f.offset, f.bytes, std::string(f.type) + ": " + f.doc});
  return r;
}

}  // namespace cimsim::accel
