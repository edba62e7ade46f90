// Accelerator device description (include/cimsim/accel/regdesc.hpp): fields and codes around register_map().
#include "cimsim/accel/regdesc.hpp"

#include <cstring>

#include "cimsim/accel/cost_model.hpp"
#include "cimsim/accel/descriptor.hpp"
#include "cimsim/accel/layer.hpp"
#include "cimsim/accel/descriptor_layout.hpp"
#include "cimsim/accel/regmap.hpp"

namespace cimsim::accel {

namespace {
std::string upper(const char* s) {
  std::string u(s);
  for (char& c : u)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  return u;
}
unsigned lsb(uint32_t bit) { return static_cast<unsigned>(__builtin_ctz(bit)); }
}  // namespace

DeviceDescription device_description() {
  DeviceDescription d;
  d.name = "ENOS";
  d.prefix = "ENOS";
  d.description = "ENOS DNN accelerator: per-layer reconfigurable operators, digital or CIM";
  d.window_bytes = 0x1000;
  d.registers = register_map();
  d.fields = {
      {"CTRL", "START", lsb(ctrl::START), 1, "run LAYER_COUNT descriptors from DESC_ADDR"},
      {"CTRL", "SOFT_RESET", lsb(ctrl::SOFT_RESET), 1, "clear status, IRQs and counters"},
      {"STATUS", "BUSY", lsb(status::BUSY), 1, "running"},
      {"STATUS", "DONE", lsb(status::DONE), 1, "the last run finished"},
      {"STATUS", "ERROR", lsb(status::ERROR), 1, "the last run stopped on an error"},
      {"STATUS", "ERR_CODE", status::ERR_CODE_SHIFT, 8, "error code (ERR_*)"},
      {"STATUS", "ERR_LAYER", status::ERR_LAYER_SHIFT, 16, "index of the failing layer"},
      {"IRQ_ENABLE", "DONE", lsb(irq::DONE), 1, "run finished"},
      {"IRQ_ENABLE", "ERROR", lsb(irq::ERROR), 1, "run stopped on an error"},
      {"IRQ_STATUS", "DONE", lsb(irq::DONE), 1, "run finished"},
      {"IRQ_STATUS", "ERROR", lsb(irq::ERROR), 1, "run stopped on an error"},
  };
  EnumDef err{"ERR", "STATUS.ERR_CODE values", {}};
  for (unsigned c = 0; c < 256; ++c) {  // every code error_name() knows
    const char* n = error_name(static_cast<ErrorCode>(c));
    if (std::strcmp(n, "unknown") == 0) continue;
    err.values.push_back({upper(n), c, error_message(static_cast<ErrorCode>(c))});
  }
  d.enums.push_back(std::move(err));
  d.enums.push_back({"OP", "descriptor op values",
                     {{"MAC8", 0, ""}, {"MAC4", 1, ""}, {"BWN", 2, ""}, {"XNOR", 3, ""}, {"MF", 4, ""},
                      {"DEEPSHIFT", 5, ""}, {"ADDER", 6, ""}}});
  d.enums.push_back({"MODE", "descriptor mode values", {{"DIGITAL", 0, ""}, {"CIM", 1, ""}}});
  d.enums.push_back({"KIND", "descriptor kind values (2..7: vector kinds)",
                     {{"CONV2D", 0, ""}, {"FC", 1, ""}, {"MAXPOOL", 2, ""}, {"AVGPOOL", 3, ""}, {"GLOBAL_AVGPOOL", 4, ""},
                      {"CHANNEL_SHUFFLE", 5, ""}, {"COPY", 6, ""}, {"ADD", 7, ""}}});
  d.enums.push_back({"DESC_FLAG", "bits of the descriptor's flags byte (tests/firmware/descriptor_layout_test.cpp)",
                     {{"RELU", 1u << 0, "fused ReLU"},
                      {"IN_ACT", 1u << 1, "input_addr is an activation-buffer offset"},
                      {"IN2_ACT", 1u << 2, "input2 is an activation-buffer offset"},
                      {"OUT_ACT", 1u << 3, "output_addr is an activation-buffer offset"},
                      {"W_PIN", 1u << 4, "load the constants to wbuf_off and keep them"},
                      {"W_RESIDENT", 1u << 5, "the constants are already at wbuf_off"}}});
  d.constants = {
      {"ID_VALUE", kIdValue, "ID register value (\"ENOS\")"},
      {"VERSION_VALUE", kVersionValue, "VERSION register value"},
      {"MAX_LAYERS", kMaxLayers, "LAYER_COUNT upper bound"},
      {"PERF_WHOLE_RUN", kPerfWholeRun, "PERF_SEL value selecting the whole last run"},
      {"DESC_MAGIC", kDescriptorMagic, "descriptor magic word"},
      {"ENERGY_COMPONENTS", energy_register_groups().size(), "E_<component>_LO/HI register pairs"},
      // Element sizes of the arrays a descriptor points at, taken from the model's own types (Requant): the
      // header once said int32 biases while the model reads int64 (issue 24). Signed, little-endian.
      {"MULT_BYTES", sizeof(decltype(Requant::mult)::value_type), "bytes of one requant multiplier at mult_addr (int32)"},
      {"SHIFT_BYTES", sizeof(decltype(Requant::shift)::value_type), "bytes of one requant shift at shift_addr (int32)"},
      {"BIAS_BYTES", sizeof(decltype(Requant::bias)::value_type), "bytes of one bias at bias_addr (int64)"},
      {"REQUANT_BYTES_PER_CHANNEL", kRequantBytesPerChannel,
       "pinned constants after the packed weights: mult, shift, bias per channel"},
  };
  static_assert(sizeof(decltype(Requant::mult)::value_type) + sizeof(decltype(Requant::shift)::value_type) +
                        sizeof(decltype(Requant::bias)::value_type) == kRequantBytesPerChannel,
                "pinned requant layout");
  d.records.push_back(descriptor_record());
  return d;
}

}  // namespace cimsim::accel
