// SCALE-Sim topology CSV files and assignment files: formats, conventions (padding, groups/depthwise, FC), shipped
// topologies, and every bad-input case (the message names the file, row and field).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cimsim/accel/topology.hpp"
#include "cimsim/core/error.hpp"
#include "workload_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using cimsim_test::BadCase;
using cimsim_test::expect_all_load;
using cimsim_test::expect_bad_files;
using cimsim_test::expect_error;
using cimsim_test::TempDir;
namespace fs = std::filesystem;

namespace {

const std::string kTopoDir = std::string(CIMSIM_SOURCE_DIR) + "/data/topologies/";
const char* const kScaleSimHeader =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";
const char* const kOurHeader =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides, Padding, "
    "Groups,\n";

void expect_shape(const LayerShape& s, int cin, int h, int w, int cout, int kh, int kw, int stride, int pad, int groups,
                  LayerKind kind = LayerKind::Conv2d) {
  EXPECT_EQ(s.n, 1);
  EXPECT_EQ(s.cin, cin);
  EXPECT_EQ(s.h, h);
  EXPECT_EQ(s.w, w);
  EXPECT_EQ(s.cout, cout);
  EXPECT_EQ(s.kh, kh);
  EXPECT_EQ(s.kw, kw);
  EXPECT_EQ(s.stride, stride);
  EXPECT_EQ(s.pad, pad);
  EXPECT_EQ(s.groups, groups);
  EXPECT_EQ(s.kind, kind);
}

}  // namespace

TEST(Topology, ReadsScaleSimFormat) {
  TempDir d;
  // SCALE-Sim's own conventions: header line, trailing commas, a trailing "#dw" note, blank lines, tabs, IFMAP
  // used as given (no padding).
  const std::string p = d.write("net.csv", std::string(kScaleSimHeader) +
                                               "\n"
                                               "Conv1, 224, 224, 3, 3, 3, 32, 2,\n"
                                               "Conv2_dw, 112, 112, 3, 3, 1, 1, 1,#dw\n"
                                               "\tConv3,112,112,1,1,32,64,1,\r\n"
                                               "Conv4,7,5,3,2,8,4,1\n"  // no trailing comma
                                               "FC, 1, 1, 1, 1, 1024, 1000, 1,\n");
  const Topology t = load_topology(p);
  EXPECT_EQ(t.name, "net");
  EXPECT_EQ(t.origin, p);
  ASSERT_EQ(t.layers.size(), 5u);
  EXPECT_EQ(t.layers[0].name, "Conv1");
  EXPECT_EQ(t.layers[0].row, 3);
  expect_shape(t.layers[0].shape, 3, 224, 224, 32, 3, 3, 2, 0, 1);
  EXPECT_EQ(t.layers[0].shape.out_h(), 111);  // SCALE-Sim: ceil((224 - 3 + 2) / 2)
  expect_shape(t.layers[1].shape, 1, 112, 112, 1, 3, 3, 1, 0, 1);
  EXPECT_EQ(t.layers[2].name, "Conv3");
  expect_shape(t.layers[2].shape, 32, 112, 112, 64, 1, 1, 1, 0, 1);
  expect_shape(t.layers[3].shape, 8, 7, 5, 4, 3, 2, 1, 0, 1);
  EXPECT_EQ(t.layers[3].shape.out_w(), 4);
  EXPECT_EQ(t.layers[4].row, 7);
  expect_shape(t.layers[4].shape, 1024, 1, 1, 1000, 1, 1, 1, 0, 1, LayerKind::FullyConnected);
  EXPECT_EQ(topology_macs(t), int64_t{111} * 111 * 32 * 27 + 110 * 110 * 9 + 112 * 112 * 32 * 64 +
                                  int64_t{5} * 4 * 4 * 8 * 6 + 1024 * 1000);
}

TEST(Topology, HeaderVariantsAndOurColumns) {
  TempDir d;
  // SCALE-Sim v2's writer spells "Stride height, Stride width"; column order is free; case and spacing ignored;
  // a spreadsheet's UTF-8 byte-order mark is skipped.
  const Topology a = load_topology(d.write(
      "a.csv", "\xEF\xBB\xBFLayer name,IFMAP height,IFMAP width,Filter height,Filter width,Channels,Num filter,Stride height,"
               "Stride width,\nL,9,9,3,3,2,4,2,2,\n"));
  expect_shape(a.layers[0].shape, 2, 9, 9, 4, 3, 3, 2, 0, 1);
  const Topology b = load_topology(d.write(
      "b.csv", "groups, padding, strides, num_filter, channels, filter width, filter height, ifmap width, ifmap height, "
               "layer name\n4, 1, 1, 8, 4, 3, 3, 6, 6, dw\n"));
  expect_shape(b.layers[0].shape, 4, 6, 6, 8, 3, 3, 1, 1, 4);
  // Padding and depthwise (Groups = Channels) as the ENOS networks use them; FC convention needs groups 1, pad 0.
  const Topology c = load_topology(d.write("c.csv", std::string(kOurHeader) +
                                                        "conv, 32, 32, 3, 3, 3, 24, 1, 1, 1,\n"
                                                        "dw, 16, 16, 3, 3, 16, 16, 2, 1, 16,\n"
                                                        "fc, 1, 1, 1, 1, 64, 10, 1, 0, 1,\n"
                                                        "grouped_1x1, 1, 1, 1, 1, 64, 10, 1, 0, 2,\n"
                                                        "padded_1x1, 1, 1, 1, 1, 64, 10, 1, 1, 1,\n"));
  expect_shape(c.layers[0].shape, 3, 32, 32, 24, 3, 3, 1, 1, 1);
  EXPECT_EQ(c.layers[0].shape.out_h(), 32);
  expect_shape(c.layers[1].shape, 16, 16, 16, 16, 3, 3, 2, 1, 16);
  EXPECT_EQ(c.layers[1].shape.out_h(), 8);
  expect_shape(c.layers[2].shape, 64, 1, 1, 10, 1, 1, 1, 0, 1, LayerKind::FullyConnected);
  expect_shape(c.layers[3].shape, 64, 1, 1, 10, 1, 1, 1, 0, 2, LayerKind::Conv2d);
  expect_shape(c.layers[4].shape, 64, 1, 1, 10, 1, 1, 1, 1, 1, LayerKind::Conv2d);
}

TEST(Topology, ScaleSimDepthwiseNameConvention) {
  TempDir d;
  // Without a Groups column, a name containing "DP" is SCALE-Sim's depthwise layer: Channels single-channel
  // convolutions of Num Filter filters each.
  const Topology t = load_topology(d.write("dp.csv", std::string(kScaleSimHeader) +
                                                         "Conv2_DP, 112, 112, 3, 3, 32, 1, 1,\n"
                                                         "Conv3_dp, 112, 112, 3, 3, 32, 2, 1,\n"));
  expect_shape(t.layers[0].shape, 32, 112, 112, 32, 3, 3, 1, 0, 32);
  EXPECT_EQ(t.layers[0].shape.macs(), int64_t{110} * 110 * 32 * 9);
  expect_shape(t.layers[1].shape, 32, 112, 112, 2, 3, 3, 1, 0, 1);  // "dp": not the convention (case-sensitive)
  // With a Groups column the column decides.
  const Topology g = load_topology(d.write("g.csv", std::string(kOurHeader) + "Conv2_DP, 8, 8, 3, 3, 4, 4, 1, 0, 1,\n"));
  EXPECT_EQ(g.layers[0].shape.groups, 1);
}

TEST(Topology, BadInputNamesFileRowAndField) {
  const std::string h = kOurHeader;
  const std::vector<BadCase> cases = {
      {"missing column", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Strides,\n"
                         "a, 8, 8, 3, 3, 4, 1,\n",
       {"row 1", "'Num Filter'"}},
      {"no header", "a, 8, 8, 3, 3, 4, 4, 1,\n", {"row 1", "lacks the column 'Layer name'", "header"}},
      {"duplicate column", "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, "
                           "Strides, Strides,\n",
       {"row 1", "twice"}},
      {"missing field", h + "a, 8, 8, 3, 3, 4, 4, 1, 1,\n", {"row 2", "missing field 'Groups'"}},
      {"non-numeric", h + "a, 8, eight, 3, 3, 4, 4, 1, 1, 1,\n", {"row 2", "'IFMAP Width'", "not a number"}},
      {"non-integer", h + "a, 8, 8, 3, 3, 4.5, 4, 1, 1, 1,\n", {"row 2", "'Channels'", "not an integer"}},
      {"empty field", h + "a, 8, 8, , 3, 4, 4, 1, 1, 1,\n", {"row 2", "'Filter Height'", "empty"}},
      {"zero", h + "a, 8, 8, 3, 3, 4, 0, 1, 1, 1,\n", {"row 2", "'Num Filter'", ">= 1"}},
      {"negative", h + "a, 8, 8, 3, 3, 4, 4, -2, 1, 1,\n", {"row 2", "'Strides'", ">= 1"}},
      {"negative padding", h + "a, 8, 8, 3, 3, 4, 4, 1, -1, 1,\n", {"row 2", "'Padding'", ">= 0"}},
      {"absurd", h + "a, 8, 2000000, 3, 3, 4, 4, 1, 1, 1,\n", {"row 2", "'IFMAP Width'", "limit"}},
      {"overflow", h + "a, 8, 8, 3, 3, 99999999999999999999999, 4, 1, 1, 1,\n", {"row 2", "'Channels'", "range"}},
      {"kernel > padded input", h + "ok, 8, 8, 3, 3, 4, 4, 1, 1, 1,\nbig, 4, 4, 7, 7, 4, 4, 1, 1, 1,\n",
       {"row 3", "'Filter Height'", "larger than the padded input"}},
      {"kernel width", h + "w, 8, 4, 3, 7, 4, 4, 1, 1, 1,\n", {"row 2", "'Filter Width'", "padded input width"}},
      {"groups vs channels", h + "g, 8, 8, 3, 3, 6, 8, 1, 1, 4,\n", {"row 2", "'Channels'", "not divisible by Groups"}},
      {"groups vs filters", h + "g, 8, 8, 3, 3, 8, 6, 1, 1, 4,\n", {"row 2", "'Num Filter'", "not divisible"}},
      {"stride width", std::string("Layer name,IFMAP Height,IFMAP Width,Filter Height,Filter Width,Channels,Num Filter,"
                                   "Strides,Stride width,\na,8,8,3,3,4,4,1,2,\n"),
       {"row 2", "'Stride width'", "differs"}},
      {"empty name", h + " , 8, 8, 3, 3, 4, 4, 1, 1, 1,\n", {"row 2", "'Layer name'", "empty"}},
      {"quoted", h + "\"a,b\", 8, 8, 3, 3, 4, 4, 1, 1, 1,\n", {"row 2", "quoted"}},
      {"only header", h, {"no layers"}},
      {"empty file", "\n  \n", {"empty"}},
      {"GEMM zero", "Layer, M, N, K,\nfc, 0, 4, 4,\n", {"row 2", "'M'", ">= 1"}},
      {"GEMM negative", "Layer, M, N, K,\nfc, 4, -4, 4,\n", {"row 2", "'N'", ">= 1"}},
      {"GEMM non-numeric", "Layer, M, N, K,\nfc, 4, 4, k,\n", {"row 2", "'K'", "not a number"}},
      {"GEMM missing", "Layer, M, N, K,\nfc, 4, 4\n", {"row 2", "missing field 'K'"}},
      {"symbolic sizes", std::string(kScaleSimHeader) + "g, 1, B, 1, 1, H, H, 1,\n", {"row 2", "'IFMAP Width'", "not a number"}},
  };
  TempDir d;
  expect_bad_files(d, cases, ".csv", [](const std::string& p) { load_topology(p); });
  expect_error<IoError>([&] { load_topology((d.path / "absent.csv").string()); }, {"absent.csv"}, "absent");
}

namespace {

// Independent re-derivation of the ENOS search networks' accelerator layers (sw/enos/search/net.cpp: conv1 3x3,
// 2x2/2 max pools, Fire modules / ShuffleNetV2 stages, global average pool, FC), in creation order.
struct Ref {
  std::vector<std::pair<std::string, LayerShape>> layers;
  LayerShape add(const std::string& name, int cin, int h, int w, int cout, int k, int s, int p, int g) {
    LayerShape x = LayerShape::conv(1, cin, h, w, cout, k, s, p, g);
    if (h == 1 && w == 1 && k == 1 && g == 1) x.kind = LayerKind::FullyConnected;
    layers.emplace_back(name, x);
    return x;
  }
};
int pool2(int x) { return (x - 2) / 2 + 1; }

Ref ref_squeezenet(int c, int h, int w) {
  Ref r;
  r.add("conv1", c, h, w, 24, 3, 1, 1, 1);
  h = pool2(h);
  w = pool2(w);
  c = 24;
  auto fire = [&](const std::string& n, int sq, int ex) {
    r.add(n + "_sq", c, h, w, sq, 1, 1, 0, 1);
    r.add(n + "_e1", sq, h, w, ex, 1, 1, 0, 1);
    r.add(n + "_e3", sq, h, w, ex, 3, 1, 1, 1);
    c = 2 * ex;
  };
  fire("fire2", 8, 16);
  fire("fire3", 8, 16);
  h = pool2(h);
  w = pool2(w);
  fire("fire4", 12, 24);
  r.add("fc", c, 1, 1, 10, 1, 1, 0, 1);
  return r;
}

Ref ref_shufflenet(int c, int h, int w) {
  Ref r;
  r.add("conv1", c, h, w, 16, 3, 1, 1, 1);
  h = pool2(h);
  w = pool2(w);
  c = 16;
  auto stage = [&](const std::string& n, int out) {
    const int half = out / 2;
    const LayerShape b1 = r.add(n + "_d_b1dw", c, h, w, c, 3, 2, 1, c);
    const int oh = b1.out_h(), ow = b1.out_w();
    r.add(n + "_d_b1pw", c, oh, ow, half, 1, 1, 0, 1);
    r.add(n + "_d_b2pw1", c, h, w, half, 1, 1, 0, 1);
    r.add(n + "_d_b2dw", half, h, w, half, 3, 2, 1, half);
    r.add(n + "_d_b2pw2", half, oh, ow, half, 1, 1, 0, 1);
    r.add(n + "_u1_pw1", half, oh, ow, half, 1, 1, 0, 1);
    r.add(n + "_u1_dw", half, oh, ow, half, 3, 1, 1, half);
    r.add(n + "_u1_pw2", half, oh, ow, half, 1, 1, 0, 1);
    c = out;
    h = oh;
    w = ow;
  };
  stage("s2", 32);
  stage("s3", 64);
  r.add("fc", c, 1, 1, 10, 1, 1, 0, 1);
  return r;
}

void expect_same(const Topology& t, const Ref& r) {
  ASSERT_EQ(t.layers.size(), r.layers.size()) << t.origin;
  for (size_t i = 0; i < r.layers.size(); ++i) {
    SCOPED_TRACE(t.origin + " layer " + r.layers[i].first);
    EXPECT_EQ(t.layers[i].name, r.layers[i].first);
    const LayerShape& e = r.layers[i].second;
    expect_shape(t.layers[i].shape, e.cin, e.h, e.w, e.cout, e.kh, e.kw, e.stride, e.pad, e.groups, e.kind);
  }
}

}  // namespace

TEST(Topology, ShippedEnosNetworksMatchTheSearchShapes) {
  expect_same(load_topology(kTopoDir + "enos-squeezenet-28x28.csv"), ref_squeezenet(1, 28, 28));
  expect_same(load_topology(kTopoDir + "enos-shufflenet-28x28.csv"), ref_shufflenet(1, 28, 28));
  expect_same(load_topology(kTopoDir + "enos-squeezenet-32x32.csv"), ref_squeezenet(3, 32, 32));
  expect_same(load_topology(kTopoDir + "enos-shufflenet-32x32.csv"), ref_shufflenet(3, 32, 32));
}

TEST(Topology, ShippedStandardNetworks) {
  // ResNet-18 at 224x224: 1.814 G MACs (the published 1.8 GFLOPs, counted as multiply-accumulates).
  const Topology r = load_topology(kTopoDir + "resnet18.csv");
  EXPECT_EQ(r.layers.size(), 21u);  // 17 3x3/7x7 convolutions, 3 downsampling 1x1, 1 FC
  EXPECT_EQ(r.layers.front().shape.out_h(), 112);
  EXPECT_EQ(r.layers.back().shape.kind, LayerKind::FullyConnected);
  EXPECT_EQ(topology_macs(r), 1814073344);
  EXPECT_GE(topology_macs(r), 1000000000);
  // MobileNet-v1 (width 1.0) at 224x224: 569 M MACs as published.
  const Topology m = load_topology(kTopoDir + "mobilenet-v1.csv");
  EXPECT_EQ(m.layers.size(), 28u);
  EXPECT_EQ(topology_macs(m), 568740352);
  int depthwise = 0;
  for (const auto& l : m.layers) depthwise += l.shape.groups == l.shape.cin && l.shape.groups > 1;
  EXPECT_EQ(depthwise, 13);
  // ResNet-50 (v1.5: stride on the 3x3) at 224x224: 53 convolutions + FC, 4.09 G MACs as published.
  const Topology r50 = load_topology(kTopoDir + "resnet50.csv");
  EXPECT_EQ(r50.layers.size(), 54u);
  EXPECT_EQ(topology_macs(r50), 4089184256);
  EXPECT_TRUE(r50.warnings.empty());
  // Every shipped file loads.
  EXPECT_GE(expect_all_load(kTopoDir, ".csv", [](const std::string& p) { load_topology(p); }), 7);
}

TEST(Assignment, ReadsAndApplies) {
  TempDir d;
  const Topology t = load_topology(kTopoDir + "enos-squeezenet-28x28.csv");
  const std::string p = d.write("a.csv",
                                "# per-layer choices\n"
                                "layer,op,mode,adc_bits,cim_rows\n"
                                "conv1, mac8, digital\n"
                                "fire2_sq, xnor, cim, 4, 32,\n"
                                "fire2_e3, bwn, CIM\n"
                                "fire3_e1, mf, cim, , 16\n"
                                "fc, adder, digital, ,\n");
  const auto a = load_assignment(p);
  ASSERT_EQ(a.size(), 5u);
  EXPECT_EQ(a[1].layer, "fire2_sq");
  EXPECT_EQ(a[1].op, Op::XNOR);
  EXPECT_EQ(a[1].mode, Mode::Cim);
  EXPECT_EQ(a[1].cim.adc_bits, 4);
  EXPECT_EQ(a[1].cim.rows, 32);
  EXPECT_EQ(a[1].row, 4);
  EXPECT_EQ(a[1].origin, p);
  EXPECT_EQ(a[2].cim.adc_bits, CimParams{}.adc_bits);  // defaults when not given
  EXPECT_EQ(a[2].cim.rows, CimParams{}.rows);
  EXPECT_EQ(a[3].cim.adc_bits, CimParams{}.adc_bits);
  EXPECT_EQ(a[3].cim.rows, 16);
  EXPECT_EQ(a[4].op, Op::ADDER);

  LayerChoice uniform;
  uniform.op = Op::MAC4;
  uniform.mode = Mode::Digital;
  const auto all = apply_assignment(t, a, uniform);
  ASSERT_EQ(all.size(), t.layers.size());
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].layer, t.layers[i].name);
  EXPECT_EQ(all[0].op, Op::MAC8);   // conv1: assigned
  EXPECT_EQ(all[1].op, Op::XNOR);   // fire2_sq: assigned
  EXPECT_EQ(all[2].op, Op::MAC4);   // fire2_e1: uniform
  EXPECT_EQ(all[2].mode, Mode::Digital);
  EXPECT_EQ(all[3].op, Op::BWN);
  EXPECT_EQ(all.back().op, Op::ADDER);
  // No assignment: every layer uniform.
  for (const auto& c : apply_assignment(t, {}, uniform)) EXPECT_EQ(c.op, Op::MAC4);
}

TEST(Assignment, BadInputNamesFileRowAndField) {
  const std::vector<BadCase> cases = {
      {"unknown op", "conv1, mac16, digital\n", {"row 1", "'op'", "mac16"}},
      {"unknown mode", "layer,op,mode\nconv1, mac8, analog\n", {"row 2", "'mode'", "analog"}},
      {"cim unsupported", "conv1, mac8, cim\n", {"row 1", "'mode'", "mac8", "CIM"}},
      {"adc bits range", "conv1, xnor, cim, 17\n", {"row 1", "'adc_bits'", "limit"}},
      {"adc bits text", "conv1, xnor, cim, five\n", {"row 1", "'adc_bits'", "not a number"}},
      {"cim rows zero", "conv1, xnor, cim, 5, 0\n", {"row 1", "'cim_rows'", ">= 1"}},
      {"cim params on digital", "conv1, mac8, digital, 5\n", {"row 1", "'adc_bits'", "digital"}},
      {"missing mode", "conv1, mac8\n", {"row 1", "missing field 'mode'"}},
      {"too many", "conv1, xnor, cim, 5, 64, 3\n", {"row 1", "6 fields"}},
      {"duplicate", "conv1, mac8, digital\nconv1, mac4, digital\n", {"row 2", "twice"}},
      {"empty", "# nothing\n", {"no assignments"}},
  };
  TempDir d;
  expect_bad_files(d, cases, ".csv", [](const std::string& p) { load_assignment(p); });
  // A layer the topology lacks: named with the assignment file and row, and the topology.
  const Topology t = load_topology(kTopoDir + "enos-squeezenet-28x28.csv");
  const std::string p = d.write("unknown.csv", "conv1, mac8, digital\nconv9, mac8, digital\n");
  const auto a = load_assignment(p);
  expect_error<ConfigError>([&] { apply_assignment(t, a, LayerChoice{}); }, {p, "row 2", "'conv9'", t.origin},
                            "unknown layer");
  LayerChoice bad;
  bad.op = Op::ADDER;
  bad.mode = Mode::Cim;
  expect_error<ConfigError>([&] { apply_assignment(t, {}, bad); }, {"adder", "CIM"}, "uniform cim adder");
}
