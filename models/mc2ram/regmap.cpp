// MC2RAM register table (include/cimsim/mc2ram/regmap.hpp): rows without behaviour, fields, error codes.
#include "cimsim/mc2ram/regmap.hpp"

#include "cimsim/mc2ram/datapath.hpp"
#include "cimsim/mc2ram/regs.hpp"

namespace cimsim::mc2ram {

using namespace reg;

std::vector<RegisterDef> register_map() {
  std::vector<RegisterDef> m;
  auto add = [&m](const char* name, uint32_t off, Access a, uint32_t reset, uint32_t mask, const char* doc) {
    m.push_back(RegisterDef{name, off, a, reset, mask, doc, {}, {}, {}});
  };
  add("ID", ID, Access::RO, kIdValue, 0, "identification 'MC2R'");
  add("CTRL", CTRL, Access::RW, 0, 0x7, "bit0 START (self-clearing), bit1 SOFT_RESET, bit2 DMA_EN");
  add("STATUS", STATUS, Access::RO, 0, 0, "bit0 BUSY, bit1 DONE, bits[15:8] error code");
  add("GMM_CFG", GMM_CFG, Access::RW, 0x0202, 0xFFFF, "bits[7:0] K 1..8, bits[15:8] D 1..8");
  add("WEIGHT_BITS", WEIGHT_BITS, Access::RW, 8, 0xFF, "bit-cells per weight 2..16");
  add("Y_SCALE", Y_SCALE, Access::RW, 0, 0xFFFFFFFF, "signed y_scale_log2 -64..64");
  add("PROP_SCALE", PROP_SCALE, Access::RW, 0, 0xFFFFFFFF, "proposal scale (Q20.12), nonzero");
  add("CHAINS", CHAINS, Access::RW, 1, 0xFF, "parallel chains 1..8");
  add("SAMPLES", SAMPLES, Access::RW, 500, 0xFFFFFFFF, "samples per chain >= 1");
  add("SEED_LO", SEED_LO, Access::RW, 1, 0xFFFFFFFF, "seed bits 31:0");
  add("SEED_HI", SEED_HI, Access::RW, 0, 0xFFFFFFFF, "seed bits 63:32");
  add("DAC_CFG", DAC_CFG, Access::RW, 10, 0x1F, "DAC bits 1..16");
  add("DAC_OFFSET", DAC_OFFSET, Access::RW, 0, 0xFFFFFFFF, "DAC offset, Q16.16 LSB");
  add("DAC_INL", DAC_INL, Access::RW, 0, 0xFFFFFFFF, "DAC peak INL, Q16.16 LSB");
  add("ADC_CFG", ADC_CFG, Access::RW, 8, 0x1F, "ADC bits 1..12");
  add("ADC_OFFSET", ADC_OFFSET, Access::RW, 0, 0xFFFFFFFF, "ADC offset, Q16.16 LSB");
  add("ADC_NOISE", ADC_NOISE, Access::RW, 0, 0xFFFFFFFF, "ADC noise sigma, Q16.16 LSB, >= 0");
  add("RNG_CFG", RNG_CFG, Access::RW, 16, 0x3F3F, "bits[5:0] RNG bits 4..24, bits[13:8] fresh bits");
  add("RNG_PERIOD", RNG_PERIOD, Access::RW, 0, 0xFFFFFFFF, "RNG period in words, 0 = ideal");
  add("CELL_MISMATCH", CELL_MISMATCH, Access::RW, 0, 0xFFFFFFFF, "bit-cell mismatch sigma, Q16.16");
  add("BL_NOISE", BL_NOISE, Access::RW, 0, 0xFFFFFFFF, "bit-line noise sigma (Mahalanobis), Q16.16");
  add("VDD_MV", VDD_MV, Access::RW, 900, 0xFFFF, "supply in mV, 500..1100");
  add("FIFO_DATA", FIFO_DATA, Access::RO, 0, 0, "sample word (int32); a bus read pops");
  add("FIFO_LEVEL", FIFO_LEVEL, Access::RO, 0, 0, "words in the sample FIFO");
  add("FIFO_THRESH", FIFO_THRESH, Access::RW, 64, 0xFFFF, "FIFO IRQ threshold 1..256");
  add("DMA_ADDR_LO", DMA_ADDR_LO, Access::RW, 0, 0xFFFFFFFF,
      "DMA base bits 31:0 (4-byte aligned: a write with bit 1 or 0 set gets an error response)");
  add("DMA_ADDR_HI", DMA_ADDR_HI, Access::RW, 0, 0xFFFFFFFF, "DMA base bits 63:32");
  add("IRQ_ENABLE", IRQ_ENABLE, Access::RW, 0, 0x7, "bit0 DONE, bit1 ERROR, bit2 FIFO");
  add("IRQ_STATUS", IRQ_STATUS, Access::W1C, 0, 0x7, "pending interrupts, write 1 to clear");
  add("CYCLES_LO", CYCLES_LO, Access::RO, 0, 0, "busy cycles 31:0");
  add("CYCLES_HI", CYCLES_HI, Access::RO, 0, 0, "busy cycles 63:32");
  add("ACCEPTS_LO", ACCEPTS_LO, Access::RO, 0, 0, "accepted proposals 31:0");
  add("ACCEPTS_HI", ACCEPTS_HI, Access::RO, 0, 0, "accepted proposals 63:32");
  add("EARLY_REJECTS", EARLY_REJECTS, Access::RO, 0, 0, "iterations rejected after the coarse ADC cycle");
  add("ENERGY_SEL", ENERGY_SEL, Access::RW, 0, 0x7, "0 total, 1 rng, 2 dac, 3 array, 4 adc, 5 logic, 6 leakage");
  add("ENERGY_LO", ENERGY_LO, Access::RO, 0, 0, "selected energy, aJ, bits 31:0");
  add("ENERGY_HI", ENERGY_HI, Access::RO, 0, 0, "selected energy, aJ, bits 63:32");
  return m;
}

DeviceDescription device_description() {
  DeviceDescription d;
  d.name = "MC2RAM";
  d.prefix = "MC2RAM";
  d.description = "MC2RAM SRAM macro: Metropolis-Hastings sampling of Gaussian mixtures";
  d.window_bytes = kMapSize;
  d.registers = register_map();
  d.fields = {
      {"CTRL", "START", 0, 1, "start a run (self-clearing; rejected while busy)"},
      {"CTRL", "SOFT_RESET", 1, 1, "abort, clear FIFO, STATUS and IRQ_STATUS"},
      {"CTRL", "DMA_EN", 2, 1, "samples by DMA to DMA_ADDR instead of the FIFO"},
      {"STATUS", "BUSY", 0, 1, "a run is in progress"},
      {"STATUS", "DONE", 1, 1, "the last run finished"},
      {"STATUS", "ERR_CODE", 8, 8, "error code (ERR_*)"},
      {"GMM_CFG", "K", 0, 8, "mixture components 1..8"},
      {"GMM_CFG", "D", 8, 8, "dimensions 1..8"},
      {"RNG_CFG", "BITS", 0, 6, "RNG bits 4..24"},
      {"RNG_CFG", "FRESH", 8, 6, "fresh bits per draw (0 = all)"},
      {"IRQ_ENABLE", "DONE", 0, 1, "run finished"},
      {"IRQ_ENABLE", "ERROR", 1, 1, "error"},
      {"IRQ_ENABLE", "FIFO", 2, 1, "FIFO level >= FIFO_THRESH"},
      {"IRQ_STATUS", "DONE", 0, 1, "run finished"},
      {"IRQ_STATUS", "ERROR", 1, 1, "error"},
      {"IRQ_STATUS", "FIFO", 2, 1, "FIFO level >= FIFO_THRESH"},
      {"FIFO_DATA", "STATE", 0, 16, "chain state of one dimension (int16)"},
      {"FIFO_DATA", "DIM", 16, 3, "dimension index"},
      {"FIFO_DATA", "CHAIN", 24, 3, "chain index"},
  };
  d.enums = {{"ERR",
              "STATUS.ERR_CODE values",
              {{"NONE", ERR_NONE, "no error"},
               {"GMM_SHAPE", ERR_GMM_SHAPE, "K or D is 0 (never programmed)"},
               {"CHAINS", ERR_CHAINS, "chain count 0"},
               {"SAMPLES", ERR_SAMPLES, "sample count 0"},
               {"PROP_SCALE", ERR_PROP_SCALE, "proposal scale 0"},
               {"WEIGHT_RANGE", ERR_WEIGHT_RANGE, "a stored weight does not fit WEIGHT_BITS"},
               {"DMA", ERR_DMA, "a DMA write got an error response"},
               {"CONFIG", ERR_CONFIG, "knob combination rejected by the datapath"},
               {"DMA_INCOMPLETE", ERR_DMA_INCOMPLETE, "the DMA target never set the response status"}}},
             {"ENERGY_SEL", "ENERGY_SEL values",
              {{"TOTAL", 0, ""}, {"RNG", 1, ""}, {"DAC", 2, ""}, {"ARRAY", 3, ""}, {"ADC", 4, ""}, {"LOGIC", 5, ""},
               {"LEAKAGE", 6, ""}}}};
  d.constants = {
      {"ID_VALUE", kIdValue, "ID register value"},
      {"FIFO_DEPTH", kFifoDepth, "sample FIFO depth in words"},
      {"MAX_K", static_cast<uint64_t>(kMaxK), "components"},
      {"MAX_D", static_cast<uint64_t>(kMaxD), "dimensions"},
      {"MAX_CHAINS", static_cast<uint64_t>(kMaxLanes), "parallel chains"},
      {"COMP_STRIDE", kCompStride, "bytes between components in the GMM window"},
      {"WORD_A", kWordA, "word index of A[i][j] = WORD_A + i*8 + j (int32)"},
      {"WORD_BIAS", kWordBias, "word index of bias b_i: low WORD_BIAS + 2i, high +1 (int64)"},
      {"WORD_C", kWordC, "word index of c_k (int32, 1/256 nat)"},
      {"WORD_Y_SHIFT", kWordYShift, "word index of y_shift_k (0..32: y = y_acc * 2^-(Y_SCALE + y_shift_k))"},
      {"COMP_WORDS", kCompWords, "words per component"},
  };
  d.windows = {
      {"GMM_WINDOW", GMM_WINDOW, static_cast<uint32_t>(kMaxK) * kCompStride,
       "component k at GMM_WINDOW + k*COMP_STRIDE, word w at +4w (32-bit accesses only, idle only)"},
      {"INIT_WINDOW", INIT_WINDOW, static_cast<uint32_t>(kMaxLanes * kMaxD * 4),
       "initial state of chain l, dim j at INIT_WINDOW + (l*8 + j)*4 (int32, saturated to 16 bits)"},
  };
  return d;
}

}  // namespace cimsim::mc2ram
