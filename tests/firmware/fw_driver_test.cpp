// The C99 firmware driver (firmware/) compiled for the host and run against the SystemC models through the
// MMIO-to-TLM bridge: an accelerator layer table (LT and cycle level, IRQ and polling, counters, errors) and
// MC2RAM sampling (FIFO with IRQ, DMA with polling, counters, a rejected GMM). Results are checked against
// the independent references (tests/accel/reference, tests/mc2ram/reference). One elaboration per process.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "accel/reference/reference.hpp"
#include "cimsim/accel/accelerator_cycle.hpp"
#include "cimsim/accel/accelerator_lt.hpp"
#include "cimsim/accel/random_network.hpp"
#include "cimsim/core/energy_table.hpp"
#include "cimsim/mc2ram/driver.hpp"
#include "cimsim/mc2ram/macro.hpp"
#include "cimsim/soc/memory.hpp"
#include "cimsim/soc/router.hpp"
#include "cimsim_fw/enos_fw.h"
#include "cimsim_fw/mc2ram_fw.h"
#include "mc2ram/common.hpp"
#include "mmio_bridge.hpp"

using namespace cimsim;
using fw_test::fw_test_wait_irq;

namespace {

constexpr uint64_t kEnos = 0x40000000ull, kMc2 = 0x40010000ull, kMem = 0x80000000ull, kMemSize = 4u << 20;

const EnergyTable& table() {
  static const EnergyTable t = EnergyTable::load_default();
  return t;
}

struct Soc {
  fw_test::MmioBridge cpu;
  Router router{"router"};
  Memory mem{"mem", kMemSize};
  std::unique_ptr<accel::AcceleratorBase> enos;
  mc2ram::Macro mc2;
  sc_core::sc_signal<bool> irq_enos{"irq_enos"}, irq_mc2{"irq_mc2"};
  Soc(bool enos_cycle, mc2ram::Level mc2_level, std::function<void()> fw)
      : cpu("cpu", std::move(fw)), mc2("mc2ram", mc2_level, table()) {
    if (enos_cycle)
      enos = std::make_unique<accel::AcceleratorCycle>("enos", accel::ArrayConfig{}, table());
    else
      enos = std::make_unique<accel::AcceleratorLt>("enos", accel::ArrayConfig{}, table());
    cpu.socket.bind(router.target_socket);
    enos->dma.bind(router.target_socket);
    mc2.dma.bind(router.target_socket);
    router.initiator_socket.bind(enos->csr);
    router.initiator_socket.bind(mc2.socket);
    router.initiator_socket.bind(mem.socket);
    router.map(0, kEnos, 0x1000, "enos");
    router.map(1, kMc2, mc2ram::reg::kMapSize, "mc2ram");
    router.map(2, kMem, kMemSize, "mem");
    enos->irq.bind(irq_enos);
    mc2.irq.bind(irq_mc2);
    cpu.irq0.bind(irq_enos);
    cpu.irq1.bind(irq_mc2);
  }
  uint8_t* ram(uint64_t bus) { return mem.data() + (bus - kMem); }
};

volatile uint32_t* mmio(uint64_t bus) { return reinterpret_cast<volatile uint32_t*>(static_cast<uintptr_t>(bus)); }

// ------------------------------------------------------------------------------------------- accelerator
// Two chained layers placed in memory by the host; the firmware writes the descriptor table and runs it.
struct Net {
  std::vector<accel::LayerParams> layers;
  std::vector<int8_t> input;
  std::vector<std::vector<int8_t>> expected;  // per layer output, independent reference
  std::vector<enos_layer_t> fw;
  std::vector<uint64_t> out_addr;
  uint64_t desc_addr = kMem;
};

Net make_net(Soc& soc, bool fw_constants = false) {
  Net n;
  n.input = accel::random_tensor(1 * 8 * 8 * 8, 3);
  n.layers.push_back(accel::random_layer(accel::LayerShape::conv(1, 8, 8, 8, 16, 3, 1, 1), accel::Op::MAC8,
                                         accel::Mode::Digital, 11, true, &n.input));
  n.expected.push_back(accel::ref::layer(n.layers[0], n.input));
  n.layers.push_back(accel::random_layer(accel::LayerShape::conv(1, 16, 8, 8, 8, 1), accel::Op::DEEPSHIFT,
                                         accel::Mode::Digital, 12, false, &n.expected[0]));
  n.expected.push_back(accel::ref::layer(n.layers[1], n.expected[0]));
  uint64_t next = kMem + 0x1000;  // descriptors at kMem
  auto place = [&](const void* p, size_t bytes) {
    const uint64_t a = next;
    if (p) std::memcpy(soc.ram(a), p, bytes);
    next += (bytes + 63) / 64 * 64;
    return a;
  };
  uint64_t in_addr = place(n.input.data(), n.input.size());
  for (const auto& p : n.layers) {
    const auto& s = p.shape;
    const auto packed = accel::ref::pack(p.op, p.weights, s.cout, s.reduction());
    enos_layer_t l{};
    l.kind = static_cast<uint8_t>(s.kind);
    l.op = static_cast<uint8_t>(p.op);
    l.mode = static_cast<uint8_t>(p.mode);
    l.relu = p.rq.relu;
    l.n = s.n, l.cin = s.cin, l.h = s.h, l.w = s.w, l.cout = s.cout, l.kh = s.kh, l.kw = s.kw;
    l.stride = s.stride, l.pad = s.pad, l.groups = s.groups;
    l.cim_rows = static_cast<uint16_t>(p.cim.rows);
    l.adc_bits = static_cast<uint8_t>(p.cim.adc_bits);
    l.adc_range = p.cim.adc_range;
    l.noise_lsb = p.cim.noise_lsb, l.gain_sigma = p.cim.gain_sigma, l.seed = p.cim.seed;
    l.weight_bytes = static_cast<uint32_t>(packed.size());
    l.input_addr = in_addr;
    l.weight_addr = place(packed.data(), packed.size());
    if (fw_constants) {  // written by the firmware routine from the generated header's element sizes
      l.mult_addr = place(nullptr, s.cout * ENOS_MULT_BYTES);
      l.shift_addr = place(nullptr, s.cout * ENOS_SHIFT_BYTES);
      l.bias_addr = place(nullptr, s.cout * ENOS_BIAS_BYTES);
      enos_write_requant(p.rq.mult.data(), p.rq.shift.data(), p.rq.bias.data(), static_cast<uint32_t>(s.cout),
                         soc.ram(l.mult_addr), soc.ram(l.shift_addr), soc.ram(l.bias_addr));
      // ... and byte for byte what the model reads (its own int64 biases in memory).
      EXPECT_EQ(std::memcmp(soc.ram(l.bias_addr), p.rq.bias.data(), p.rq.bias.size() * sizeof(p.rq.bias[0])), 0);
      EXPECT_EQ(std::memcmp(soc.ram(l.mult_addr), p.rq.mult.data(), p.rq.mult.size() * sizeof(p.rq.mult[0])), 0);
    } else {
      l.mult_addr = place(p.rq.mult.data(), p.rq.mult.size() * 4);
      l.shift_addr = place(p.rq.shift.data(), p.rq.shift.size() * 4);
      l.bias_addr = place(p.rq.bias.data(), p.rq.bias.size() * sizeof(p.rq.bias[0]));
    }
    l.output_addr = place(nullptr, static_cast<size_t>(s.outputs()));
    // all operands in system memory, staged through the whole activation buffer (docs/accelerator.md)
    l.stage_off = 0;
    l.stage_bytes = static_cast<uint32_t>(accel::ArrayConfig{}.act_buffer_bytes);
    in_addr = l.output_addr;
    n.out_addr.push_back(l.output_addr);
    n.fw.push_back(l);
  }
  return n;
}

void expect_outputs(Soc& soc, const Net& n) {
  for (size_t i = 0; i < n.layers.size(); ++i) {
    const int8_t* got = reinterpret_cast<const int8_t*>(soc.ram(n.out_addr[i]));
    size_t bad = 0;
    for (size_t k = 0; k < n.expected[i].size(); ++k) bad += got[k] != n.expected[i][k];
    EXPECT_EQ(bad, 0u) << "layer " << i;
  }
}

void run_enos(bool cycle, bool use_irq, bool fw_constants = false) {
  Soc* socp = nullptr;
  Net net;
  int init = -9, rc = -9;
  enos_counters_t whole{}, per_layer[2]{};
  uint64_t compute_aj = 0;
  auto fw = [&] {
    enos_dev_t dev{mmio(kEnos), use_irq ? fw_test_wait_irq : nullptr, &socp->cpu.irq0};
    init = enos_init(&dev);
    for (size_t i = 0; i < net.fw.size(); ++i) enos_encode_descriptor(&net.fw[i], socp->ram(net.desc_addr) + i * ENOS_DESC_BYTES);
    rc = enos_run(&dev, net.desc_addr, static_cast<uint32_t>(net.fw.size()));
    enos_read_counters(&dev, ENOS_PERF_WHOLE_RUN, &whole);
    for (uint32_t i = 0; i < 2; ++i) enos_read_counters(&dev, i, &per_layer[i]);
    compute_aj = enos_read_energy_component(&dev, ENOS_PERF_WHOLE_RUN, 0);
  };
  Soc soc(cycle, mc2ram::Level::LT, fw);
  socp = &soc;
  net = make_net(soc, fw_constants);
  sc_core::sc_start();
  ASSERT_TRUE(soc.cpu.finished());
  EXPECT_EQ(init, 0);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(soc.cpu.bus_errors(), 0u) << soc.cpu.last_error;
  EXPECT_EQ(soc.cpu.irq_timeouts(), 0u);
  expect_outputs(soc, net);
  EXPECT_EQ(whole.macs, static_cast<uint64_t>(net.layers[0].shape.macs() + net.layers[1].shape.macs()));
  EXPECT_EQ(per_layer[0].macs, static_cast<uint64_t>(net.layers[0].shape.macs()));
  EXPECT_EQ(per_layer[1].macs, static_cast<uint64_t>(net.layers[1].shape.macs()));
  EXPECT_EQ(whole.cycles, per_layer[0].cycles + per_layer[1].cycles);
  EXPECT_GT(whole.cycles, 0u);
  EXPECT_EQ(whole.energy_aj, per_layer[0].energy_aj + per_layer[1].energy_aj);
  EXPECT_GT(compute_aj, 0u);
  EXPECT_LT(compute_aj, whole.energy_aj);
  // the registers the firmware read agree with the model's own ledger
  EXPECT_EQ(whole.cycles, soc.enos->total_cycles());
}

}  // namespace

TEST(FirmwareDriver, EnosLtLayerTableWithIrq) { run_enos(false, true); }
// Issue 24: enos_regs.h declared int32 biases while the model reads int64; firmware written from the header
// computed wrong results. The constants are now written by a firmware routine sized by the header.
TEST(FirmwareDriver, RequantConstantsWrittenByTheFirmwareRoutineGiveTheReferenceResult) {
  static_assert(ENOS_BIAS_BYTES == sizeof(int64_t) && ENOS_MULT_BYTES == 4 && ENOS_SHIFT_BYTES == 4, "header types");
  run_enos(false, false, true);
}
TEST(FirmwareDriver, EnosCycleLevelLayerTablePolling) { run_enos(true, false); }

TEST(FirmwareDriver, EnosBadDescriptorReportsCodeAndLayer) {
  Soc* socp = nullptr;
  Net net;
  int rc = -9;
  uint32_t layer = 99;
  auto fw = [&] {
    enos_dev_t dev{mmio(kEnos), fw_test_wait_irq, &socp->cpu.irq0};
    for (size_t i = 0; i < net.fw.size(); ++i) enos_encode_descriptor(&net.fw[i], socp->ram(net.desc_addr) + i * ENOS_DESC_BYTES);
    socp->ram(net.desc_addr)[ENOS_DESC_BYTES + ENOS_DESC_MAGIC_OFF] ^= 0xFF;  // corrupt layer 1's magic
    rc = enos_run(&dev, net.desc_addr, 2);
    layer = enos_error_layer(&dev);
  };
  Soc soc(false, mc2ram::Level::LT, fw);
  socp = &soc;
  net = make_net(soc);
  sc_core::sc_start();
  ASSERT_TRUE(soc.cpu.finished());
  EXPECT_EQ(rc, ENOS_ERR_BAD_MAGIC);
  EXPECT_EQ(layer, 1u);
}

// --------------------------------------------------------------------------------------------------- MC2RAM
namespace {

struct Mh {
  diag::Gmm gmm = diag::Gmm::paper_default();
  mc2ram::Compiled c;
  std::vector<mc2ram_component_t> comp;
  mc2ram_gmm_t g{};
  int32_t init[8][8] = {};
  uint32_t chains = 3, samples = 400;
  uint64_t seed = 21;
  mc2ram_ref::RefResult ref;
  Mh() {
    c = mc2ram::compile_gmm(gmm);
    comp.resize(static_cast<size_t>(c.program.k));
    for (int k = 0; k < c.program.k; ++k) {
      for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 8; ++j) comp[k].a[i][j] = c.program.comp[k].a[i][j];
      for (int i = 0; i < 8; ++i) comp[k].bias[i] = c.program.comp[k].bias[i];
      comp[k].c = c.program.comp[k].c;
      comp[k].y_shift = c.program.comp[k].y_shift;
    }
    g = mc2ram_gmm_t{static_cast<uint32_t>(c.program.k), static_cast<uint32_t>(c.program.d),
                     static_cast<uint32_t>(c.program.weight_bits), c.program.y_scale_log2, c.program.prop_scale,
                     comp.data()};
    const auto st = mc2ram::initial_states(gmm, c, static_cast<int>(chains));
    for (uint32_t l = 0; l < chains; ++l)
      for (int j = 0; j < 8; ++j) init[l][j] = st[l][j];
    ref = mc2ram_ref::run_reference(mc2ram_test::ref_config(c, mc2ram::Knobs{}, static_cast<int>(chains), samples, seed, st));
  }
  int32_t want(uint32_t ch, uint32_t s, uint32_t k) const {
    return ref.states[(static_cast<size_t>(ch) * samples + s) * static_cast<uint32_t>(c.program.d) + k];
  }
};

}  // namespace

TEST(FirmwareDriver, Mc2ramCycleLevelFifoWithIrq) {
  Soc* socp = nullptr;
  Mh mh;
  const uint32_t d = mh.g.d;
  std::vector<uint32_t> words(static_cast<size_t>(mh.chains) * mh.samples * d);
  size_t got = 0;
  int load = -9, cfg = -9, start = -9, done = -9;
  mc2ram_counters_t cnt{};
  auto fw = [&] {
    mc2ram_dev_t dev{mmio(kMc2), fw_test_wait_irq, &socp->cpu.irq1};
    EXPECT_EQ(mc2ram_init(&dev), 0);
    load = mc2ram_load_gmm(&dev, &mh.g);
    cfg = mc2ram_configure_run(&dev, mh.chains, mh.samples, mh.seed, mh.init, d);
    start = mc2ram_start(&dev, 0);
    got = mc2ram_collect_fifo(&dev, words.data(), words.size());
    done = mc2ram_wait_done(&dev);
    mc2ram_read_counters(&dev, &cnt);
  };
  Soc soc(false, mc2ram::Level::Cycle, fw);
  socp = &soc;
  sc_core::sc_start();
  ASSERT_TRUE(soc.cpu.finished());
  EXPECT_EQ(load, 0);
  EXPECT_EQ(cfg, 0);
  EXPECT_EQ(start, 0);
  EXPECT_EQ(done, 0);
  ASSERT_EQ(got, words.size());
  EXPECT_EQ(soc.cpu.bus_errors(), 0u) << soc.cpu.last_error;
  EXPECT_EQ(soc.cpu.irq_timeouts(), 0u);
  // FIFO words are tagged (chain, dim); per chain and dim they arrive in sample order
  std::vector<std::vector<uint32_t>> next(mh.chains, std::vector<uint32_t>(d, 0));
  size_t bad = 0;
  for (uint32_t w : words) {
    const uint32_t ch = mc2ram_word_chain(w), k = mc2ram_word_dim(w);
    ASSERT_LT(ch, mh.chains);
    ASSERT_LT(k, d);
    const uint32_t s = next[ch][k]++;
    ASSERT_LT(s, mh.samples);
    bad += mc2ram_word_state(w) != mh.want(ch, s, k);
  }
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(cnt.accepts, mh.ref.accepts);
  EXPECT_EQ(cnt.early_rejects, mh.ref.early_rejects);
  EXPECT_GE(cnt.cycles, mh.ref.cycles);  // FIFO back-pressure may add stall cycles
  EXPECT_GT(cnt.energy_aj, 0u);
}

TEST(FirmwareDriver, Mc2ramLtDmaPolling) {
  Mh mh;
  const uint64_t dma = kMem + 0x10000;
  int start = -9, done = -9;
  mc2ram_counters_t cnt{};
  auto fw = [&] {
    mc2ram_dev_t dev{mmio(kMc2), nullptr, nullptr};
    EXPECT_EQ(mc2ram_load_gmm(&dev, &mh.g), 0);
    EXPECT_EQ(mc2ram_configure_run(&dev, mh.chains, mh.samples, mh.seed, mh.init, mh.g.d), 0);
    start = mc2ram_start(&dev, dma);
    done = mc2ram_wait_done(&dev);
    mc2ram_read_counters(&dev, &cnt);
  };
  Soc soc(false, mc2ram::Level::LT, fw);
  sc_core::sc_start();
  ASSERT_TRUE(soc.cpu.finished());
  EXPECT_EQ(start, 0);
  EXPECT_EQ(done, 0);
  EXPECT_EQ(soc.cpu.bus_errors(), 0u) << soc.cpu.last_error;
  const int32_t* out = reinterpret_cast<const int32_t*>(soc.ram(dma));
  size_t bad = 0;
  for (uint32_t ch = 0; ch < mh.chains; ++ch)
    for (uint32_t s = 0; s < mh.samples; ++s)
      for (uint32_t k = 0; k < mh.g.d; ++k) bad += out[(ch * mh.samples + s) * mh.g.d + k] != mh.want(ch, s, k);
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(cnt.cycles, mh.ref.cycles);
  EXPECT_EQ(cnt.accepts, mh.ref.accepts);
  EXPECT_EQ(cnt.early_rejects, mh.ref.early_rejects);
}

TEST(FirmwareDriver, Mc2ramRejectedValuesAreReported) {
  Mh mh;
  int load = -9, start = -9;
  auto fw = [&] {
    mc2ram_dev_t dev{mmio(kMc2), nullptr, nullptr};
    mc2ram_gmm_t bad = mh.g;
    bad.weight_bits = 40;  // out of range: the register keeps its value, the driver sees it on read-back
    load = mc2ram_load_gmm(&dev, &bad);
    bad.weight_bits = 2;  // in range, but the compiled weights do not fit 2-bit cells -> START reports an error
    mc2ram_load_gmm(&dev, &bad);
    EXPECT_EQ(mc2ram_configure_run(&dev, 1, 10, 1, mh.init, mh.g.d), 0);
    start = mc2ram_start(&dev, 0);
  };
  Soc soc(false, mc2ram::Level::LT, fw);
  sc_core::sc_start();
  ASSERT_TRUE(soc.cpu.finished());
  EXPECT_EQ(load, -1);
  EXPECT_EQ(soc.cpu.bus_errors(), 1u);  // the rejected WEIGHT_BITS write answered an error response
  EXPECT_EQ(start, static_cast<int>(MC2RAM_ERR_WEIGHT_RANGE));
}

// The C encoder writes the same bytes as the models' encode(), for convolution and vector kinds, all flags.
TEST(FirmwareDriver, CEncoderMatchesEncode) {
  for (int kind : {0, 1, 6, 7}) {
    for (uint8_t flags : {uint8_t{0}, uint8_t{0x3E}}) {
      accel::Descriptor d;
      enos_layer_t l{};
      d.shape = accel::LayerShape::conv(2, 24, 9, 7, 40, 3, 2, 1, 2);
      d.shape.kind = static_cast<accel::LayerKind>(kind);
      l.kind = static_cast<uint8_t>(kind);
      d.op = accel::Op::MF, l.op = 4;
      d.mode = accel::Mode::Cim, l.mode = 1;
      d.relu = true, l.relu = 1;
      d.in_act = flags & 2, d.in2_act = flags & 4, d.out_act = flags & 8, d.w_pin = flags & 16, d.w_resident = flags & 32;
      l.flags = flags;
      l.n = 2, l.cin = 24, l.h = 9, l.w = 7, l.cout = 40, l.kh = 3, l.kw = 3, l.stride = 2, l.pad = 1, l.groups = 2;
      d.cim.rows = 48, l.cim_rows = 48;
      d.cim.adc_bits = 6, l.adc_bits = 6;
      d.cim.adc_range = -77, l.adc_range = -77;
      d.cim.noise_lsb = 0.37, l.noise_lsb = 0.37;
      d.cim.gain_sigma = 1e-3, l.gain_sigma = 1e-3;
      d.cim.seed = 0x0123456789ABCDEFull, l.seed = d.cim.seed;
      d.weight_bytes = 4242, l.weight_bytes = 4242;
      d.input_addr = 0x8000000011110000ull, l.input_addr = d.input_addr;
      d.output_addr = 0x8000000022220000ull, l.output_addr = d.output_addr;
      d.weight_addr = 0x33330000, l.weight_addr = d.weight_addr;
      d.mult_addr = 0x44440000, l.mult_addr = d.mult_addr;
      d.shift_addr = 0x55550000, l.shift_addr = d.shift_addr;
      d.bias_addr = 0x66660000, l.bias_addr = d.bias_addr;
      d.input2_addr = 0x77770000, l.input2_addr = d.input2_addr;
      d.vmult[0] = 12345, d.vmult[1] = 678, d.vshift[0] = 9, d.vshift[1] = 31;
      l.vmult[0] = 12345, l.vmult[1] = 678, l.vshift[0] = 9, l.vshift[1] = 31;
      d.wbuf_off = 0x1200, l.wbuf_off = 0x1200;
      d.stage_off = 0x340, l.stage_off = 0x340;
      d.stage_bytes = 0x5600, l.stage_bytes = 0x5600;
      d.in_ctotal = 48, l.in_ctotal = 48;
      d.out_ctotal = 80, l.out_ctotal = 80;
      const accel::DescriptorBytes want = accel::encode(d);
      uint8_t got[ENOS_DESC_BYTES];
      std::memset(got, 0xA5, sizeof got);
      enos_encode_descriptor(&l, got);
      for (unsigned i = 0; i < ENOS_DESC_BYTES; ++i) EXPECT_EQ(got[i], want[i]) << "kind " << kind << " byte " << i;
    }
  }
}
