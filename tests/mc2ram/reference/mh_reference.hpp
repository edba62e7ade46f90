#pragma once
// Independent software reference of the MC2RAM fixed-point MH iteration, written from the specification in
// docs/mc2ram.md ("Fixed-point specification") for the ideal macro (no offsets/noise/mismatch). It does not
// call the model's code: only the shared random-stream definition (cimsim::CounterRng) is common.
// Integer-only (the model evaluates the analog path in doubles).
#include <array>
#include <cstdint>
#include <vector>

namespace mc2ram_ref {

struct RefComponent {
  int32_t a[8][8];
  int64_t bias[8];
  int32_t c;
  int32_t y_shift;  // per-component exponent: code = round(y_acc / 2^(y_scale_log2 + y_shift + 4 - adc_bits))
};

struct RefConfig {
  int k = 2, d = 2;
  int y_scale_log2 = 0;
  uint32_t prop_scale = 0;
  std::vector<RefComponent> comp;
  int dac_bits = 10, adc_bits = 8, rng_bits = 16, rng_fresh_bits = 0;
  uint32_t rng_period = 0;
  int lanes = 1;
  uint32_t samples = 0;
  uint64_t seed = 1;
  std::vector<std::array<int32_t, 8>> init;
};

struct RefResult {
  std::vector<int32_t> states;  ///< (lane, sample, dim)
  uint64_t accepts = 0, early_rejects = 0, cycles = 0;
};

RefResult run_reference(const RefConfig& cfg);

}  // namespace mc2ram_ref
