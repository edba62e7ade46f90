#pragma once
// The accelerator's register map: one table shared by the models (which add behaviour callbacks by name),
// the driver (offsets) and the docs (docs/accelerator.md embeds register_map_markdown(); a test keeps them
// in sync). 32-bit registers, little-endian, bus rules of cimsim::RegisterBank.
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/soc/register_bank.hpp"

namespace cimsim::accel {

namespace reg {
constexpr uint32_t ID = 0x000;            ///< RO  kIdValue
constexpr uint32_t VERSION = 0x004;       ///< RO  kVersionValue
constexpr uint32_t CTRL = 0x008;          ///< RW  bit0 START, bit1 SOFT_RESET (self-clearing, read 0)
constexpr uint32_t STATUS = 0x00C;        ///< RO  busy/done/error + error code + failing layer
constexpr uint32_t DESC_ADDR_LO = 0x010;  ///< RW  descriptor table address, low word (8-byte aligned)
constexpr uint32_t DESC_ADDR_HI = 0x014;  ///< RW  high word
constexpr uint32_t LAYER_COUNT = 0x018;   ///< RW  1..kMaxLayers
constexpr uint32_t IRQ_ENABLE = 0x01C;    ///< RW  bit0 DONE, bit1 ERROR
constexpr uint32_t IRQ_STATUS = 0x020;    ///< W1C bit0 DONE, bit1 ERROR
constexpr uint32_t CUR_LAYER = 0x024;     ///< RO  layer being processed (last one when idle)
constexpr uint32_t CYCLES_LO = 0x028;     ///< RO  cycles of the view selected by PERF_SEL
constexpr uint32_t CYCLES_HI = 0x02C;
constexpr uint32_t PERF_SEL = 0x030;      ///< RW  0xFFFFFFFF: whole run; k: layer k of the last run
constexpr uint32_t MACS_LO = 0x038;       ///< RO  MACs of the selected view
constexpr uint32_t MACS_HI = 0x03C;
constexpr uint32_t ENERGY_LO = 0x040;     ///< RO  total energy (aJ) of the selected view
constexpr uint32_t ENERGY_HI = 0x044;
constexpr uint32_t ENERGY_COMP_BASE = 0x080;  ///< RO  per-component energy (aJ), lo/hi pairs, kEnergyComponents order
}  // namespace reg

constexpr uint32_t kIdValue = 0x454E4F53u;       ///< "ENOS"
constexpr uint32_t kVersionValue = 0x00010000u;  ///< 1.0
constexpr uint32_t kMaxLayers = 1024;
constexpr uint32_t kPerfWholeRun = 0xFFFFFFFFu;

namespace ctrl {
constexpr uint32_t START = 1u << 0;
constexpr uint32_t SOFT_RESET = 1u << 1;
}  // namespace ctrl
namespace status {
constexpr uint32_t BUSY = 1u << 0;
constexpr uint32_t DONE = 1u << 1;
constexpr uint32_t ERROR = 1u << 2;
constexpr uint32_t ERR_CODE_SHIFT = 8;  ///< bits 15:8 ErrorCode
constexpr uint32_t ERR_CODE_MASK = 0xFFu << ERR_CODE_SHIFT;
constexpr uint32_t ERR_LAYER_SHIFT = 16;  ///< bits 31:16 index of the failing layer
}  // namespace status
namespace irq {
constexpr uint32_t DONE = 1u << 0;
constexpr uint32_t ERROR = 1u << 1;
}  // namespace irq

/// Energy components exposed as registers, in register order (ENERGY_COMP_BASE + 8*i: lo, +4: hi).
/// These are exactly the cost model's ledger components (LayerCost::energy_aj).
const std::vector<std::string>& energy_register_groups();
/// Index of a ledger component in energy_register_groups(), -1 if it has no register.
int energy_component_group(const std::string& ledger_component);
inline uint32_t energy_comp_lo(int group) { return reg::ENERGY_COMP_BASE + 8u * static_cast<uint32_t>(group); }

/// The register table without behaviour (offset, name, access, reset, write mask, doc).
std::vector<RegisterDef> register_map();
/// Markdown table of register_map() (what docs/accelerator.md embeds).
std::string register_map_markdown();

}  // namespace cimsim::accel
