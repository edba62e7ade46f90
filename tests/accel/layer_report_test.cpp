// Per-layer reports: CSV golden text, atomic writes, the gnuplot plot and the progress line.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "cimsim/accel/layer_report.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "workload_test_util.hpp"

using namespace cimsim;
using namespace cimsim::accel;
using cimsim_test::expect_error;
using cimsim_test::TempDir;
namespace fs = std::filesystem;

namespace {

std::vector<LayerReportRow> two_rows() {
  LayerReportRow a;
  a.name = "conv1";
  a.kind = "conv2d";
  a.op = "mac8";
  a.mode = "digital";
  a.macs = 1000;
  a.cycles = 250;
  a.utilisation = 0.25;
  a.dram_bytes = 4096;
  a.weight_buffer_read = 10;
  a.weight_buffer_write = 20;
  a.act_buffer_read = 30;
  a.act_buffer_write = 40;
  a.energy_pj = {{"compute", 1.5}, {"dram", 100.25}, {"zeta", 0.000001}};
  a.system_pj = 101.750001;
  a.operator_pj = 1.5;
  LayerReportRow b;
  b.name = "pool, \"1\"";
  b.kind = "maxpool";
  b.op = "";
  b.mode = "vector";
  b.cycles = 750;
  b.utilisation = 0;
  b.act_buffer_read = 5;
  b.energy_pj = {{"vector", 2.0}, {"adc", 0.5}};
  b.system_pj = 2.5;
  b.operator_pj = 0.5;
  return {a, b};
}

// Hand-written expectation: fixed components first in report order (adc before vector before dram), others
// alphabetically; missing components 0; total row sums, utilisation weighted by cycles (0.25 x 250 / 1000).
const char* const kGolden =
    "layer,kind,op,mode,macs,cycles,utilisation,dram_bytes,weight_buffer_read_bytes,weight_buffer_write_bytes,"
    "act_buffer_read_bytes,act_buffer_write_bytes,compute_pj,adc_pj,vector_pj,dram_pj,zeta_pj,system_pj,operator_pj\n"
    "conv1,conv2d,mac8,digital,1000,250,0.250000,4096,10,20,30,40,1.500000,0.000000,0.000000,100.250000,0.000001,"
    "101.750001,1.500000\n"
    "\"pool, \"\"1\"\"\",maxpool,,vector,0,750,0.000000,0,0,0,5,0,0.000000,0.500000,2.000000,0.000000,0.000000,"
    "2.500000,0.500000\n"
    "total,,,,1000,1000,0.062500,4096,10,20,35,40,1.500000,0.500000,2.000000,100.250000,0.000001,104.250001,"
    "2.000000\n";

bool have_gnuplot() { return std::system("gnuplot --version > /dev/null 2>&1") == 0; }

}  // namespace

TEST(LayerReport, ComponentOrder) {
  const auto rows = two_rows();
  EXPECT_EQ(report_components(rows), (std::vector<std::string>{"compute", "adc", "vector", "dram", "zeta"}));
  EXPECT_TRUE(report_components({}).empty());
}

TEST(LayerReport, CsvGolden) { EXPECT_EQ(layer_report_csv(two_rows()), kGolden); }

TEST(LayerReport, CsvWrittenAtomicallyAndErrorsNameThePath) {
  TempDir d;
  const std::string p = (d.path / "sub" / "layers.csv").string();
  write_layer_report_csv(p, two_rows());
  EXPECT_EQ(read_file(p), kGolden);
  int files = 0;
  for (const auto& e : fs::directory_iterator(d.path / "sub")) files += e.is_regular_file();
  EXPECT_EQ(files, 1);  // no temporaries left behind
  // A path under a regular file cannot be created, whoever runs the test.
  const std::string blocker = d.write("file", "x");
  const std::string bad = blocker + "/layers.csv";
  expect_error<IoError>([&] { write_layer_report_csv(bad, two_rows()); }, {blocker}, "unwritable csv");
}

TEST(LayerReport, PlotIsAPng) {
  if (!have_gnuplot()) GTEST_SKIP() << "gnuplot not installed";
  TempDir d;
  std::vector<LayerReportRow> rows = two_rows();
  for (int i = 0; i < 20; ++i) {  // enough layers to need rotated labels
    LayerReportRow r = rows[0];
    r.name = "layer_" + std::to_string(i);
    r.energy_pj["compute"] = 10.0 * i;
    rows.push_back(r);
  }
  const std::string p = (d.path / "plots" / "energy.png").string();
  plot_layer_energy(p, rows, "test 'quoted' title");
  const std::string png = read_file(p);
  ASSERT_GT(png.size(), 1000u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  int files = 0;
  for (const auto& e : fs::directory_iterator(d.path / "plots")) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
  if (const char* keep = std::getenv("CIMSIM_KEEP_PLOT")) fs::copy_file(p, keep, fs::copy_options::overwrite_existing);
}

TEST(LayerReport, PlotErrors) {
  TempDir d;
  const std::string blocker = d.write("file", "x");
  if (have_gnuplot())
    expect_error<IoError>([&] { plot_layer_energy(blocker + "/e.png", two_rows(), "t"); }, {blocker}, "unwritable png");
  expect_error<IoError>([&] { plot_layer_energy((d.path / "e.png").string(), {}, "t"); }, {"e.png", "no layers"},
                        "no rows");
  // gnuplot missing: an IoError that says so, nothing written.
  ::setenv("PATH", d.path.c_str(), 1);
  expect_error<IoError>([&] { plot_layer_energy((d.path / "e.png").string(), two_rows(), "t"); },
                        {"e.png", "gnuplot"}, "no gnuplot");
  EXPECT_FALSE(fs::exists(d.path / "e.png"));
}

TEST(LayerReport, ProgressLine) {
  ::setenv("CIMSIM_PROGRESS", "1", 1);
  testing::internal::CaptureStderr();
  {
    ProgressLine p("layers", 4, 0.0);
    p.update(2);
    p.done();
  }
  const std::string shown = testing::internal::GetCapturedStderr();
  EXPECT_NE(shown.find("layers  2/4  50%"), std::string::npos) << shown;
  EXPECT_NE(shown.find("layers  4/4  100%"), std::string::npos) << shown;
  EXPECT_EQ(shown.back(), '\n');

  testing::internal::CaptureStderr();
  {
    ProgressLine p("layers", 4, 3600.0);  // a short run: nothing shown
    p.update(2);
    p.done();
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");

  ::setenv("CIMSIM_PROGRESS", "0", 1);
  testing::internal::CaptureStderr();
  {
    ProgressLine p("layers", 4, 0.0);
    p.update(2);
    p.done();
  }
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
}
