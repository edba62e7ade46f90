#pragma once
// A small synthetic ENOS export with seeded random weights that exercises every node kind and a mix of
// operators and modes (digital MAC8/BWN/DEEPSHIFT/XNOR/ADDER, CIM MF/MAC4 with and without ADC noise). For
// tests, demos (`cimsim infer --synthetic`) and as a worked example of filling a NetworkExport.
#include <cstdint>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/enos/export.hpp"

namespace cimsim::enos {

/// 1x28x28 input (Fashion-MNIST shaped), 10 logits. Requantization is calibrated on a seeded random image so
/// that activations use the int8 range; predicted_energy_pj = the layer's steady-state cost in
/// the program plan (enos::predict_energy).
NetworkExport make_synthetic_export(uint64_t seed, const EnergyTable& table);

}  // namespace cimsim::enos
