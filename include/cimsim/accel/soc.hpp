#pragma once
// AcceleratorSoc: a ready-made SoC around one accelerator instance — HostInitiator + Router + Memory +
// accelerator (LT or cycle level), IRQ wired — plus a job mechanism so that code in sc_main (outside the
// simulation) can run driver work: run(job) advances the simulation until the job returns (sc_pause), and
// may be called any number of times in one process (one elaboration, many runs).
//
// Address map: CSRs at csr_base (0x4000_0000, 4 KiB), system memory at mem_base (0x8000_0000, mem_size).
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <vector>

#include <systemc>

#include "cimsim/accel/accelerator_base.hpp"
#include "cimsim/accel/accelerator_cycle.hpp"
#include "cimsim/accel/accelerator_lt.hpp"
#include "cimsim/accel/driver.hpp"
#include "cimsim/soc/host_initiator.hpp"
#include "cimsim/soc/memory.hpp"
#include "cimsim/soc/router.hpp"

namespace cimsim::accel {

enum class Level { Lt, Cycle };
const char* level_name(Level l);  ///< "lt", "cycle"

struct SocConfig {
  Level level = Level::Lt;
  ArrayConfig array;
  uint64_t csr_base = 0x40000000ull;
  uint64_t mem_base = 0x80000000ull;
  uint64_t mem_size = 64ull << 20;
  uint64_t const_bytes = 0;  ///< the driver's constant region (0: 3/4 of mem_size); see size_memory()
  sc_core::sc_time quantum = sc_core::sc_time(1, sc_core::SC_US);
  bool trace_detail = false;  ///< cycle level: trace the clock and accumulator probes too (AcceleratorCycle)
};

/// System memory a workload needs on the SoC: the driver's constant region (every node's packed weights and
/// requantization arrays, as the driver lays them out) and its scratch region (the largest program's DRAM
/// tensors and descriptor table).
struct MemoryNeed {
  uint64_t constants = 0;
  uint64_t scratch = 0;
  uint64_t total() const { return constants + scratch; }
};
/// Upper bound of what the driver allocates for `graphs` run one after another (run_graph).
MemoryNeed workload_memory(const std::vector<const Graph*>& graphs);
/// Sizes `cfg.mem_size`/`cfg.const_bytes` for `need`: `fixed` = 0 sizes the memory from the workload; else the
/// memory is `fixed` bytes (scratch as needed, the rest for constants), and a `fixed` smaller than the workload
/// needs is a ConfigError naming `fixed_origin` (e.g. "--memory") and the bytes.
void size_memory(SocConfig& cfg, const MemoryNeed& need, uint64_t fixed, const std::string& fixed_origin);
/// Parses a memory size: decimal bytes with an optional K, M or G suffix (binary: KiB, MiB, GiB; "KiB" etc.
/// also accepted). Throws ConfigError naming `what` when malformed, zero or above 64 GiB.
uint64_t parse_memory_size(const std::string& text, const std::string& what);

class AcceleratorSoc : public sc_core::sc_module {
 public:
  using Job = std::function<void(AcceleratorDriver&)>;

  /// `trace`: VCD file for the cycle-level model's signals (null: no tracing).
  AcceleratorSoc(sc_core::sc_module_name name, const SocConfig& cfg, const EnergyTable& table,
                 sc_core::sc_trace_file* trace = nullptr);
  ~AcceleratorSoc() override;

  /// From sc_main: runs `job` on the host thread and simulates until it returns; rethrows its exception.
  void run(Job job);
  /// From sc_main: run([&](d){ result = d.run_network(layers, input); }).
  NetworkResult run_network(const std::vector<LayerParams>& layers, const std::vector<int8_t>& input);

  AcceleratorBase& accelerator() { return *accel_; }
  AcceleratorCycle* cycle_model() { return cycle_; }  ///< null at LT
  AcceleratorDriver& driver() { return *driver_; }
  HostInitiator& host() { return host_; }
  Memory& memory() { return memory_; }
  Router& router() { return router_; }
  const SocConfig& config() const { return cfg_; }

 private:
  void host_program(HostInitiator& h);
  SocConfig cfg_;
  HostInitiator host_;
  Router router_;
  Memory memory_;
  std::unique_ptr<AcceleratorBase> accel_;
  AcceleratorCycle* cycle_ = nullptr;
  sc_core::sc_signal<bool> irq_line_;
  std::unique_ptr<AcceleratorDriver> driver_;
  Job job_;
  bool job_pending_ = false, job_done_ = false;
  std::exception_ptr job_error_;
  sc_core::sc_event job_ev_;
};

}  // namespace cimsim::accel
