#pragma once
// Interrupt wiring that tolerates unconnected lines: an IrqOut may be bound to an sc_signal<bool> or left
// unbound; writes to an unbound line are dropped.
#include <systemc>

namespace cimsim {

using IrqOut = sc_core::sc_port<sc_core::sc_signal_inout_if<bool>, 1, sc_core::SC_ZERO_OR_MORE_BOUND>;
using IrqIn = sc_core::sc_port<sc_core::sc_signal_in_if<bool>, 1, sc_core::SC_ZERO_OR_MORE_BOUND>;
/// Optional clock input: bind to an sc_clock / sc_signal<bool>, or leave unbound (the model clocks itself).
using ClockIn = sc_core::sc_port<sc_core::sc_signal_in_if<bool>, 1, sc_core::SC_ZERO_OR_MORE_BOUND>;

inline void irq_write(IrqOut& port, bool level) {
  if (port.size() > 0) port->write(level);
}

}  // namespace cimsim
