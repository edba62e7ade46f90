// AcceleratorSoc (include/cimsim/accel/soc.hpp).
#include "cimsim/accel/soc.hpp"

#include <cctype>

#include "cimsim/core/error.hpp"

namespace cimsim::accel {

namespace {
uint64_t up64(uint64_t v) { return (v + 63) / 64 * 64; }
constexpr uint64_t kMaxMemory = uint64_t{64} << 30;
}  // namespace

MemoryNeed workload_memory(const std::vector<const Graph*>& graphs) {
  MemoryNeed m;
  for (const Graph* g : graphs) {
    uint64_t scratch = up64(g->nodes.size() * kDescriptorRecordBytes);
    for (const GraphTensor& t : g->tensors)
      if (t.view_of < 0) scratch += up64(static_cast<uint64_t>(t.elems()) * static_cast<uint64_t>(g->batch));
    m.scratch = std::max(m.scratch, scratch);
    for (const GraphNode& n : g->nodes) m.constants += AcceleratorDriver::constant_upload_bytes(n.params);
  }
  m.constants = std::max<uint64_t>(m.constants, 4096);
  m.scratch = std::max<uint64_t>(m.scratch, 4096);
  return m;
}

void size_memory(SocConfig& cfg, const MemoryNeed& need, uint64_t fixed, const std::string& fixed_origin) {
  if (fixed == 0) {
    cfg.mem_size = (need.total() + 4095) / 4096 * 4096;
    cfg.const_bytes = need.constants;
    return;
  }
  if (fixed < need.total())
    throw ConfigError(fixed_origin + ": " + std::to_string(fixed) + " bytes of system memory is smaller than this " +
                      "workload needs: " + std::to_string(need.total()) + " bytes (" + std::to_string(need.constants) +
                      " for constants + " + std::to_string(need.scratch) + " for activations and descriptors)");
  cfg.mem_size = fixed;
  cfg.const_bytes = fixed - need.scratch;
}

uint64_t parse_memory_size(const std::string& text, const std::string& what) {
  size_t i = 0;
  uint64_t v = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    if (v > kMaxMemory) break;
    v = v * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  std::string suf = text.substr(i);
  for (char& c : suf) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  uint64_t mul = 0;
  if (suf.empty() || suf == "B") mul = 1;
  else if (suf == "K" || suf == "KIB") mul = uint64_t{1} << 10;
  else if (suf == "M" || suf == "MIB") mul = uint64_t{1} << 20;
  else if (suf == "G" || suf == "GIB") mul = uint64_t{1} << 30;
  if (i == 0 || mul == 0)
    throw ConfigError(what + ": '" + text + "' is not a memory size (bytes, or a number with K, M or G: 256M)");
  if (v == 0 || v > kMaxMemory / mul)
    throw ConfigError(what + ": '" + text + "' must be between 1 byte and 64G");
  return v * mul;
}

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
  driver_ = std::make_unique<AcceleratorDriver>(host_, cfg.csr_base, cfg.mem_base, cfg.mem_size, cfg.const_bytes);
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
