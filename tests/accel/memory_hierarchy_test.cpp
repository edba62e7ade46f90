// Memory hierarchy and dataflow on the SoC, at both levels: whole graphs through the program compiler
// (resident activations, pinned constants, vector ops on chip), row bands with halos and streamed constants on
// small buffers, double buffering, and the errors that remain (buffer overflow, bad on-chip addresses). Outputs
// are checked against the independent reference (tests/accel/reference) and a vector-op reference written
// here; cycles and energy against the program plan (the cost model under each node's placement), exactly.
#include <gtest/gtest.h>

#include <algorithm>

#include "cimsim/accel/program.hpp"
#include "reference/reference.hpp"
#include "soc_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using namespace cimsim::accel::testing;

namespace {

class Hierarchy : public ::testing::TestWithParam<Level> {};

// Independent vector-op reference (the semantics of docs/accelerator-numerics.md, "Vector unit").
int64_t resc(int64_t x, int64_t m, int s) { return s == 0 ? x * m : static_cast<int64_t>(std::floor((static_cast<double>(x * m) + std::ldexp(1.0, s - 1)) / std::ldexp(1.0, s))); }
int8_t clamp8(int64_t v, int64_t lo = -128) { return static_cast<int8_t>(std::min<int64_t>(127, std::max(lo, v))); }

std::vector<int8_t> ref_vector(const LayerParams& p, const std::vector<int8_t>& a, const std::vector<int8_t>& b) {
  const LayerShape& s = p.shape;
  std::vector<int8_t> o(static_cast<size_t>(s.outputs()));
  const int OH = s.out_h(), OW = s.out_w();
  for (int n = 0; n < s.n; ++n)
    for (int c = 0; c < s.cin; ++c)
      for (int y = 0; y < OH; ++y)
        for (int x = 0; x < OW; ++x) {
          const size_t oi = ((static_cast<size_t>(n) * s.cin + c) * OH + y) * OW + x;
          auto at = [&](const std::vector<int8_t>& t, int cc, int yy, int xx) -> int {
            if (yy < 0 || yy >= s.h || xx < 0 || xx >= s.w) return -128;
            return t[((static_cast<size_t>(n) * s.cin + cc) * s.h + yy) * s.w + xx];
          };
          switch (s.kind) {
            case LayerKind::MaxPool:
            case LayerKind::AvgPool:
            case LayerKind::GlobalAvgPool: {
              int mx = -128;
              int64_t sum = 0;
              for (int ky = 0; ky < s.kh; ++ky)
                for (int kx = 0; kx < s.kw; ++kx) {
                  const int v = at(a, c, y * s.stride + ky - s.pad, x * s.stride + kx - s.pad);
                  mx = std::max(mx, v);
                  sum += v;
                }
              const int64_t nwin = static_cast<int64_t>(s.kh) * s.kw;
              o[oi] = s.kind == LayerKind::MaxPool
                          ? static_cast<int8_t>(mx)
                          : static_cast<int8_t>(std::floor(static_cast<double>(2 * sum + nwin) / static_cast<double>(2 * nwin)));
              break;
            }
            case LayerKind::ChannelShuffle: {
              const int g = s.groups, G = s.cin / g;  // out[j*g + i] = in[i*G + j]
              const int j = c / g, i = c % g;
              o[oi] = static_cast<int8_t>(at(a, i * G + j, y, x));
              break;
            }
            case LayerKind::Copy:
              o[oi] = clamp8(resc(at(a, c, y, x), p.rq.mult[0], p.rq.shift[0]));
              break;
            case LayerKind::Add:
              o[oi] = clamp8(resc(at(a, c, y, x), p.rq.mult[0], p.rq.shift[0]) + resc(at(b, c, y, x), p.rq.mult[1], p.rq.shift[1]),
                             p.rq.relu ? 0 : -128);
              break;
            default:
              break;
          }
        }
  return o;
}

LayerParams vec(LayerShape s, std::vector<int32_t> m = {}, std::vector<int32_t> sh = {}, bool relu = false) {
  LayerParams p;
  p.shape = s;
  p.rq.mult = std::move(m);
  p.rq.shift = std::move(sh);
  p.rq.relu = relu;
  return p;
}

void expect_plan_counters(const GraphResult& r, const EnergyTable& t, bool first) {
  ASSERT_EQ(r.stats.layers.size(), r.plan.nodes.size());
  for (size_t i = 0; i < r.plan.nodes.size(); ++i) {
    const LayerCost& c = first ? r.plan.nodes[i].first_cost : r.plan.nodes[i].cost;
    EXPECT_EQ(r.stats.layers[i].cycles, c.cycles) << "node " << i;
    EXPECT_EQ(r.stats.layers[i].energy_aj, c.total_aj(t)) << "node " << i;
  }
}

}  // namespace

TEST_P(Hierarchy, WholeGraphResidentAndPinned) {
  AcceleratorSoc soc("soc", soc_config(GetParam()), table());
  const std::vector<int8_t> x = builtin_input(3);
  const std::vector<LayerParams> net = builtin_network(3, x);
  std::vector<int8_t> expect = x;
  for (const auto& l : net) expect = ref::layer(l, expect);
  const Graph g = Graph::chain(net, false);
  GraphResult a, b, off;
  soc.run([&](AcceleratorDriver& d) {
    a = d.run_graph(g, x);
    b = d.run_graph(g, x);
    ProgramOptions no;
    no.residency = false;
    no.pin_weights = false;
    off = d.run_graph(Graph::chain(net, true), x, no);
  });
  ASSERT_EQ(a.outputs.size(), 1u);
  EXPECT_EQ(a.outputs[0], expect);
  EXPECT_EQ(b.outputs[0], expect);
  EXPECT_EQ(off.outputs.back(), expect);
  EXPECT_TRUE(a.loaded_constants);
  EXPECT_FALSE(b.loaded_constants);
  expect_plan_counters(a, table(), true);
  expect_plan_counters(b, table(), false);
  expect_plan_counters(off, table(), false);
  // Steady state: only the first layer's input and the last layer's output touch DRAM (besides descriptors).
  for (size_t i = 0; i < net.size(); ++i) {
    const LayerCost& c = b.plan.nodes[i].cost;
    EXPECT_TRUE(c.place.weights_resident);
    EXPECT_EQ(c.counts.at("dram"), (i == 0 ? net[0].shape.input_elems() : 0) +
                                        (i + 1 == net.size() ? net.back().shape.outputs() : 0))
        << "layer " << i;
  }
  EXPECT_LT(b.stats.total.energy_aj, a.stats.total.energy_aj);
  EXPECT_LT(b.stats.total.energy_aj * 2, off.stats.total.energy_aj);  // residency + pinning more than halve it
}

TEST_P(Hierarchy, BandsWithHalosAndStreamedConstantsOnSmallBuffers) {
  SocConfig cfg = soc_config(GetParam());
  cfg.array.act_buffer_bytes = 8192;
  cfg.array.weight_buffer_bytes = 4096;
  AcceleratorSoc soc("soc", cfg, table());
  // 16x40x40 input (25.6 KB) and 64x16x3x3 weights (9.2 KB + 1 KiB parameters): neither fits.
  const std::vector<int8_t> x = random_tensor(16 * 40 * 40, 9);
  const LayerParams p = random_layer(conv(1, 16, 40, 40, 64, 3, 1, 1), Op::MAC8, Mode::Digital, 10, true, &x);
  const LayerParams q = random_layer(conv(1, 64, 40, 40, 8, 3, 2, 1), Op::MAC4, Mode::Cim, 11, true, nullptr);
  const std::vector<int8_t> y = ref::layer(p, x), z = ref::layer(q, y);
  GraphResult r;
  soc.run([&](AcceleratorDriver& d) { r = d.run_graph(Graph::chain({p, q}, true), x); });
  EXPECT_EQ(r.outputs[0], y);
  EXPECT_EQ(r.outputs[1], z);
  expect_plan_counters(r, table(), false);
  const LayerCost& c = r.plan.nodes[0].cost;
  EXPECT_GT(c.bands.size(), 4u);
  EXPECT_TRUE(c.weights_streamed);
  EXPECT_EQ(c.counts.at("weight_buffer_write"), static_cast<int64_t>(c.bands.size()) * (64 * 144 + 16 * 64));
  // Halos: the bands together read more input rows than the input has.
  int64_t in = 0;
  for (const Band& bd : c.bands) in += bd.in_bytes;
  EXPECT_GT(in, 16 * 40 * 40);
}

TEST_P(Hierarchy, DoubleBufferingOverlapsTransfers) {
  SocConfig cfg = soc_config(GetParam());
  cfg.array.act_buffer_bytes = 8192;
  cfg.array.double_buffer = true;
  AcceleratorSoc soc("soc", cfg, table());
  const std::vector<int8_t> x = random_tensor(8 * 48 * 48, 4);
  const LayerParams p = random_layer(conv(1, 8, 48, 48, 8, 3, 1, 1), Op::BWN, Mode::Digital, 5, true, &x);
  GraphResult r;
  soc.run([&](AcceleratorDriver& d) { r = d.run_graph(Graph::chain({p}, false), x); });
  EXPECT_EQ(r.outputs[0], ref::layer(p, x));
  expect_plan_counters(r, table(), true);
  const LayerCost& c = r.plan.nodes[0].first_cost;
  EXPECT_GT(c.bands.size(), 2u);
  int64_t sequential = c.descriptor_cycles;  // the same bands without overlap
  for (const Band& bd : c.bands) sequential += bd.load_cycles + bd.compute_cycles + bd.store_cycles;
  EXPECT_LT(c.cycles, sequential);
  EXPECT_EQ(c.cycles - c.descriptor_cycles - c.compute_cycles, c.stall_cycles);
}

TEST_P(Hierarchy, VectorOpsOnChip) {
  AcceleratorSoc soc("soc", soc_config(GetParam()), table());
  const std::vector<int8_t> x = random_tensor(4 * 12 * 12, 8);
  const LayerParams c1 = random_layer(conv(1, 4, 12, 12, 8, 3, 1, 1), Op::MAC8, Mode::Digital, 1, false, &x);
  const std::vector<int8_t> y1 = ref::layer(c1, x);
  const LayerParams mp = vec(LayerShape::vector(LayerKind::MaxPool, 1, 8, 12, 12, 3, 2, 1));
  const LayerParams sh = vec(LayerShape::vector(LayerKind::ChannelShuffle, 1, 8, 6, 6, 1, 1, 0, 2));
  const LayerParams cp = vec(LayerShape::vector(LayerKind::Copy, 1, 8, 6, 6), {3}, {1});
  const LayerParams ad = vec(LayerShape::vector(LayerKind::Add, 1, 8, 6, 6), {1, 5}, {0, 2}, true);
  const LayerParams ap = vec(LayerShape::vector(LayerKind::AvgPool, 1, 8, 6, 6, 2, 2, 0));
  const LayerParams gp = vec(LayerShape::vector(LayerKind::GlobalAvgPool, 1, 8, 3, 3));
  Graph g;
  g.input = g.add_tensor("x", 4, 12, 12);
  const int t1 = g.add_tensor("c1", 8, 12, 12), t2 = g.add_tensor("mp", 8, 6, 6), t3 = g.add_tensor("sh", 8, 6, 6),
            t4 = g.add_tensor("cp", 8, 6, 6), t5 = g.add_tensor("ad", 8, 6, 6), t6 = g.add_tensor("ap", 8, 3, 3),
            t7 = g.add_tensor("gp", 8, 1, 1);
  g.nodes = {{"c1", c1, {g.input}, t1}, {"mp", mp, {t1}, t2}, {"sh", sh, {t2}, t3}, {"cp", cp, {t3}, t4},
             {"ad", ad, {t2, t4}, t5}, {"ap", ap, {t5}, t6}, {"gp", gp, {t6}, t7}};
  g.outputs = {t5, t7};
  const auto e2 = ref_vector(mp, y1, {}), e3 = ref_vector(sh, e2, {}), e4 = ref_vector(cp, e3, {}),
             e5 = ref_vector(ad, e2, e4), e6 = ref_vector(ap, e5, {}), e7 = ref_vector(gp, e6, {});
  GraphResult r;
  soc.run([&](AcceleratorDriver& d) { r = d.run_graph(g, x); });
  EXPECT_EQ(r.outputs[0], e5);
  EXPECT_EQ(r.outputs[1], e7);
  expect_plan_counters(r, table(), true);
  for (size_t i = 1; i < g.nodes.size(); ++i) {
    const LayerCost& c = r.plan.nodes[i].cost;
    EXPECT_GT(c.counts.at("vector_op") + c.counts.at("act_buffer_read"), 0) << g.nodes[i].name;
    EXPECT_EQ(c.macs(), 0);
  }
}

TEST_P(Hierarchy, ImpossibleStagingAndBadOnChipAddressesAreErrors) {
  SocConfig cfg = soc_config(GetParam());
  AcceleratorSoc soc("soc", cfg, table());
  const std::vector<int8_t> x = random_tensor(4 * 8 * 8, 2);
  const LayerParams p = random_layer(conv(1, 4, 8, 8, 4, 3, 1, 1), Op::MAC8, Mode::Digital, 3, true, &x);
  auto run_desc = [&](Descriptor d) {
    ErrorCode code = ErrorCode::None;
    soc.run([&](AcceleratorDriver& drv) {
      try {
        drv.run(drv.write_descriptors({d}), 1);
      } catch (const AcceleratorError& e) {
        code = e.code;
      }
    });
    return code;
  };
  Descriptor base;
  soc.run([&](AcceleratorDriver& d) {
    const uint64_t in = d.scratch().alloc(x.size()), out = d.scratch().alloc(256);
    d.host().write(in, x.data(), x.size());
    base = d.make_descriptor(p, in, out);
  });
  Descriptor d = base;
  d.stage_bytes = 16;  // one output row needs 4*8*3 + 4*8 bytes
  EXPECT_EQ(run_desc(d), ErrorCode::BufferOverflow);
  d = base;
  d.in_act = true;
  d.input_addr = static_cast<uint64_t>(soc.accelerator().config().act_buffer_bytes) - 100;
  EXPECT_EQ(run_desc(d), ErrorCode::BadAddress);
  d = base;
  d.w_pin = true;
  d.wbuf_off = static_cast<uint32_t>(soc.accelerator().config().weight_buffer_bytes) - 8;
  EXPECT_EQ(run_desc(d), ErrorCode::BadAddress);
  d = base;
  d.stage_bytes = static_cast<uint32_t>(soc.accelerator().config().act_buffer_bytes);
  EXPECT_EQ(run_desc(d), ErrorCode::None);
}

INSTANTIATE_TEST_SUITE_P(Levels, Hierarchy, ::testing::Values(Level::Lt, Level::Cycle),
                         [](const ::testing::TestParamInfo<Level>& i) { return std::string(level_name(i.param)); });

// The cycle-level model at the 1 ns resolution SoCs commonly use (self-timed: no half-period clock needed).
TEST(HierarchyCycle, RunsAtOneNanosecondResolution) {
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  AcceleratorSoc soc("soc", soc_config(Level::Cycle), table());
  const std::vector<int8_t> x = builtin_input(7);
  const std::vector<LayerParams> net = builtin_network(7, x);
  std::vector<int8_t> expect = x;
  for (const auto& l : net) expect = ref::layer(l, expect);
  GraphResult r;
  soc.run([&](AcceleratorDriver& d) { r = d.run_graph(Graph::chain(net, false), x); });
  EXPECT_EQ(r.outputs[0], expect);
  expect_plan_counters(r, table(), true);
}

// An SoC clock on clk_in drives the cycle-level model: one cycle per posedge (here 2 ns).
TEST(HierarchyCycle, ExternalClockInput) {
  AcceleratorSoc soc("soc", soc_config(Level::Cycle), table());
  sc_core::sc_clock ext("ext", sc_core::sc_time(2, sc_core::SC_NS));
  soc.cycle_model()->clk_in(ext);
  const std::vector<int8_t> x = builtin_input(8);
  const std::vector<LayerParams> net = builtin_network(8, x);
  GraphResult r;
  soc.run([&](AcceleratorDriver& d) { r = d.run_graph(Graph::chain(net, false), x); });
  expect_plan_counters(r, table(), true);
  const double ns = r.sim_time.to_seconds() * 1e9;
  EXPECT_GE(ns, 2.0 * static_cast<double>(r.stats.total.cycles));
  EXPECT_LT(ns, 2.0 * static_cast<double>(r.stats.total.cycles) + 200.0);
}
