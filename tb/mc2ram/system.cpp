// MC2RAM testbench system (see system.hpp).
#include "mc2ram/system.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/soc/host_initiator.hpp"
#include "cimsim/soc/memory.hpp"
#include "cimsim/soc/router.hpp"
#include "cimsim/soc/vcd_trace.hpp"

namespace cimsim::mc2ram {

void check_job_size(const SampleJob& job) {
  const uint64_t d = static_cast<uint64_t>(std::max(1, job.gmm.d()));
  const uint64_t chains = static_cast<uint64_t>(std::max(1, job.chains));
  const uint64_t words = chains * job.samples * d;  // < 2^3 * 2^32 * 2^31: no overflow in 64 bits
  if (job.samples > static_cast<uint32_t>(INT32_MAX) || words > kMaxSampleWords)
    throw ConfigError("--samples " + std::to_string(job.samples) + " x --chains " + std::to_string(job.chains) +
                      " x " + std::to_string(d) + " dimensions = " + std::to_string(words) +
                      " state words exceeds the limit of " + std::to_string(kMaxSampleWords) +
                      " held in memory; use fewer samples or chains");
}

SystemRun run_system(const SampleJob& job, Level level, const std::string& vcd_path) {
  check_job_size(job);
  SystemRun out;
  static const EnergyTable table = EnergyTable::load_default();
  std::unique_ptr<VcdTrace> vcd;
  if (!vcd_path.empty()) vcd = std::make_unique<VcdTrace>(vcd_path, sc_core::SC_PS);
  const uint64_t mem_bytes =
      std::max<uint64_t>(4096, static_cast<uint64_t>(job.chains) * job.samples * std::max(1, job.gmm.d()) * 4);
  Router router("router");
  Memory mem("mem", mem_bytes);
  Macro macro("mc2ram", level, table, vcd ? vcd->file() : nullptr);
  sc_core::sc_signal<bool, sc_core::SC_MANY_WRITERS> irq("irq");  // written from bus callbacks and the macro
  HostInitiator host("host", [&](HostInitiator& h) {
    try {
      out.result = run_mh(h, kMacroBase, job, kMemBase, mem.data());
    } catch (const std::exception& e) {
      out.error = e.what();
    }
  });
  host.socket.bind(router.target_socket);
  macro.dma.bind(router.target_socket);
  router.initiator_socket.bind(macro.socket);
  router.initiator_socket.bind(mem.socket);
  router.map(0, kMacroBase, reg::kMapSize, "mc2ram");
  router.map(1, kMemBase, mem_bytes, "mem");
  macro.irq.bind(irq);
  host.irq.bind(irq);
  const auto t0 = std::chrono::steady_clock::now();
  sc_core::sc_start();
  out.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (vcd) out.vcd_file = vcd->close();
  return out;
}

}  // namespace cimsim::mc2ram
