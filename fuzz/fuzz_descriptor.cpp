// Fuzz target: the accelerator's descriptor decoder and validator on arbitrary 128-byte records (what the
// accelerator reads from system memory). A record that validates must survive encode -> decode -> validate.
// Seeds: encoded valid descriptors of every operator/mode.
#include <algorithm>
#include <cstring>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/accel/descriptor.hpp"
#include "fuzz_util.hpp"

extern "C" int sc_main(int, char**) { return 0; }  // libsystemc (linked through the register library) references it

using namespace cimsim::accel;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (!cimsim::fuzz::seed_dir()) return 0;
  int n = 0;
  for (Op op : kAllOps)
    for (Mode mode : {Mode::Digital, Mode::Cim}) {
      if (mode == Mode::Cim && !cim_supported(op)) continue;
      Descriptor d;
      d.shape = LayerShape::conv(1, 8, 6, 6, 4, 3, 1, 1, 1);
      d.op = op;
      d.mode = mode;
      d.raw_op = static_cast<uint8_t>(op);
      d.raw_mode = static_cast<uint8_t>(mode);
      d.weight_bytes = static_cast<uint32_t>(packed_row_bytes(op, d.shape.reduction()) * d.shape.cout);
      d.input_addr = 0x1000;
      d.output_addr = 0x2000;
      d.weight_addr = 0x3000;
      d.mult_addr = 0x4000;
      d.shift_addr = 0x4100;
      d.bias_addr = 0x4200;
      if (validate(d) != ErrorCode::None) continue;
      const DescriptorBytes b = encode(d);
      cimsim::fuzz::write_seed("desc-" + std::to_string(n++), std::vector<uint8_t>(b.begin(), b.end()));
    }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  uint8_t rec[kDescriptorRecordBytes] = {};
  std::memcpy(rec, data, std::min<size_t>(size, sizeof rec));
  cimsim::fuzz::expect_clean([&] {
    const Descriptor d = decode(rec);
    const ErrorCode e = validate(d);
    (void)error_message(e);
    if (e == ErrorCode::None) {
      const DescriptorBytes b = encode(d);
      if (validate(decode(b.data())) != ErrorCode::None) {
        std::fprintf(stderr, "fuzz finding: a valid descriptor does not survive encode/decode\n");
        std::abort();
      }
      // Sizes of a valid descriptor must be exact in 64 bits.
      int64_t p = 0;
      if (!checked_product({d.shape.n, d.shape.cin, d.shape.h, d.shape.w}, p)) std::abort();
    }
  });
  return 0;
}
