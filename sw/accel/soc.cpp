// AcceleratorSoc (include/cimsim/accel/soc.hpp).
#include "cimsim/accel/soc.hpp"

#include "cimsim/core/error.hpp"

namespace cimsim::accel {

const char* level_name(Level l) { return l == Level::Lt ? "lt" : "cycle"; }

AcceleratorSoc::AcceleratorSoc(sc_core::sc_module_name name, const SocConfig& cfg, const EnergyTable& table,
                               sc_core::sc_trace_file* trace)
    : sc_module(name),
      cfg_(cfg),
      host_("host", [this](HostInitiator& h) { host_program(h); }, cfg.quantum),
      router_("router"),
      memory_("memory", cfg.mem_size),
      irq_line_("irq_line") {
  if (cfg.level == Level::Lt) {
    accel_ = std::make_unique<AcceleratorLt>("accel", cfg.array, table);
  } else {
    auto c = std::make_unique<AcceleratorCycle>("accel", cfg.array, table, trace, cfg.trace_detail);
    cycle_ = c.get();
    accel_ = std::move(c);
  }
  host_.socket.bind(router_.target_socket);
  accel_->dma.bind(router_.target_socket);
  router_.initiator_socket.bind(accel_->csr);     // port 0
  router_.initiator_socket.bind(memory_.socket);  // port 1
  router_.map(0, cfg.csr_base, 0x1000, "accel.csr");
  router_.map(1, cfg.mem_base, cfg.mem_size, "memory");
  accel_->irq.bind(irq_line_);
  host_.irq.bind(irq_line_);
  if (trace) sc_core::sc_trace(trace, irq_line_, std::string(accel_->name()) + ".irq");
  driver_ = std::make_unique<AcceleratorDriver>(host_, cfg.csr_base, cfg.mem_base, cfg.mem_size);
  driver_->set_hardware(accel_->config());
}

AcceleratorSoc::~AcceleratorSoc() = default;

void AcceleratorSoc::host_program(HostInitiator&) {
  for (;;) {
    while (!job_pending_) sc_core::wait(job_ev_);
    job_pending_ = false;
    try {
      job_(*driver_);
    } catch (...) {
      job_error_ = std::current_exception();
    }
    host_.sync();
    job_done_ = true;
    sc_core::sc_pause();
    sc_core::wait(sc_core::SC_ZERO_TIME);
  }
}

void AcceleratorSoc::run(Job job) {
  job_ = std::move(job);
  job_pending_ = true;
  job_done_ = false;
  job_error_ = nullptr;
  if (sc_core::sc_get_status() == sc_core::SC_PAUSED) job_ev_.notify(sc_core::SC_ZERO_TIME);
  while (!job_done_) {
    sc_core::sc_start();
    if (!job_done_ && (sc_core::sc_get_status() != sc_core::SC_PAUSED || !sc_core::sc_pending_activity()))
      throw std::runtime_error("AcceleratorSoc::run: simulation ended before the job finished");
  }
  job_ = nullptr;
  if (job_error_) std::rethrow_exception(job_error_);
}

NetworkResult AcceleratorSoc::run_network(const std::vector<LayerParams>& layers, const std::vector<int8_t>& input) {
  NetworkResult r;
  run([&](AcceleratorDriver& d) { r = d.run_network(layers, input); });
  return r;
}

}  // namespace cimsim::accel
