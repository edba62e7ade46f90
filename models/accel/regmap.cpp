// The accelerator register table (docs/accelerator.md embeds register_map_markdown()).
#include "cimsim/accel/regmap.hpp"

#include <sstream>

namespace cimsim::accel {

const std::vector<std::string>& energy_register_groups() {
  // The cost model's ledger components (LayerCost::energy_aj), one register pair each.
  static const std::vector<std::string> g = {"compute", "adc",     "dac", "requant",    "weight_buffer",
                                             "act_buffer", "cim_write", "dram", "descriptor", "leakage", "vector"};
  return g;
}

int energy_component_group(const std::string& c) {
  const auto& g = energy_register_groups();
  for (size_t i = 0; i < g.size(); ++i)
    if (g[i] == c) return static_cast<int>(i);
  return -1;
}

std::vector<RegisterDef> register_map() {
  std::vector<RegisterDef> m;
  auto add = [&m](const char* name, uint32_t off, Access a, uint32_t reset, uint32_t mask, std::string doc) {
    RegisterDef d;
    d.name = name;
    d.offset = off;
    d.access = a;
    d.reset = reset;
    d.write_mask = mask;
    d.doc = std::move(doc);
    m.push_back(std::move(d));
  };
  add("ID", reg::ID, Access::RO, kIdValue, 0, "Identification, 0x454E4F53 (\"ENOS\")");
  add("VERSION", reg::VERSION, Access::RO, kVersionValue, 0, "Register map version: major in bits 31:16, minor in bits 15:0");
  add("CTRL", reg::CTRL, Access::RW, 0, 0x3,
      "bit0 START: run LAYER_COUNT descriptors from DESC_ADDR (rejected with a generic error while busy); "
      "bit1 SOFT_RESET: clears STATUS, IRQ_STATUS, CUR_LAYER, PERF_SEL and the counters (rejected while busy). Reads 0");
  add("STATUS", reg::STATUS, Access::RO, 0, 0,
      "bit0 BUSY, bit1 DONE, bit2 ERROR, bits15:8 ERR_CODE (see Error codes), bits31:16 ERR_LAYER");
  add("DESC_ADDR_LO", reg::DESC_ADDR_LO, Access::RW, 0, 0xFFFFFFFFu,
      "Descriptor table address bits 31:0; must be 8-byte aligned (else generic error)");
  add("DESC_ADDR_HI", reg::DESC_ADDR_HI, Access::RW, 0, 0xFFFFFFFFu, "Descriptor table address bits 63:32");
  add("LAYER_COUNT", reg::LAYER_COUNT, Access::RW, 1, 0xFFFFFFFFu,
      "Number of descriptors to run, 1.." + std::to_string(kMaxLayers) + " (else generic error)");
  add("IRQ_ENABLE", reg::IRQ_ENABLE, Access::RW, 0, 0x3, "bit0 DONE, bit1 ERROR: enable the IRQ line");
  add("IRQ_STATUS", reg::IRQ_STATUS, Access::W1C, 0, 0x3,
      "bit0 DONE, bit1 ERROR: pending events, write 1 to clear; IRQ = (IRQ_STATUS & IRQ_ENABLE) != 0");
  add("CUR_LAYER", reg::CUR_LAYER, Access::RO, 0, 0, "Index of the layer being run (last one when idle)");
  add("CYCLES_LO", reg::CYCLES_LO, Access::RO, 0, 0, "Accelerator cycles of the PERF_SEL view, bits 31:0");
  add("CYCLES_HI", reg::CYCLES_HI, Access::RO, 0, 0, "Cycles, bits 63:32");
  add("PERF_SEL", reg::PERF_SEL, Access::RW, kPerfWholeRun, 0xFFFFFFFFu,
      "Counter view: 0xFFFFFFFF = the whole last run (live while busy), k = layer k of the last run");
  add("MACS_LO", reg::MACS_LO, Access::RO, 0, 0, "Operator terms (MACs) of the view, bits 31:0");
  add("MACS_HI", reg::MACS_HI, Access::RO, 0, 0, "MACs, bits 63:32");
  add("ENERGY_LO", reg::ENERGY_LO, Access::RO, 0, 0, "Energy of the view in attojoules (aJ), bits 31:0");
  add("ENERGY_HI", reg::ENERGY_HI, Access::RO, 0, 0, "Energy (aJ), bits 63:32");
  const auto& groups = energy_register_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    const std::string up = [&] {
      std::string s = groups[i];
      for (char& ch : s) ch = static_cast<char>(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
      return s;
    }();
    RegisterDef lo, hi;
    lo.name = "E_" + up + "_LO";
    lo.offset = energy_comp_lo(static_cast<int>(i));
    lo.access = Access::RO;
    lo.write_mask = 0;
    lo.doc = "Energy (aJ) of ledger component '" + groups[i] + "' in the view, bits 31:0";
    hi = lo;
    hi.name = "E_" + up + "_HI";
    hi.offset = lo.offset + 4;
    hi.doc = "bits 63:32";
    m.push_back(lo);
    m.push_back(hi);
  }
  return m;
}

std::string register_map_markdown() {
  RegisterBank b("accelerator");
  for (auto& d : register_map()) b.add(d);
  return b.to_markdown();
}

}  // namespace cimsim::accel
