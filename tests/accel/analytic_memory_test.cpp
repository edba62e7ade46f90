// The analytic level equals the simulators node by node (random networks and every shipped topology), memory
// sized from the workload (VGG-class FC layers run), constants never evicted while a program uses them, and
// errors that name the node and the bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cimsim/accel/analytic.hpp"
#include "cimsim/accel/random_network.hpp"
#include "cimsim/accel/soc.hpp"
#include "cimsim/accel/topology.hpp"
#include "cimsim/core/error.hpp"

using namespace cimsim;
using namespace cimsim::accel;
namespace fs = std::filesystem;


namespace {

const EnergyTable& table() {
  static const EnergyTable t = EnergyTable::load_default();
  return t;
}

std::vector<LayerChoice> uniform(const Topology& t) {
  LayerChoice u;
  return apply_assignment(t, {}, u);
}

// Runs every segment on the SoC as `cimsim run` does (a second run for the steady state when constants were
// loaded) and compares each node's counters with the analytic level's.
void expect_analytic_equals(AcceleratorSoc& soc, const std::vector<TopologySegment>& segs, const std::string& what) {
  const ArrayConfig hw = soc.accelerator().config();
  soc.run([&](AcceleratorDriver& d) {
    for (size_t si = 0; si < segs.size(); ++si) {
      GraphResult r = d.run_graph(segs[si].graph, segs[si].input);
      EXPECT_EQ(r.outputs, segs[si].expect) << what << " segment " << si;
      if (r.loaded_constants) r = d.run_graph(segs[si].graph, segs[si].input);
      const GraphResult a = analytic_run_graph(segs[si].graph, hw, table());
      ASSERT_EQ(a.stats.layers.size(), r.stats.layers.size());
      for (size_t i = 0; i < a.stats.layers.size(); ++i) {
        const std::string at = what + " node '" + segs[si].graph.nodes[i].name + "'";
        EXPECT_EQ(a.stats.layers[i].cycles, r.stats.layers[i].cycles) << at;
        EXPECT_EQ(a.stats.layers[i].macs, r.stats.layers[i].macs) << at;
        EXPECT_EQ(a.stats.layers[i].energy_aj, r.stats.layers[i].energy_aj) << at;
        EXPECT_EQ(a.stats.layers[i].group_aj, r.stats.layers[i].group_aj) << at;
        EXPECT_EQ(a.plan.nodes[i].cost.dram_bytes(), r.plan.nodes[i].cost.dram_bytes()) << at;
      }
      EXPECT_EQ(a.stats.total.cycles, r.stats.total.cycles) << what;
    }
  });
}

SocConfig sized(const std::vector<std::vector<TopologySegment>>& all, const ArrayConfig& array) {
  SocConfig cfg;
  cfg.array = array;
  std::vector<const Graph*> gs;
  for (const auto& segs : all)
    for (const auto& s : segs) gs.push_back(&s.graph);
  size_memory(cfg, workload_memory(gs), 0, "");
  return cfg;
}

}  // namespace

TEST(Analytic, EqualsLtOnRandomNetworksAndEveryShippedTopology) {
  std::vector<std::vector<TopologySegment>> all;
  std::vector<std::string> names;
  for (uint64_t seed = 1; seed <= 12; ++seed) {
    std::vector<LayerChoice> ch;
    const Topology t = random_topology(seed, 3 + static_cast<int>(seed % 4), ch);
    all.push_back(random_topology_segments(t, ch, seed));
    // The analytic level forms the same graphs without data.
    const auto nodata = topology_segments_without_data(t, ch);
    ASSERT_EQ(nodata.size(), all.back().size());
    for (size_t i = 0; i < nodata.size(); ++i) EXPECT_EQ(nodata[i].graph.nodes.size(), all.back()[i].graph.nodes.size());
    names.push_back(t.name);
  }
  const std::string dir = std::string(CIMSIM_SOURCE_DIR) + "/data/topologies";
  std::vector<std::string> files;
  for (const auto& f : fs::directory_iterator(dir))
    if (f.path().extension() == ".csv") files.push_back(f.path().string());
  std::sort(files.begin(), files.end());
  ASSERT_GE(files.size(), 6u);
  for (const auto& f : files) {
    const Topology t = load_topology(f);
    all.push_back(random_topology_segments(t, uniform(t), 3));
    names.push_back(f);
  }
  ArrayConfig array;
  array.double_buffer = true;  // bands overlap: the schedule the analytic level must reproduce
  AcceleratorSoc soc("soc", sized(all, array), table());
  for (size_t k = 0; k < all.size(); ++k) expect_analytic_equals(soc, all[k], names[k]);
}

TEST(Memory, ChainedFc4096AndVggFc6RunAndPass) {
  // Three chained FC 4096 -> 4096 (48 MiB of constants with MAC8) and VGG-16's FC6 (25088 -> 4096, 98 MiB): the
  // memory is sized from the workload, and no constant of a running program is overwritten.
  Topology fc;
  fc.name = fc.origin = "fc3";
  for (int i = 0; i < 3; ++i) fc.layers.push_back({"fc" + std::to_string(i + 1), LayerShape::fc(1, 4096, 4096), i + 2});
  Topology vgg;
  vgg.name = vgg.origin = "vgg-fc6";
  vgg.layers.push_back({"fc6", LayerShape::conv(1, 512, 7, 7, 4096, 7), 2});
  std::vector<std::vector<TopologySegment>> all = {random_topology_segments(fc, uniform(fc), 5),
                                                   random_topology_segments(vgg, uniform(vgg), 6)};
  ASSERT_EQ(all[0].size(), 1u);
  AcceleratorSoc soc("soc", sized(all, ArrayConfig{}), table());
  EXPECT_GT(soc.config().mem_size, uint64_t{64} << 20);
  soc.run([&](AcceleratorDriver& d) {
    for (const auto& segs : all)
      for (const auto& s : segs) EXPECT_EQ(d.run_graph(s.graph, s.input).outputs, s.expect);
  });
}

TEST(Memory, ConstantsThatCannotFitNameTheNodeAndTheBytes) {
  Topology t;
  t.name = t.origin = "fc2";
  t.layers.push_back({"first", LayerShape::fc(1, 512, 512), 2});
  t.layers.push_back({"second", LayerShape::fc(1, 512, 512), 3});
  const auto segs = random_topology_segments(t, uniform(t), 2);
  SocConfig cfg;
  cfg.mem_size = 1 << 20;
  cfg.const_bytes = 300000;  // one layer's constants (270 KB) fit, two do not
  AcceleratorSoc soc("soc", cfg, table());
  std::string msg;
  soc.run([&](AcceleratorDriver& d) {
    try {
      d.run_graph(segs[0].graph, segs[0].input);
    } catch (const ConfigError& e) {
      msg = e.what();
    }
  });
  EXPECT_NE(msg.find("node 'second'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("300000"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--memory"), std::string::npos) << msg;
}

TEST(Memory, SizesAndBadSizes) {
  EXPECT_EQ(parse_memory_size("4096", "m"), 4096u);
  EXPECT_EQ(parse_memory_size("3K", "m"), 3072u);
  EXPECT_EQ(parse_memory_size("256M", "m"), uint64_t{256} << 20);
  EXPECT_EQ(parse_memory_size("2GiB", "m"), uint64_t{2} << 30);
  for (const char* bad : {"", "M", "12Q", "-5", "0", "1.5G", "100G", "99999999999999999999999"})
    EXPECT_THROW(parse_memory_size(bad, "--memory"), ConfigError) << bad;
  MemoryNeed need;
  need.constants = 1000;
  need.scratch = 500;
  SocConfig cfg;
  size_memory(cfg, need, 0, "");
  EXPECT_GE(cfg.mem_size, 1500u);
  EXPECT_EQ(cfg.const_bytes, 1000u);
  size_memory(cfg, need, 8192, "--memory");
  EXPECT_EQ(cfg.mem_size, 8192u);
  EXPECT_EQ(cfg.const_bytes, 8192u - 500u);
  try {
    size_memory(cfg, need, 1400, "arch.yaml: memory.bytes");
    ADD_FAILURE() << "too small accepted";
  } catch (const ConfigError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("arch.yaml: memory.bytes"), std::string::npos) << m;
    EXPECT_NE(m.find("1500"), std::string::npos) << m;
  }
}

namespace {
// Layers whose one output row does not fit a 32 KiB activation buffer: they run in column strips (one row x a
// strip of output columns per band). Outputs bit-exact, counters equal to the analytic level's.
void column_strips_at(Level level) {
  Topology t;
  t.name = t.origin = "wide";
  t.layers.push_back({"wide", LayerShape::conv(1, 64, 6, 200, 24, 3, 1, 1), 2});
  t.layers.push_back({"next", LayerShape::conv(1, 24, 6, 200, 8, 3, 2, 1), 3});
  t.layers.push_back({"dw", LayerShape::conv(1, 8, 3, 100, 8, 3, 1, 1, 8), 4});
  t.layers.push_back({"solo", LayerShape::conv(1, 96, 3, 160, 12, 3, 1, 0), 5});  // its own segment, all in DRAM
  std::vector<LayerChoice> ch = uniform(t);
  ch[1].op = Op::MF;
  ch[1].mode = Mode::Cim;
  ch[1].cim.adc_bits = 6;
  ch[1].cim.adc_range = 32;
  ch[3].op = Op::ADDER;
  const auto segs = random_topology_segments(t, ch, 4);
  ArrayConfig array;
  array.rows = array.cols = 8;
  array.cim_cols = 8;
  array.act_buffer_bytes = 32 * 1024;
  array.weight_buffer_bytes = 16 * 1024;
  SocConfig cfg = sized({segs}, array);
  cfg.level = level;
  AcceleratorSoc soc("soc", cfg, table());
  int split = 0;
  for (const auto& s : segs) {
    const GraphResult a = analytic_run_graph(s.graph, soc.accelerator().config(), table());
    for (const NodePlan& np : a.plan.nodes) split += np.cost.column_split;
  }
  EXPECT_GE(split, 2);
  expect_analytic_equals(soc, segs, std::string("column strips at ") + level_name(level));
}
}  // namespace

TEST(ColumnStrips, LtEqualsAnalyticAndTheDatapath) { column_strips_at(Level::Lt); }
TEST(ColumnStrips, CycleLevelEqualsAnalyticAndTheDatapath) { column_strips_at(Level::Cycle); }

TEST(Analytic, RefusesWhatTheHardwareRefusesNamingTheNode) {
  // K x the largest MAC8 term overflows the int32 accumulator: LT refuses the layer (LayerParams::check), so
  // does the analytic level; BWN's terms fit.
  Topology t;
  t.name = t.origin = "emb";
  t.layers.push_back({"emb", LayerShape::conv(1, 60000, 3, 3, 8, 3), 2});  // K = 540,000
  ArrayConfig big;
  big.act_buffer_bytes = 1 << 20;
  const auto mac8 = topology_segments_without_data(t, uniform(t));
  try {
    (void)analytic_run_graph(mac8[0].graph, big, table());
    ADD_FAILURE() << "K overflow accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("node 'emb'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("32-bit accumulator"), std::string::npos) << e.what();
  }
  LayerChoice bwn;
  bwn.op = Op::BWN;
  const auto ok = topology_segments_without_data(t, apply_assignment(t, {}, bwn));
  EXPECT_EQ(analytic_run_graph(ok[0].graph, big, table()).stats.total.macs, int64_t{540000} * 8);
  // A size beyond the descriptor's 16-bit fields: refused at every level, naming the node and the field.
  Topology wide;
  wide.name = wide.origin = "ncf";
  wide.layers.push_back({"MF_Embedding_user", LayerShape::fc(1, 138000, 8), 2});
  const auto w = topology_segments_without_data(wide, apply_assignment(wide, {}, bwn));
  try {
    (void)analytic_run_graph(w[0].graph, big, table());
    ADD_FAILURE() << "cin 138000 accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("node 'MF_Embedding_user': cin = 138000"), std::string::npos) << e.what();
  }
}
