// SCALE-Sim's files as they ship: the looser topology format (extra and empty columns, blank and section rows,
// tabs, repeated names, a header naming a column twice, GEMM files), chain-break warnings, SCALE-Sim .cfg
// architectures, and memory sizes. Fixtures are written here in the same formats (own content).
#include <gtest/gtest.h>

#include <string>

#include "cimsim/accel/arch.hpp"
#include "cimsim/accel/topology.hpp"
#include "cimsim/core/error.hpp"
#include "workload_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using cimsim_test::BadCase;
using cimsim_test::expect_bad_files;
using cimsim_test::TempDir;

namespace {

const std::string kHead =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";

bool has_warning(const std::vector<std::string>& w, const std::string& a, const std::string& b = "") {
  for (const auto& x : w)
    if (x.find(a) != std::string::npos && x.find(b) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(ScaleSimTopology, ExtraAndEmptyColumnsAreIgnoredWithAWarning) {
  const Topology t = parse_topology(
      "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,,,Xh,Xw\n"
      ",,,,,,,,,,,\n"
      "c1,30,30,3,3,2,5,1,,,28,28\n"
      "c2,28,28,1,1,5,7,1,,,,\n",
      "x.csv");
  ASSERT_EQ(t.layers.size(), 2u);
  EXPECT_EQ(t.layers[0].shape.cout, 5);
  EXPECT_EQ(t.layers[1].shape.cin, 5);
  EXPECT_TRUE(has_warning(t.warnings, "column 'Xh'", "ignored"));
  EXPECT_TRUE(has_warning(t.warnings, "column(s) without a name"));
  EXPECT_TRUE(has_warning(t.warnings, "row 2", "empty row"));
}

TEST(ScaleSimTopology, SectionRowsBlankLinesTabsAndRepeatedNames) {
  const Topology t = parse_topology(kHead + "\nNetA,\nconv,9,9,3,3,4,4,1,\nconv,7,7,3,3,4,8,1,\n\nNetB,\n"
                                            "fc,1,1,1,1,16,3,1,\n",
                                    "m.csv");
  ASSERT_EQ(t.layers.size(), 3u);
  EXPECT_EQ(t.layers[1].name, "conv~2");
  EXPECT_EQ(t.layers[2].shape.kind, LayerKind::FullyConnected);
  EXPECT_TRUE(has_warning(t.warnings, "row 3", "'NetA' has no layer sizes"));
  EXPECT_TRUE(has_warning(t.warnings, "row 7", "'NetB'"));
  EXPECT_TRUE(has_warning(t.warnings, "row 5", "renamed 'conv~2'"));

  const Topology tab = parse_topology(
      "Layer name\tIFMAP Height\tIFMAP Width\tFilter Height\tFilter Width\tChannels\tNum Filter\tStrides\t\n"
      "a\t10\t12\t3\t3\t2\t4\t1\t\n",
      "tab.csv");
  ASSERT_EQ(tab.layers.size(), 1u);
  EXPECT_EQ(tab.layers[0].shape.w, 12);
  EXPECT_EQ(tab.layers[0].shape.cout, 4);
  EXPECT_TRUE(has_warning(tab.warnings, "tab"));

  // Many rows of one kind: three lines, then one counting the rest.
  std::string many = kHead;
  for (int i = 0; i < 6; ++i) many += "Title" + std::to_string(i) + ",\nL" + std::to_string(i) + ",4,4,1,1,2,2,1,\n";
  const Topology m = parse_topology(many, "many.csv");
  EXPECT_EQ(m.layers.size(), 6u);
  EXPECT_TRUE(has_warning(m.warnings, "... and 3 more rows", "section"));
}

TEST(ScaleSimTopology, RepeatedHeaderNameIsReadByPosition) {
  // DeepBench-style header naming IFMAP Width twice: SCALE-Sim reads by position (height first).
  const Topology t = parse_topology(
      "Layer, IFMAP Width, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
      "d1,40,20,5,3,1,8,2,\n",
      "db.csv");
  ASSERT_EQ(t.layers.size(), 1u);
  EXPECT_EQ(t.layers[0].shape.h, 40);
  EXPECT_EQ(t.layers[0].shape.w, 20);
  EXPECT_EQ(t.layers[0].shape.kh, 5);
  EXPECT_EQ(t.layers[0].shape.stride, 2);
  EXPECT_TRUE(has_warning(t.warnings, "by position"));
  // Spreadsheet exports: byte-order mark, non-breaking spaces and lower-case plural names.
  const Topology u = parse_topology(
      "\xEF\xBB\xBFLayer name,\xC2\xA0IFMAP Height,ifmap width,filter height,filter width,channel,num filters,"
      "strides,\nq,8,64,1,64,1,32,1,\n",
      "u.csv");
  ASSERT_EQ(u.layers.size(), 1u);
  EXPECT_EQ(u.layers[0].shape.out_w(), 1);
  EXPECT_EQ(u.layers[0].shape.macs(), int64_t{8} * 32 * 64);
}

TEST(ScaleSimTopology, GemmFilesByHeaderOrFlag) {
  const Topology g = parse_topology("Layer,M,N,K,\r\nQK,64,32,16,\r\nprime,13,5,7,\r\n", "g.csv");
  ASSERT_TRUE(g.gemm);
  ASSERT_EQ(g.layers.size(), 2u);
  // M x K times K x N: N outputs of K terms for each of M rows, as SCALE-Sim counts it.
  EXPECT_EQ(g.layers[0].shape.macs(), int64_t{64} * 32 * 16);
  EXPECT_EQ(g.layers[0].shape.h * g.layers[0].shape.w, 64);
  EXPECT_EQ(g.layers[0].shape.h, 8);  // near-square map: the largest divisor not above sqrt(M)
  EXPECT_EQ(g.layers[0].shape.cin, 16);
  EXPECT_EQ(g.layers[0].shape.cout, 32);
  EXPECT_EQ(g.layers[1].shape.macs(), int64_t{13} * 5 * 7);
  EXPECT_EQ(g.layers[1].shape.h, 1);
  // Forced: rows read by position whatever the header says.
  const Topology f = parse_topology("name, rows, cols, depth,\nx, 6, 4, 10,\n", "f.csv", TopologyFormat::Gemm);
  ASSERT_EQ(f.layers.size(), 1u);
  EXPECT_EQ(f.layers[0].shape.macs(), 6 * 4 * 10);
  // A conv header is not GEMM.
  EXPECT_FALSE(parse_topology(kHead + "a,4,4,1,1,2,2,1,\n", "c.csv").gemm);
}

TEST(ScaleSimTopology, ChainBreaksAreNamedWithTheirCause) {
  const Topology t = parse_topology(kHead +
                                        "c1,32,32,3,3,3,8,1,\n"   // -> 8x30x30
                                        "c2,32,32,3,3,8,8,1,\n"   // padding folded into the size
                                        "c3,15,15,3,3,8,16,1,\n"  // a pool between them
                                        "c4,13,13,1,1,12,4,1,\n"  // channels differ
                                        "fc,1,1,1,1,676,10,1,\n", // 4x13x13 = 676 values: a flatten, chains
                                    "chain.csv");
  std::vector<std::string> w;
  const std::vector<size_t> starts = topology_segment_starts(t, &w);
  EXPECT_EQ(starts, (std::vector<size_t>{0, 1, 2, 3}));
  ASSERT_EQ(w.size(), 3u);
  EXPECT_TRUE(has_warning(w, "'c1' produces 8x30x30, 'c2' reads 8x32x32", "padding (1 per side)"));
  EXPECT_TRUE(has_warning(w, "'c3' reads 8x15x15", "pooling"));
  EXPECT_TRUE(has_warning(w, "'c4'", "channels differ"));
  EXPECT_TRUE(has_warning(w, "rows 2 -> 3"));
}

namespace {
std::string cfg_text(const std::string& df = "ws", const std::string& extra = "") {
  return "[general]\nrun_name = my_run\n\n[architecture_presets]\nArrayHeight:    8\nArrayWidth:     12\n"
         "IfmapSramSzkB:    20\nFilterSramSzkB:   24\nOfmapSramSzkB:    12\nIfmapOffset:    0\n"
         "FilterOffset:   10000000\nOfmapOffset:    20000000\nDataflow : " + df + "\nBandwidth : 6\n"
         "MemoryBanks: 1\n" + extra + "\n[run_presets]\nInterfaceBandwidth: USER\n";
}
}  // namespace

TEST(ScaleSimConfig, ReadsTheIniFormat) {
  TempDir d;
  const Architecture a = load_architecture(d.write("mine.cfg", cfg_text()));
  EXPECT_EQ(a.name, "my_run");
  EXPECT_EQ(a.array.rows, 8);
  EXPECT_EQ(a.array.cols, 12);
  EXPECT_EQ(a.array.weight_buffer_bytes, 24 * 1024);
  EXPECT_EQ(a.array.act_buffer_bytes, (20 + 12) * 1024);
  EXPECT_EQ(a.array.dma_bytes_per_cycle, 6);
  EXPECT_TRUE(a.array.double_buffer);
  EXPECT_EQ(a.array.cim_cols, 12);
  EXPECT_TRUE(a.tech_path.empty());
  EXPECT_TRUE(has_warning(a.warnings, "SCALE-Sim configuration"));
  // Keys are case-insensitive; CALC bandwidth is warned; '=' and ':' both separate.
  std::string calc = cfg_text("WS");
  calc.replace(calc.find("USER"), 4, "CALC");
  calc.replace(calc.find("ArrayHeight:"), 12, "arrayheight =");
  const Architecture c = parse_scalesim_config(calc, "calc.cfg");
  EXPECT_EQ(c.array.rows, 8);
  EXPECT_TRUE(has_warning(c.warnings, "CALC", "6 bytes/cycle"));
}

TEST(ScaleSimConfig, BadFilesNameTheLineAndKey) {
  std::string bad_int = cfg_text();
  bad_int.replace(bad_int.find("ArrayWidth:     12"), 18, "ArrayWidth: twelve");
  std::string no_bw = cfg_text();
  no_bw.erase(no_bw.find("Bandwidth : 6\n"), 14);
  const std::vector<BadCase> cases = {
      {"os dataflow", cfg_text("os"), {"line 13", "Dataflow", "output stationary", "ws"}},
      {"is dataflow", cfg_text("is"), {"Dataflow", "input stationary", "weight stationary"}},
      {"unknown dataflow", cfg_text("rs"), {"unknown dataflow 'rs'"}},
      {"unknown key", cfg_text("ws", "Sparsity: 2\n"), {"line 16", "unknown key 'Sparsity'", "[architecture_presets]"}},
      {"unknown section", cfg_text() + "[sparsity]\nx = 1\n", {"unknown section '[sparsity]'"}},
      {"not an integer", bad_int, {"line 6", "ArrayWidth", "'twelve' is not an integer"}},
      {"too large", cfg_text("ws", "").replace(cfg_text().find("ArrayHeight:    8"), 17, "ArrayHeight: 999"),
       {"ArrayHeight", "out of range"}},
      {"no bandwidth", no_bw, {"missing key 'Bandwidth'"}},
      {"missing section", "[general]\nrun_name = x\n", {"missing section [architecture_presets]"}},
      {"not key value", "[general]\nhello\n", {"line 2", "expected 'key: value'"}},
      {"twice", cfg_text("ws", "ArrayHeight: 4\n"), {"'ArrayHeight' appears twice"}},
  };
  TempDir d;
  expect_bad_files(d, cases, ".cfg", [](const std::string& p) { load_architecture(p); });
  try {
    load_architecture((d.path / "absent.cfg").string());
    ADD_FAILURE() << "absent .cfg accepted";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("absent.cfg"), std::string::npos);
  }
}
