// Loosely-timed accelerator model.
#include "cimsim/accel/accelerator_lt.hpp"

#include "cimsim/accel/datapath.hpp"

namespace cimsim::accel {

AcceleratorLt::AcceleratorLt(sc_core::sc_module_name name, const ArrayConfig& cfg, const EnergyTable& table)
    : AcceleratorBase(name, cfg, table) {
  SC_HAS_PROCESS(AcceleratorLt);
  SC_THREAD(thread);
}

void AcceleratorLt::thread() {
  LoadedLayer& L = layer_;  // a member: the leak checker does not scan coroutine stacks
  for (;;) {
    sc_core::wait(start_ev_);
    qk_.reset();
    begin_run();
    const uint32_t n = layer_count();
    ErrorCode err = ErrorCode::None;
    uint32_t i = 0;
    for (; i < n; ++i) {
      set_current_layer(i);
      sc_core::sc_time bus = sc_core::SC_ZERO_TIME;  // bus latency is not added: the cost model's DMA term is
      Descriptor d;
      err = fetch_descriptor(i, d, bus);
      if (err == ErrorCode::None) err = load_layer(d, L, bus);
      if (err != ErrorCode::None) break;
      compute_layer(L);
      err = store_output(L, bus);
      if (err != ErrorCode::None) break;
      qk_.inc(clock_period() * static_cast<double>(L.cost.cycles));
      layer_done(i, L, L.cost.cycles);
      if (qk_.need_sync()) qk_.sync();
    }
    qk_.sync();
    finish_run(err, i);
  }
}

}  // namespace cimsim::accel
