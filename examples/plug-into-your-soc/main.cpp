// Plug into your SoC: an SoC written without any of cimsim's SoC plumbing (its own plain-TLM CPU initiator,
// its own address-decoding bus, its own memory that synchronizes in b_transport) with two cimsim models:
//   0x4000_0000  ENOS accelerator, cycle level (cimsim::accel::AcceleratorCycle, self-timed), CSR window 4 KiB
//   0x4001_0000  MC2RAM macro, cycle level (cimsim::mc2ram::Macro), window 0x2100 bytes
//   0x8000_0000  1 MiB memory
// The CPU runs one convolution layer on the accelerator and one Metropolis-Hastings run on the macro and
// checks both against cimsim's plain-C++ datapaths (bit-exact). Time resolution 1 ns, as many SoCs use.
// Exit code 0 when both checks pass.
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/multi_passthrough_initiator_socket.h>
#include <tlm_utils/multi_passthrough_target_socket.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "cimsim/accel/accelerator_cycle.hpp"
#include "cimsim/accel/datapath.hpp"
#include "cimsim/accel/descriptor.hpp"
#include "cimsim/accel/regmap.hpp"
#include "cimsim/core/energy_table.hpp"
#include "cimsim/diag/gmm.hpp"
#include "cimsim/mc2ram/driver.hpp"  // compile_gmm: GMM -> array image (host-side tool)
#include "cimsim/mc2ram/macro.hpp"
#include "cimsim/mc2ram/regs.hpp"

using namespace sc_core;

// ---------------------------------------------------------------------------------------------- the bus
struct SimpleBus : sc_module {
  tlm_utils::multi_passthrough_target_socket<SimpleBus> targ{"targ"};
  tlm_utils::multi_passthrough_initiator_socket<SimpleBus> init{"init"};
  struct Range { uint64_t base, size; unsigned port; };
  std::vector<Range> map;
  explicit SimpleBus(sc_module_name n) : sc_module(n) {
    targ.register_b_transport(this, &SimpleBus::b_transport);
    targ.register_transport_dbg(this, &SimpleBus::transport_dbg);
  }
  const Range* decode(uint64_t a) const {
    for (const auto& r : map)
      if (a >= r.base && a - r.base < r.size) return &r;
    return nullptr;
  }
  void b_transport(int, tlm::tlm_generic_payload& gp, sc_time& delay) {
    const uint64_t a = gp.get_address();
    const Range* r = decode(a);
    if (!r) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    gp.set_address(a - r->base);
    init[r->port]->b_transport(gp, delay);
    gp.set_address(a);
  }
  unsigned transport_dbg(int, tlm::tlm_generic_payload& gp) {
    const uint64_t a = gp.get_address();
    const Range* r = decode(a);
    if (!r) return 0;
    gp.set_address(a - r->base);
    const unsigned n = init[r->port]->transport_dbg(gp);
    gp.set_address(a);
    return n;
  }
};

// ------------------------------------------------------------------------------ memory (waits, like lt_synch_target)
struct Ram : sc_module {
  tlm_utils::simple_target_socket<Ram> socket{"socket"};
  std::vector<uint8_t> bytes;
  Ram(sc_module_name n, size_t size) : sc_module(n), bytes(size, 0) {
    socket.register_b_transport(this, &Ram::b_transport);
    socket.register_transport_dbg(this, &Ram::transport_dbg);
  }
  void b_transport(tlm::tlm_generic_payload& gp, sc_time& delay) {
    wait(delay);  // synchronize: only legal because every initiator calls from a thread
    delay = SC_ZERO_TIME;
    wait(2, SC_NS);
    const uint64_t a = gp.get_address();
    const unsigned len = gp.get_data_length();
    if (a + len > bytes.size()) {
      gp.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &bytes[a], len);
    if (gp.is_write()) std::memcpy(&bytes[a], gp.get_data_ptr(), len);
    gp.set_response_status(tlm::TLM_OK_RESPONSE);
  }
  unsigned transport_dbg(tlm::tlm_generic_payload& gp) {
    const uint64_t a = gp.get_address();
    if (a >= bytes.size()) return 0;
    const unsigned n = static_cast<unsigned>(std::min<uint64_t>(gp.get_data_length(), bytes.size() - a));
    if (gp.is_read()) std::memcpy(gp.get_data_ptr(), &bytes[a], n);
    if (gp.is_write()) std::memcpy(&bytes[a], gp.get_data_ptr(), n);
    return n;
  }
};

// ---------------------------------------------------------------------------------------------- the CPU
struct Cpu : sc_module {
  tlm_utils::simple_initiator_socket<Cpu> socket{"socket"};
  sc_in<bool> irq_enos{"irq_enos"}, irq_mc2{"irq_mc2"};
  std::function<void(Cpu&)> program;
  SC_HAS_PROCESS(Cpu);
  explicit Cpu(sc_module_name n) : sc_module(n) { SC_THREAD(run); }
  void run() {
    program(*this);
    sc_stop();
  }
  void access(tlm::tlm_command cmd, uint64_t addr, void* data, unsigned len) {
    tlm::tlm_generic_payload gp;
    gp.set_command(cmd);
    gp.set_address(addr);
    gp.set_data_ptr(static_cast<unsigned char*>(data));
    gp.set_data_length(len);
    gp.set_streaming_width(0);  // many VPs send 0 ("no streaming"); cimsim's targets accept it
    gp.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time delay = SC_ZERO_TIME;
    socket->b_transport(gp, delay);
    wait(delay);
    if (!gp.is_response_ok())
      throw std::runtime_error("bus error at 0x" + std::to_string(addr) + ": " + gp.get_response_string());
  }
  uint32_t rd(uint64_t a) {
    uint32_t v = 0;
    access(tlm::TLM_READ_COMMAND, a, &v, 4);
    return v;
  }
  void wr(uint64_t a, uint32_t v) { access(tlm::TLM_WRITE_COMMAND, a, &v, 4); }
  void write_block(uint64_t a, const void* p, size_t n) {
    access(tlm::TLM_WRITE_COMMAND, a, const_cast<void*>(p), static_cast<unsigned>(n));
  }
  void read_block(uint64_t a, void* p, size_t n) { access(tlm::TLM_READ_COMMAND, a, p, static_cast<unsigned>(n)); }
  void wait_high(sc_in<bool>& line) {
    while (!line.read()) wait(line.posedge_event());
  }
};

constexpr uint64_t kEnos = 0x40000000, kMc2 = 0x40010000, kRam = 0x80000000, kRamSize = 1 << 20;

int sc_main(int, char**) {
  sc_set_time_resolution(1, SC_NS);
  namespace acc = cimsim::accel;
  namespace mc = cimsim::mc2ram;

  // The library finds the installed share/cimsim relative to the program (or $CIMSIM_TECH / $CIMSIM_DATA); a
  // program run from outside any prefix (e.g. this build folder) uses the path the CMake package gave.
  const cimsim::EnergyTable table = [] {
    try {
      cimsim::EnergyTable t = cimsim::EnergyTable::load_default();
      std::printf("energy table (found by the library): %s\n", t.origin().c_str());
      return t;
    } catch (const std::exception& e) {
      cimsim::EnergyTable t = cimsim::EnergyTable::load(CIMSIM_DATA_DIR "/tech/45nm.json");
      std::printf("energy table (cimsim_DATA_DIR): %s\n", t.origin().c_str());
      return t;
    }
  }();

  Cpu cpu("cpu");
  SimpleBus bus("bus");
  Ram ram("ram", kRamSize);
  acc::AcceleratorCycle enos("enos", acc::ArrayConfig{}, table);
  mc::Macro mc2("mc2ram", mc::Level::Cycle, table);
  sc_signal<bool> irq_enos("irq_enos_line"), irq_mc2("irq_mc2_line");
  cpu.socket.bind(bus.targ);
  enos.dma.bind(bus.targ);
  mc2.dma.bind(bus.targ);
  bus.init.bind(enos.csr);
  bus.init.bind(mc2.socket);
  bus.init.bind(ram.socket);
  bus.map = {{kEnos, 0x1000, 0}, {kMc2, mc::reg::kMapSize, 1}, {kRam, kRamSize, 2}};
  enos.irq.bind(irq_enos);
  mc2.irq.bind(irq_mc2);
  cpu.irq_enos.bind(irq_enos);
  cpu.irq_mc2.bind(irq_mc2);

  // ---- one convolution layer: 4x8x8 input, 3x3 MAC8, 8 output channels, ReLU
  acc::LayerParams p;
  p.shape = acc::LayerShape::conv(1, 4, 8, 8, 8, 3, 1, 1);
  p.op = acc::Op::MAC8;
  for (int64_t i = 0; i < p.shape.weight_elems(); ++i) p.weights.push_back(static_cast<int8_t>((i * 37) % 255 - 127));
  for (int c = 0; c < p.shape.cout; ++c) {
    p.rq.mult.push_back(1 << 20);
    p.rq.shift.push_back(28);
    p.rq.bias.push_back(100 * c);
  }
  p.rq.relu = true;
  std::vector<int8_t> input(static_cast<size_t>(p.shape.input_elems()));
  for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<int8_t>((i * 13) % 200 - 100);
  std::vector<int8_t> expected(static_cast<size_t>(p.shape.outputs()));
  acc::run_layer(p, input.data(), expected.data());  // plain C++ datapath: the reference for this check
  const auto packed = acc::pack_weights(p.op, p.weights, p.shape.cout, p.shape.reduction());

  // ---- one MH run: the paper's 2-D two-component GMM, 2 chains x 200 samples, samples by DMA
  const auto gmm = cimsim::diag::Gmm::paper_default();
  const mc::Compiled prog = mc::compile_gmm(gmm);
  const int chains = 2;
  const uint32_t samples = 200;
  const uint64_t seed = 7;
  const auto init = mc::initial_states(gmm, prog, chains);
  const mc::FunctionalRun want = mc::run_functional(prog.program, mc::Knobs{}, chains, samples, seed, init,
                                                    mc::EnergyModel::from_table(table, 0.9));

  bool layer_ok = false, mh_ok = false;
  uint32_t layer_status = 0, mh_status = 0;
  uint64_t layer_cycles = 0, mh_cycles = 0;
  cpu.program = [&](Cpu& c) {
    const uint64_t desc = kRam, in = kRam + 0x1000, wgt = kRam + 0x2000, mult = kRam + 0x3000,
                   shift = mult + 0x100, bias = shift + 0x100, out = kRam + 0x4000, samples_at = kRam + 0x10000;
    c.write_block(in, input.data(), input.size());
    c.write_block(wgt, packed.data(), packed.size());
    c.write_block(mult, p.rq.mult.data(), p.rq.mult.size() * 4);
    c.write_block(shift, p.rq.shift.data(), p.rq.shift.size() * 4);
    c.write_block(bias, p.rq.bias.data(), p.rq.bias.size() * 4);
    acc::Descriptor d;
    d.shape = p.shape;
    d.op = p.op;
    d.relu = true;
    d.input_addr = in, d.output_addr = out, d.weight_addr = wgt, d.mult_addr = mult, d.shift_addr = shift;
    d.bias_addr = bias;
    d.weight_bytes = static_cast<uint32_t>(packed.size());
    d.stage_bytes = static_cast<uint32_t>(acc::ArrayConfig{}.act_buffer_bytes);  // staging for DRAM operands
    const auto rec = acc::encode(d);
    c.write_block(desc, rec.data(), rec.size());
    c.wr(kEnos + acc::reg::DESC_ADDR_LO, static_cast<uint32_t>(desc));
    c.wr(kEnos + acc::reg::DESC_ADDR_HI, static_cast<uint32_t>(desc >> 32));
    c.wr(kEnos + acc::reg::LAYER_COUNT, 1);
    c.wr(kEnos + acc::reg::IRQ_ENABLE, acc::irq::DONE | acc::irq::ERROR);
    c.wr(kEnos + acc::reg::CTRL, acc::ctrl::START);
    c.wait_high(c.irq_enos);
    layer_status = c.rd(kEnos + acc::reg::STATUS);
    c.wr(kEnos + acc::reg::IRQ_STATUS, acc::irq::DONE | acc::irq::ERROR);
    layer_cycles = c.rd(kEnos + acc::reg::CYCLES_LO) | (uint64_t{c.rd(kEnos + acc::reg::CYCLES_HI)} << 32);
    std::vector<int8_t> got(expected.size());
    c.read_block(out, got.data(), got.size());
    layer_ok = (layer_status & acc::status::ERROR) == 0 && got == expected;

    // MC2RAM: GMM window, format registers, run configuration, initial states, DMA target, START
    namespace r = mc::reg;
    for (int k = 0; k < prog.program.k; ++k) {
      const auto& cp = prog.program.comp[k];
      const uint64_t base = kMc2 + r::GMM_WINDOW + k * r::kCompStride;
      for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j) c.wr(base + 4 * (r::kWordA + i * 8 + j), static_cast<uint32_t>(cp.a[i][j]));
      for (int i = 0; i < 8; ++i) {
        c.wr(base + 4 * (r::kWordBias + 2 * i), static_cast<uint32_t>(cp.bias[i]));
        c.wr(base + 4 * (r::kWordBias + 2 * i + 1), static_cast<uint32_t>(static_cast<uint64_t>(cp.bias[i]) >> 32));
      }
      c.wr(base + 4 * r::kWordC, static_cast<uint32_t>(cp.c));
      c.wr(base + 4 * r::kWordYShift, static_cast<uint32_t>(cp.y_shift));
    }
    c.wr(kMc2 + r::GMM_CFG, static_cast<uint32_t>(prog.program.k | (prog.program.d << 8)));
    c.wr(kMc2 + r::WEIGHT_BITS, static_cast<uint32_t>(prog.program.weight_bits));
    c.wr(kMc2 + r::Y_SCALE, static_cast<uint32_t>(prog.program.y_scale_log2));
    c.wr(kMc2 + r::PROP_SCALE, prog.program.prop_scale);
    c.wr(kMc2 + r::CHAINS, chains);
    c.wr(kMc2 + r::SAMPLES, samples);
    c.wr(kMc2 + r::SEED_LO, static_cast<uint32_t>(seed));
    c.wr(kMc2 + r::SEED_HI, static_cast<uint32_t>(seed >> 32));
    for (int l = 0; l < chains; ++l)
      for (int j = 0; j < prog.program.d; ++j) c.wr(kMc2 + r::INIT_WINDOW + 4 * (l * 8 + j), static_cast<uint32_t>(init[l][j]));
    c.wr(kMc2 + r::DMA_ADDR_LO, static_cast<uint32_t>(samples_at));
    c.wr(kMc2 + r::DMA_ADDR_HI, static_cast<uint32_t>(samples_at >> 32));
    c.wr(kMc2 + r::IRQ_ENABLE, r::IRQ_DONE | r::IRQ_ERROR);
    c.wr(kMc2 + r::CTRL, r::CTRL_START | r::CTRL_DMA_EN);
    c.wait_high(c.irq_mc2);
    mh_status = c.rd(kMc2 + r::STATUS);
    c.wr(kMc2 + r::IRQ_STATUS, 0x7);
    mh_cycles = c.rd(kMc2 + r::CYCLES_LO) | (uint64_t{c.rd(kMc2 + r::CYCLES_HI)} << 32);
    std::vector<int32_t> got_s(want.states.size());
    c.read_block(samples_at, got_s.data(), got_s.size() * 4);
    mh_ok = ((mh_status >> 8) & 0xFF) == r::ERR_NONE && got_s == want.states && mh_cycles == want.cycles;
  };

  try {
    sc_start();
  } catch (const std::exception& e) {
    std::printf("simulation failed: %s\n", e.what());
    return 1;
  }
  size_t nonzero = 0;
  for (int8_t v : expected) nonzero += v != 0;
  std::printf("accelerator layer: status 0x%08x, %llu cycles, output (%zu of %zu values nonzero) %s the datapath\n",
              layer_status, static_cast<unsigned long long>(layer_cycles), nonzero, expected.size(),
              layer_ok ? "matches" : "DIFFERS FROM");
  std::printf("MC2RAM MH run: status 0x%08x, %llu cycles (datapath %llu), %zu samples %s the datapath\n", mh_status,
              static_cast<unsigned long long>(mh_cycles), static_cast<unsigned long long>(want.cycles),
              want.states.size() / static_cast<size_t>(prog.program.d), mh_ok ? "match" : "DIFFER FROM");
  std::printf("simulated time %s\n", sc_time_stamp().to_string().c_str());
  return layer_ok && mh_ok ? 0 : 1;
}
