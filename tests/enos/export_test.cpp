// ENOS export: save -> load round trip, and every kind of bad input gives a ConfigError naming the problem.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <string>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/rng.hpp"
#include "cimsim/enos/export.hpp"
#include "cimsim/enos/synthetic.hpp"

using cimsim::ConfigError;
using nlohmann::json;
namespace enos = cimsim::enos;
namespace fs = std::filesystem;

namespace {

std::string tmp_path(const std::string& leaf) {
  const fs::path d = fs::temp_directory_path() / ("cimsim-enos-test-" + std::to_string(::getpid()));
  fs::create_directories(d);
  return (d / leaf).string();
}

enos::NetworkExport synthetic() { return enos::make_synthetic_export(7, cimsim::EnergyTable::load_default()); }

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
}

// Loads a document written to a file and returns the ConfigError message ("" if it loaded).
std::string load_error(const json& j, const std::string& leaf = "bad.json") {
  const std::string p = tmp_path(leaf);
  write_text(p, j.dump());
  try {
    enos::load_export(p);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

json valid_json() { return enos::export_to_json(synthetic()); }

json& node_named(json& j, const std::string& name) {
  for (auto& n : j["nodes"])
    if (n["name"] == name) return n;
  throw std::logic_error("no node " + name);
}

}  // namespace

TEST(EnosExport, RoundTripIsIdentical) {
  const auto a = synthetic();
  ASSERT_EQ(a.check(), "");
  const std::string p = tmp_path("rt.json");
  enos::save_export(p, a);
  const auto b = enos::load_export(p);
  EXPECT_EQ(b.version, a.version);
  EXPECT_EQ(b.network, a.network);
  EXPECT_EQ(b.dataset, a.dataset);
  EXPECT_EQ(b.classes, a.classes);
  EXPECT_EQ(b.output, a.output);
  EXPECT_EQ(b.input.name, a.input.name);
  EXPECT_EQ(b.input.scale, a.input.scale);  // bit-exact double round trip
  EXPECT_EQ(b.array.rows, a.array.rows);
  EXPECT_EQ(b.array.cim_rows, a.array.cim_rows);
  EXPECT_EQ(b.array.weight_buffer_bytes, a.array.weight_buffer_bytes);
  EXPECT_EQ(b.array.adc_cycles_per_bit, a.array.adc_cycles_per_bit);
  EXPECT_EQ(b.meta, a.meta);
  ASSERT_EQ(b.tensors.size(), a.tensors.size());
  for (size_t i = 0; i < a.tensors.size(); ++i) {
    EXPECT_EQ(b.tensors[i].name, a.tensors[i].name);
    EXPECT_EQ(b.tensors[i].c, a.tensors[i].c);
    EXPECT_EQ(b.tensors[i].h, a.tensors[i].h);
    EXPECT_EQ(b.tensors[i].w, a.tensors[i].w);
    EXPECT_EQ(b.tensors[i].scale, a.tensors[i].scale);
  }
  ASSERT_EQ(b.nodes.size(), a.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    const auto& x = a.nodes[i];
    const auto& y = b.nodes[i];
    SCOPED_TRACE(x.name);
    EXPECT_EQ(y.name, x.name);
    EXPECT_EQ(y.kind, x.kind);
    EXPECT_EQ(y.inputs, x.inputs);
    EXPECT_EQ(y.output, x.output);
    EXPECT_EQ(y.kernel, x.kernel);
    EXPECT_EQ(y.stride, x.stride);
    EXPECT_EQ(y.pad, x.pad);
    EXPECT_EQ(y.groups, x.groups);
    EXPECT_EQ(y.begin, x.begin);
    EXPECT_EQ(y.end, x.end);
    EXPECT_EQ(y.in_mult, x.in_mult);
    EXPECT_EQ(y.in_shift, x.in_shift);
    EXPECT_EQ(y.relu, x.relu);
    EXPECT_EQ(y.predicted_energy_pj, x.predicted_energy_pj);
    if (x.kind != enos::NodeKind::Accel) continue;
    const auto& p = x.layer;
    const auto& q = y.layer;
    EXPECT_EQ(q.shape.kind, p.shape.kind);
    EXPECT_EQ(q.shape.cin, p.shape.cin);
    EXPECT_EQ(q.shape.h, p.shape.h);
    EXPECT_EQ(q.shape.w, p.shape.w);
    EXPECT_EQ(q.shape.cout, p.shape.cout);
    EXPECT_EQ(q.shape.kh, p.shape.kh);
    EXPECT_EQ(q.shape.kw, p.shape.kw);
    EXPECT_EQ(q.shape.stride, p.shape.stride);
    EXPECT_EQ(q.shape.pad, p.shape.pad);
    EXPECT_EQ(q.shape.groups, p.shape.groups);
    EXPECT_EQ(q.op, p.op);
    EXPECT_EQ(q.mode, p.mode);
    EXPECT_EQ(q.cim.rows, p.cim.rows);
    EXPECT_EQ(q.cim.adc_bits, p.cim.adc_bits);
    EXPECT_EQ(q.cim.adc_range, p.cim.adc_range);
    EXPECT_EQ(q.cim.noise_lsb, p.cim.noise_lsb);
    EXPECT_EQ(q.cim.gain_sigma, p.cim.gain_sigma);
    EXPECT_EQ(q.cim.seed, p.cim.seed);
    EXPECT_EQ(q.weights, p.weights);
    EXPECT_EQ(q.rq.mult, p.rq.mult);
    EXPECT_EQ(q.rq.shift, p.rq.shift);
    EXPECT_EQ(q.rq.bias, p.rq.bias);
    EXPECT_EQ(q.rq.relu, p.rq.relu);
  }
  // Saving the loaded export again gives the same bytes.
  const std::string p2 = tmp_path("rt2.json");
  enos::save_export(p2, b);
  std::ifstream f1(p), f2(p2);
  const std::string s1((std::istreambuf_iterator<char>(f1)), {}), s2((std::istreambuf_iterator<char>(f2)), {});
  EXPECT_EQ(s1, s2);
}

TEST(EnosExport, SynthethicExportCoversEveryKindAndOperator) {
  const auto e = synthetic();
  std::set<enos::NodeKind> kinds;
  std::set<int> ops;
  bool cim = false, digital = false;
  for (const auto& n : e.nodes) {
    kinds.insert(n.kind);
    if (n.kind == enos::NodeKind::Accel) {
      ops.insert(static_cast<int>(n.layer.op));
      (n.layer.mode == cimsim::accel::Mode::Cim ? cim : digital) = true;
    }
  }
  EXPECT_EQ(kinds.size(), 9u);
  EXPECT_EQ(ops.size(), 7u);
  EXPECT_TRUE(cim && digital);
}

TEST(EnosExport, MissingFileIsIoError) {
  EXPECT_THROW(enos::load_export(tmp_path("does-not-exist.json")), cimsim::IoError);
}

TEST(EnosExport, CorruptJson) {
  const std::string p = tmp_path("corrupt.json");
  std::string text = valid_json().dump();
  text.resize(text.size() / 2);  // truncated file
  write_text(p, text);
  try {
    enos::load_export(p);
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("corrupt.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  }
}

TEST(EnosExport, BadVersion) {
  json j = valid_json();
  j["version"] = 3;
  const std::string m = load_error(j, "v3.json");
  EXPECT_NE(m.find("v3.json"), std::string::npos) << m;
  EXPECT_NE(m.find("unsupported export version 3"), std::string::npos) << m;
  j["version"] = 0;
  EXPECT_NE(load_error(j).find("unsupported export version 0"), std::string::npos) << load_error(j);
  j["version"] = (int64_t{1} << 32) + 1;  // must not wrap around to 1
  EXPECT_NE(load_error(j).find("unsupported export version 4294967297"), std::string::npos) << load_error(j);
  j.erase("version");
  EXPECT_NE(load_error(j).find("missing field 'version'"), std::string::npos);
  j["version"] = "1";
  EXPECT_NE(load_error(j).find("'version' must be an integer"), std::string::npos);
}

// Version 1 carried an int32 bias in accumulator units added before the multiply: ((acc + b) * m + r) >> s.
// It loads with that meaning, as the version-2 bias b * m (acc * m + b * m + r) >> s, exactly.
TEST(EnosExport, Version1BiasLoadsWithItsOldMeaning) {
  json j = valid_json();
  ASSERT_EQ(j["version"], 2);
  j["version"] = 1;
  json& L = node_named(j, "conv1")["layer"]["requant"];
  const size_t co = L["mult"].size();
  ASSERT_GE(co, 2u);
  std::vector<int64_t> b1(co);
  for (size_t i = 0; i < co; ++i) b1[i] = static_cast<int64_t>(i % 2 ? 1 : -1) * (5 + static_cast<int64_t>(i));
  b1[0] = INT32_MIN;
  L["bias"] = b1;
  L["mult"][0] = INT32_MAX;
  const std::string p = tmp_path("v1.json");
  write_text(p, j.dump());
  const auto e = enos::load_export(p);
  EXPECT_EQ(e.version, 2);
  for (const auto& n : e.nodes)
    if (n.name == "conv1") {
      for (size_t i = 0; i < co; ++i) EXPECT_EQ(n.layer.rq.bias[i], b1[i] * n.layer.rq.mult[i]) << i;
      EXPECT_EQ(n.layer.rq.bias[0], int64_t{INT32_MIN} * INT32_MAX);
    }
  // A version-1 bias must still fit 32 bits.
  L["bias"][1] = int64_t{1} << 31;
  EXPECT_NE(load_error(j).find("'bias[1]' = 2147483648 does not fit 32 bits"), std::string::npos) << load_error(j);
}

TEST(EnosExport, Version2BiasIsInt64) {
  json j = valid_json();
  json& L = node_named(j, "conv1")["layer"]["requant"];
  L["bias"][0] = std::numeric_limits<int64_t>::min();
  L["bias"][1] = std::numeric_limits<int64_t>::max();
  const std::string p = tmp_path("v2big.json");
  write_text(p, j.dump());
  const auto e = enos::load_export(p);
  for (const auto& n : e.nodes)
    if (n.name == "conv1") {
      EXPECT_EQ(n.layer.rq.bias[0], std::numeric_limits<int64_t>::min());
      EXPECT_EQ(n.layer.rq.bias[1], std::numeric_limits<int64_t>::max());
    }
  L["bias"][1] = std::numeric_limits<uint64_t>::max();
  EXPECT_NE(load_error(j).find("'bias[1]' = 18446744073709551615 does not fit 64 bits"), std::string::npos)
      << load_error(j);
  L["bias"][1] = 1.5;
  EXPECT_NE(load_error(j).find("'bias[1]' must be an integer"), std::string::npos) << load_error(j);
}

TEST(EnosExport, UnknownOperatorAndMode) {
  json j = valid_json();
  node_named(j, "conv1")["layer"]["op"] = "mac16";
  std::string m = load_error(j);
  EXPECT_NE(m.find("node 'conv1'"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown operator 'mac16'"), std::string::npos) << m;
  j = valid_json();
  node_named(j, "conv1")["layer"]["mode"] = "analog";
  m = load_error(j);
  EXPECT_NE(m.find("unknown mode 'analog'"), std::string::npos) << m;
}

TEST(EnosExport, UnknownNodeKind) {
  json j = valid_json();
  node_named(j, "pool1")["kind"] = "lstm";
  const std::string m = load_error(j);
  EXPECT_NE(m.find("node 'pool1'"), std::string::npos) << m;
  EXPECT_NE(m.find("unknown node kind 'lstm'"), std::string::npos) << m;
}

TEST(EnosExport, ShapeMismatch) {
  json j = valid_json();
  node_named(j, "conv2a")["layer"]["h"] = 28;  // its input p1a is 4x14x14
  const std::string m = load_error(j);
  EXPECT_NE(m.find("node 'conv2a'"), std::string::npos) << m;
  EXPECT_NE(m.find("is 4x14x14 but the layer expects 4x28x14"), std::string::npos) << m;
  // A declared output shape that the node does not produce.
  j = valid_json();
  for (auto& t : j["tensors"])
    if (t["name"] == "p1") t["h"] = 13;
  const std::string m2 = load_error(j);
  EXPECT_NE(m2.find("output tensor 'p1' is declared 8x13x14 but the node produces 8x14x14"), std::string::npos) << m2;
}

TEST(EnosExport, TruncatedAndOversizedWeights) {
  json j = valid_json();
  auto& w = node_named(j, "conv3")["layer"]["weights"];
  std::string d = w["data"];
  w["data"] = d.substr(0, d.size() - 8);  // 6 bytes short, still valid base64
  std::string m = load_error(j);
  EXPECT_NE(m.find("node 'conv3'"), std::string::npos) << m;
  EXPECT_NE(m.find("truncated weights"), std::string::npos) << m;
  w["data"] = d + "AAAA";
  m = load_error(j);
  EXPECT_NE(m.find("oversized weights"), std::string::npos) << m;
  w["data"] = d.substr(0, d.size() - 5);  // not base64
  m = load_error(j);
  EXPECT_NE(m.find("not valid base64"), std::string::npos) << m;
}

TEST(EnosExport, CorruptedWeightsChecksum) {
  json j = valid_json();
  auto& w = node_named(j, "conv1")["layer"]["weights"];
  std::string d = w["data"];
  d[0] = d[0] == 'A' ? 'B' : 'A';
  w["data"] = d;
  const std::string m = load_error(j);
  EXPECT_NE(m.find("node 'conv1'"), std::string::npos) << m;
  EXPECT_NE(m.find("checksum mismatch"), std::string::npos) << m;
}

TEST(EnosExport, InvalidWeightCode) {
  // An 8-bit code of -128 (0x80) is not a valid MAC8 weight: rewrite the first byte and drop the checksum.
  json j = valid_json();
  auto& w = node_named(j, "conv1")["layer"]["weights"];
  std::string d = w["data"];
  d[0] = 'g';  // 'g' = 32 -> first byte 100000xx = 0x80 | ...
  d[1] = 'A';  // low bits 0 -> first byte exactly 0x80
  w["data"] = d;
  w.erase("fnv1a64");
  const std::string m = load_error(j);
  EXPECT_NE(m.find("node 'conv1'"), std::string::npos) << m;
  EXPECT_NE(m.find("invalid weight value"), std::string::npos) << m;
}

TEST(EnosExport, OutOfRangeWeightValueRefusedOnSave) {
  auto e = synthetic();
  for (auto& n : e.nodes)
    if (n.name == "conv3") n.layer.weights[5] = 9;  // MAC4 weights are in [-7, 7]
  const std::string c = e.check();
  EXPECT_NE(c.find("node 'conv3'"), std::string::npos) << c;
  EXPECT_NE(c.find("weight[5] = 9"), std::string::npos) << c;
  const std::string p = tmp_path("never.json");
  EXPECT_THROW(enos::save_export(p, e), ConfigError);
  EXPECT_FALSE(fs::exists(p));
}

TEST(EnosExport, DanglingAndNonTopological) {
  json j = valid_json();
  node_named(j, "conv2b")["inputs"] = json::array({"nowhere"});
  std::string m = load_error(j);
  EXPECT_NE(m.find("node 'conv2b'"), std::string::npos) << m;
  EXPECT_NE(m.find("dangling"), std::string::npos) << m;
  // Move pool1 after split_a: split_a consumes p1 before it is produced.
  j = valid_json();
  std::swap(j["nodes"][1], j["nodes"][2]);
  m = load_error(j);
  EXPECT_NE(m.find("node 'split_a'"), std::string::npos) << m;
  EXPECT_NE(m.find("produced later by node 'pool1'"), std::string::npos) << m;
  j = valid_json();
  j["output"] = "nothing";
  EXPECT_NE(load_error(j).find("output tensor 'nothing'"), std::string::npos);
}

TEST(EnosExport, RequantSizes) {
  json j = valid_json();
  node_named(j, "conv1")["layer"]["requant"]["mult"].erase(0);
  const std::string m = load_error(j);
  EXPECT_NE(m.find("node 'conv1'"), std::string::npos) << m;
  EXPECT_NE(m.find("requant mult/shift/bias have 7/8/8 values"), std::string::npos) << m;
}

TEST(EnosExport, CimUnsupportedOperator) {
  json j = valid_json();
  node_named(j, "conv1")["layer"]["mode"] = "cim";  // MAC8 has no CIM mode
  const std::string m = load_error(j);
  EXPECT_NE(m.find("node 'conv1'"), std::string::npos) << m;
  EXPECT_NE(m.find("not supported in CIM mode"), std::string::npos) << m;
}

TEST(EnosExport, NaNAndBadScales) {
  auto e = synthetic();
  e.tensors[0].scale = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(e.check().find("scale must be finite and > 0"), std::string::npos) << e.check();
  json j = valid_json();
  j["input"]["scale"] = nullptr;  // what a JSON writer makes of NaN
  EXPECT_NE(load_error(j).find("'scale' must be a number"), std::string::npos) << load_error(j);
  j = valid_json();
  j["tensors"][0]["scale"] = -1.0;
  EXPECT_NE(load_error(j).find("scale must be finite and > 0"), std::string::npos);
}

TEST(EnosExport, HostNodeParameters) {
  json j = valid_json();
  node_named(j, "shuffle2")["groups"] = 3;  // 8 channels
  EXPECT_NE(load_error(j).find("groups = 3 does not divide the 8 channels"), std::string::npos) << load_error(j);
  j = valid_json();
  node_named(j, "concat2")["in_shift"] = json::array({0});
  EXPECT_NE(load_error(j).find("in_mult/in_shift have 2/1 values for 2 inputs"), std::string::npos);
  j = valid_json();
  node_named(j, "split_b")["end"] = 9;
  EXPECT_NE(load_error(j).find("node 'split_b'"), std::string::npos);
}

TEST(EnosExport, MutatedFilesGiveConfigErrorsOnly) {
  // Seeded single-character mutations of a valid file: each either loads or throws ConfigError (never another
  // exception type, never a crash).
  const std::string text = valid_json().dump();
  const std::string alphabet = "{}[]\",:0123456789-.eE+ abcxyzAZ=/nulltrue";
  cimsim::SplitMix64 rng(2024);
  const std::string p = tmp_path("mut.json");
  int loaded = 0, refused = 0;
  for (int i = 0; i < 300; ++i) {
    std::string t = text;
    const int edits = 1 + static_cast<int>(rng.below(3));
    for (int k = 0; k < edits; ++k) t[rng.below(t.size())] = alphabet[rng.below(alphabet.size())];
    write_text(p, t);
    try {
      enos::load_export(p);
      ++loaded;
    } catch (const ConfigError& e) {
      ++refused;
      EXPECT_NE(std::string(e.what()).find("mut.json"), std::string::npos) << e.what();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "mutation " << i << " threw a non-ConfigError: " << e.what();
    }
  }
  EXPECT_GT(refused, 0);
  EXPECT_EQ(loaded + refused, 300);
}

TEST(EnosExport, HugeTensorsAreRefusedBeforeAnyAllocation) {
  // Issue 10: a 2^20 x 2^20 x 2^20 input (~1.2e18 elements) through a global average pool loaded without error.
  json j = valid_json();
  const int64_t big = int64_t{1} << 20;
  j["input"] = {{"name", "x"}, {"c", big}, {"h", big}, {"w", big}, {"scale", 1.0}};
  j["tensors"] = json::array({json{{"name", "g"}, {"c", big}, {"h", 1}, {"w", 1}, {"scale", 1.0}}});
  j["nodes"] = json::array({json{{"name", "gap"}, {"kind", "globalavgpool"}, {"inputs", {"x"}}, {"output", "g"}}});
  j["output"] = "g";
  j["classes"] = big;
  const std::string m = load_error(j, "huge.json");
  EXPECT_NE(m.find("huge.json"), std::string::npos) << m;
  EXPECT_NE(m.find("tensor 'x'"), std::string::npos) << m;
  EXPECT_NE(m.find("2147483647 elements"), std::string::npos) << m;
  // A flatten to 2^30 channels, beyond the 2^20 limit of a dimension.
  j["input"] = {{"name", "x"}, {"c", 1024}, {"h", 1024}, {"w", 1024}, {"scale", 1.0}};
  j["nodes"][0]["kind"] = "flatten";
  const std::string m2 = load_error(j, "huge.json");
  EXPECT_NE(m2.find("node 'gap'"), std::string::npos) << m2;
  EXPECT_NE(m2.find("more than 2^20 channels"), std::string::npos) << m2;
}
