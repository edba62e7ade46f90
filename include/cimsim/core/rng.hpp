#pragma once
// Seeded, reproducible random sources. Two kinds:
//  * CounterRng: a stateless, counter-based generator. value = f(seed, stream, index). Order-independent,
//    so two abstraction levels (or a reference) that visit elements in different orders draw identical
//    numbers. Specified exactly in docs/numerics.md ("Random streams"); references re-implement the spec.
//  * SplitMix64: a small sequential generator for everything else (weight init, data shuffles).
// Nothing here uses std:: distributions, whose output is implementation-defined.
#include <cmath>
#include <cstdint>

namespace cimsim {

/// SplitMix64 finalizer (Steele, Lea, Flood 2014): a bijective 64-bit mixer.
constexpr uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Uniform double in [0, 1) from the top 53 bits of a 64-bit word.
inline double to_unit(uint64_t bits) { return static_cast<double>(bits >> 11) * 0x1.0p-53; }

/// Counter-based generator: a pure function of (seed, stream, index).
class CounterRng {
 public:
  explicit CounterRng(uint64_t seed, uint64_t stream = 0) : key_(mix64(seed ^ mix64(stream))) {}
  uint64_t bits(uint64_t index) const { return mix64(key_ ^ mix64(index + 0x632BE59BD9B4E019ull)); }
  double uniform(uint64_t index) const { return to_unit(bits(index)); }
  /// Standard normal by Box-Muller on the two uniforms at counters 2*index and 2*index+1.
  double gauss(uint64_t index) const {
    const double u1 = 1.0 - uniform(2 * index);  // (0, 1]
    const double u2 = uniform(2 * index + 1);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t key_;
};

/// Sequential SplitMix64 generator.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    state_ += 0x9E3779B97F4A7C15ull;
    uint64_t z = state_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return to_unit(next()); }
  /// Integer uniform in [0, n) (n > 0), by multiply-shift.
  uint64_t below(uint64_t n) { return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64); }
  double gauss() {
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  uint64_t state_;
};

}  // namespace cimsim
