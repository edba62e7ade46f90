#pragma once
// Loosely-timed accelerator: on START an SC_THREAD fetches each descriptor and its operands by DMA (DMI where
// granted), computes the layer with datapath::run_layer, writes the output, annotates layer_cost().cycles
// clock periods through a quantum keeper, charges the energy ledger per layer and component, and raises the
// IRQ when the run ends (or on the first bad descriptor).
#include <systemc>
#include <tlm>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "cimsim/accel/accelerator_base.hpp"

namespace cimsim::accel {

class AcceleratorLt : public AcceleratorBase {
 public:
  AcceleratorLt(sc_core::sc_module_name name, const ArrayConfig& cfg, const EnergyTable& table);

 protected:
  void on_start() override { start_ev_.notify(sc_core::SC_ZERO_TIME); }

 private:
  void thread();
  sc_core::sc_event start_ev_;
  tlm_utils::tlm_quantumkeeper qk_;
  LoadedLayer layer_;
};

}  // namespace cimsim::accel
