#pragma once
// MC2RAM register map: one table shared by the macro model, the driver and docs/mc2ram.md.
// All registers are 32-bit, 4-byte aligned, little-endian. Fixed-point knob registers are Q16.16 signed.
#include <cstdint>

namespace cimsim::mc2ram::reg {

inline constexpr uint32_t kIdValue = 0x4D433252u;  // "MC2R"

inline constexpr uint32_t ID = 0x000;           // RO
inline constexpr uint32_t CTRL = 0x004;         // RW: bit0 START (self-clearing), bit1 SOFT_RESET, bit2 DMA_EN
inline constexpr uint32_t STATUS = 0x008;       // RO: bit0 BUSY, bit1 DONE, bits[15:8] error code
inline constexpr uint32_t GMM_CFG = 0x00C;      // RW: bits[7:0] K (1..8), bits[15:8] D (1..8)
inline constexpr uint32_t WEIGHT_BITS = 0x010;  // RW: 2..16 bit-cells per stored weight
inline constexpr uint32_t Y_SCALE = 0x014;      // RW: signed y_scale_log2, -64..64
inline constexpr uint32_t PROP_SCALE = 0x018;   // RW: proposal scale (Q20.12), nonzero
inline constexpr uint32_t CHAINS = 0x01C;       // RW: 1..8 parallel chains
inline constexpr uint32_t SAMPLES = 0x020;      // RW: samples per chain, >= 1
inline constexpr uint32_t SEED_LO = 0x024;      // RW
inline constexpr uint32_t SEED_HI = 0x028;      // RW
inline constexpr uint32_t DAC_CFG = 0x030;      // RW: dac bits 1..16
inline constexpr uint32_t DAC_OFFSET = 0x034;   // RW: Q16.16 DAC LSBs
inline constexpr uint32_t DAC_INL = 0x038;      // RW: Q16.16 DAC LSBs (peak)
inline constexpr uint32_t ADC_CFG = 0x03C;      // RW: adc bits 1..12
inline constexpr uint32_t ADC_OFFSET = 0x040;   // RW: Q16.16 ADC LSBs
inline constexpr uint32_t ADC_NOISE = 0x044;    // RW: Q16.16 ADC LSBs sigma, >= 0
inline constexpr uint32_t RNG_CFG = 0x048;      // RW: bits[5:0] rng bits 4..24, bits[13:8] fresh bits (0 = all)
inline constexpr uint32_t RNG_PERIOD = 0x04C;   // RW: period in words (0 = ideal)
inline constexpr uint32_t CELL_MISMATCH = 0x050;  // RW: Q16.16 relative sigma, >= 0
inline constexpr uint32_t BL_NOISE = 0x054;     // RW: Q16.16 sigma in Mahalanobis units, >= 0
inline constexpr uint32_t VDD_MV = 0x058;       // RW: 500..1100 mV
inline constexpr uint32_t FIFO_DATA = 0x060;    // RO: pops [26:24] chain,[18:16] dim,[15:0] state; debug reads do not pop
inline constexpr uint32_t FIFO_LEVEL = 0x064;   // RO: words in the FIFO
inline constexpr uint32_t FIFO_THRESH = 0x068;  // RW: IRQ FIFO bit when level >= thresh (1..kFifoDepth)
inline constexpr uint32_t DMA_ADDR_LO = 0x070;  // RW
inline constexpr uint32_t DMA_ADDR_HI = 0x074;  // RW
inline constexpr uint32_t IRQ_ENABLE = 0x080;   // RW: bit0 DONE, bit1 ERROR, bit2 FIFO
inline constexpr uint32_t IRQ_STATUS = 0x084;   // W1C
inline constexpr uint32_t CYCLES_LO = 0x090;    // RO: busy cycles of the last/current run
inline constexpr uint32_t CYCLES_HI = 0x094;
inline constexpr uint32_t ACCEPTS_LO = 0x098;   // RO: accepted proposals
inline constexpr uint32_t ACCEPTS_HI = 0x09C;
inline constexpr uint32_t EARLY_REJECTS = 0x0A0;  // RO: iterations decided after the coarse ADC cycle
inline constexpr uint32_t ENERGY_SEL = 0x0A8;   // RW: 0 total, 1 rng, 2 dac, 3 array, 4 adc, 5 logic, 6 leakage
inline constexpr uint32_t ENERGY_LO = 0x0AC;    // RO: energy of the selected part, aJ
inline constexpr uint32_t ENERGY_HI = 0x0B0;

// GMM programming window: component k at GMM_WINDOW + k * kCompStride; word w of a component:
//   w = i*8 + j (0..63): A[i][j] (int32, |A| < 2^(weight_bits-1));
//   w = 64 + 2i, 65 + 2i: bias b_i low/high word (int64);  w = 80: c_k (int32, 1/256 nat);
//   w = 81: y_shift_k (0..32, the component's extra exponent: y = y_acc * 2^-(Y_SCALE + y_shift_k)).
inline constexpr uint32_t GMM_WINDOW = 0x1000;
inline constexpr uint32_t kCompStride = 0x200;
inline constexpr uint32_t kWordA = 0, kWordBias = 64, kWordC = 80, kWordYShift = 81, kCompWords = 82;
// Initial state window: lane l, dim j at INIT_WINDOW + (l*8 + j)*4 (int32, saturated to 16 bits).
inline constexpr uint32_t INIT_WINDOW = 0x2000;
inline constexpr uint32_t kMapSize = 0x2100;

inline constexpr uint32_t CTRL_START = 1u, CTRL_RESET = 2u, CTRL_DMA_EN = 4u;
inline constexpr uint32_t STATUS_BUSY = 1u, STATUS_DONE = 2u;
inline constexpr uint32_t IRQ_DONE = 1u, IRQ_ERROR = 2u, IRQ_FIFO = 4u;
inline constexpr uint32_t kFifoDepth = 256;

/// Error codes in STATUS[15:8] (set when START finds an inconsistent configuration, or a DMA write fails).
enum Err : uint32_t {
  ERR_NONE = 0,
  ERR_GMM_SHAPE = 1,     ///< K or D is 0 (never programmed)
  ERR_CHAINS = 2,        ///< chain count 0
  ERR_SAMPLES = 3,       ///< sample count 0
  ERR_PROP_SCALE = 4,    ///< proposal scale 0
  ERR_WEIGHT_RANGE = 5,  ///< a stored weight does not fit WEIGHT_BITS
  ERR_DMA = 6,           ///< the DMA write got an error response
  ERR_CONFIG = 7,        ///< knob combination rejected by the datapath
  ERR_DMA_INCOMPLETE = 8,  ///< the DMA target returned without setting the response status (TLM_INCOMPLETE_RESPONSE)
};

}  // namespace cimsim::mc2ram::reg
