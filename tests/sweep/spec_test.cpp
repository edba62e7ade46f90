// Sweep specs: expansion, validation errors (file, line, key), merged table, Slurm script, per-point runner
// with a stand-in program (shell script) so no simulator runs here.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/sweep/backends.hpp"
#include "cimsim/sweep/results.hpp"
#include "cimsim/sweep/spec.hpp"

namespace fs = std::filesystem;
using namespace cimsim;
using namespace cimsim::sweep;

namespace {

const char* kSpec = R"(name: dse
command: run
options:
  level: lt
points:
  - block: arrays
    grid:
      array: [4x4, 8x8]
      seed: [1, 2]
  - block: extra
    options: {tech: "t.json"}
    list:
      - {array: 16x16, vcd: ~}
      - {array: 2x2, level: cycle, flag: true, gone: false}
naming: "{block}-{array}-s{seed}-{index}"
resources: {cpus: 2, mem: 3G, time: "01:00:00", partition: short, account: lab, max_parallel: 2}
metrics:
  cycles: /totals/cycles
  worst: {path: /v, reduce: max}
  label: /name
plots:
  - {file: c.png, x: array, y: cycles, kind: line, group: seed}
)";

std::string error_of(const std::string& text) {
  try {
    parse_spec(text, "s.yaml");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

fs::path temp_dir(const std::string& tag) {
  const fs::path d = fs::temp_directory_path() / ("cimsim_sweep_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(SweepSpec, ExpandsGridsAndListsInOrder) {
  const Spec s = parse_spec(kSpec, "s.yaml");
  ASSERT_EQ(s.points.size(), 6u);
  EXPECT_EQ(s.param_columns, (std::vector<std::string>{"array", "seed", "tech", "vcd", "level", "flag", "gone"}));
  // Grid: last axis fastest.
  EXPECT_EQ(s.points[0].name, "arrays-4x4-s1-000");
  EXPECT_EQ(s.points[1].name, "arrays-4x4-s2-001");
  EXPECT_EQ(s.points[2].name, "arrays-8x8-s1-002");
  EXPECT_EQ(s.points[4].name, "extra-16x16-s-004");
  EXPECT_EQ(s.points[0].args, (std::vector<std::string>{"run", "--report", "{dir}/report.json", "--level", "lt",
                                                        "--array", "4x4", "--seed", "1"}));
  // null -> bare option; true -> flag; false -> omitted; block options and later keys override.
  EXPECT_EQ(s.points[4].args, (std::vector<std::string>{"run", "--report", "{dir}/report.json", "--level", "lt",
                                                        "--tech", "t.json", "--array", "16x16", "--vcd"}));
  EXPECT_EQ(s.points[5].args, (std::vector<std::string>{"run", "--report", "{dir}/report.json", "--level", "cycle",
                                                        "--tech", "t.json", "--array", "2x2", "--flag"}));
  EXPECT_EQ(s.points[5].params[4].second, "cycle");
  EXPECT_EQ(s.points[0].expanded_args("/o/p")[2], "/o/p/report.json");
  std::set<std::string> fp;
  for (const auto& p : s.points) fp.insert(p.fingerprint);
  EXPECT_EQ(fp.size(), 6u);
  EXPECT_EQ(s.out, "sweeps/dse");
  EXPECT_EQ(s.resources.cpus, 2);
  EXPECT_EQ(s.metrics.size(), 3u);
  EXPECT_EQ(s.metrics[1].reduce, "max");
  EXPECT_EQ(s.plots[0].group, "seed");
  EXPECT_EQ(sha1_hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");  // FIPS 180 test vector
}

TEST(SweepSpec, DefaultNamesAreUniqueAndSafe) {
  const Spec s = parse_spec("name: x\ncommand: sample\npoints:\n  - grid: {adc-bits: [4, 5], vdd: 0.8}\n", "s.yaml");
  ASSERT_EQ(s.points.size(), 2u);
  EXPECT_EQ(s.points[0].name, "p000-adc-bits4-vdd0.8");
  EXPECT_EQ(s.points[0].args[1], "--out-dir");  // sample writes into the point folder
}

TEST(SweepSpec, ErrorsNameFileLineAndKey) {
  EXPECT_EQ(error_of("name: a\ncommand: run\npoints: [{grid: {seed: [1]}}]\nmetrix: {}\n"),
            "s.yaml:4: metrix: unknown key (allowed: command, description, metrics, name, naming, options, out, output, "
            "plots, points, resources)");
  const std::vector<std::pair<std::string, std::string>> cases = {  // spec text, expected part of the error
      {"name: a\ncommand: fly\npoints: [{grid: {seed: [1]}}]\n",
       "s.yaml:2: command: must be one of"},
      {"name: a\ncommand: run\n",
       "s.yaml:1: points: missing"},
      {"name: a\ncommand: run\npoints:\n  - grid: {seed: [1]}\n    list: [{seed: 2}]\n",
       "s.yaml:4: points[0]: needs exactly one of grid: or list:"},
      {"name: a\ncommand: run\npoints:\n - grid: {report: [a, b]}\n",
       "points[0].report: is set by the sweep"},
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [1]}\nmetrics: {c: totals/cycles}\n",
       "s.yaml:5: metrics.c: 'totals/cycles' is not a JSON pointer"},
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [1]}\nplots: [{file: a.png, x: seed, y: nope}]\n",
       "plots[0].y: 'nope' is not a column"},
      {"name: a\ncommand: run\nnaming: same\npoints:\n - grid: {seed: [1, 2]}\n",
       "s.yaml:3: naming: points 0 and 1 would share the folder 'same'"},
      {"name: a\ncommand: run\nnaming: '{sed}'\npoints:\n - grid: {seed: [1, 2]}\n",
       "naming: placeholder {sed}"},
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [1]}\nresources: {mem: lots}\n",
       "s.yaml:5: resources.mem: must be a size"},
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [1]}\nresources: {cpus: 0}\n",
       "resources.cpus: must be an integer in 1..4096"},
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [[1, 2]]}\n",
       "points[0].grid.seed"},
      {"name: a\n command: [\n",
       "s.yaml:2: malformed YAML"},
      {"- 1\n- 2\n",
       "must be a YAML mapping"},
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [1]}\noutput: {drop: [../x]}\n",
       "s.yaml:5: output.drop: must be a plain file name"},
      {"name: a\ncommand: sample\npoints:\n - grid: {seed: [1]}\noutput: {drop: [report.json]}\n",
       "output.drop: would delete the report"},
      // Issue 24: a report named like the sweep's own files made every point rerun forever.
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [1]}\noutput: {report: point.json}\n",
       "s.yaml:5: output.report: 'point.json' is reserved"},
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [1]}\noutput: {report: ./stderr.log}\n",
       "output.report: './stderr.log' is reserved"},
      // A second document was ignored.
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [1]}\n---\nname: b\n",
       "second YAML document"},
      // The 100,000-point limit was per block: 400 blocks of 75,000 points were 30 M points.
      {"name: a\ncommand: run\npoints:\n - grid: {seed: [1, 2]}\n - grid: {a: &v [0,1,2,3,4,5,6,7,8,9], b: *v, "
       "c: *v, d: *v, e: *v}\n",
       "s.yaml:5: points[1].grid: brings the sweep to more than 100000 points in total (2 before this block)"},
      {"name: a\ncommand: run\npoints:\n - grid: {a: &v [0,1,2,3,4,5,6,7,8,9], b: *v, c: *v, d: *v, e: *v, f: *v}\n",
       "points[0].grid: expands to more than 100000 points"},
  };
  for (const auto& [text, want] : cases) EXPECT_NE(error_of(text).find(want), std::string::npos) << text;
  EXPECT_THROW(load_spec("/nonexistent/spec.yaml"), IoError);
}

TEST(SweepMerge, CsvCellsReduceAndEscape) {
  const Spec s = parse_spec(kSpec, "s.yaml");
  std::vector<PointStatus> st(s.points.size());
  st[0].state = State::Done;
  st[0].report = nlohmann::json::parse(R"({"totals": {"cycles": 1234}, "v": [1, 3.5, 2], "name": "a,\"b\""})");
  st[1].state = State::Failed;
  const std::string csv = merged_csv(s, st);
  const std::string head = "index,point,block,array,seed,tech,vcd,level,flag,gone,status,cycles,worst,label\n";
  EXPECT_EQ(csv.substr(0, head.size()), head);
  EXPECT_NE(csv.find("\n0,arrays-4x4-s1-000,arrays,4x4,1,,,lt,,,done,1234,3.5,\"a,\"\"b\"\"\"\n"), std::string::npos);
  EXPECT_NE(csv.find("\n1,arrays-4x4-s2-001,arrays,4x4,2,,,lt,,,failed,,,\n"), std::string::npos);
  EXPECT_NE(csv.find("\n5,extra-2x2-s-005,extra,2x2,,t.json,,cycle,true,false,pending,,,\n"), std::string::npos);
  EXPECT_EQ(csv, merged_csv(s, st));
  Metric m{"m", "/v", "mean"};
  EXPECT_EQ(metric_cell(st[0].report, m), "2.1666666666666665");
  m.reduce = "count";
  EXPECT_EQ(metric_cell(st[0].report, m), "3");
  m = {"m", "/missing/0", ""};
  EXPECT_EQ(metric_cell(st[0].report, m), "");
}

TEST(SweepSlurm, ScriptHasArrayResourcesAndRunner) {
  const Spec s = parse_spec(kSpec, "s.yaml");
  EXPECT_EQ(array_ranges({0, 1, 2, 3, 5, 7, 8}), "0-3,5,7-8");
  Context c{"/opt/cimsim", "/w/s.yaml", "/w/out", "/w"};
  const std::string sc = sbatch_script(s, c, {0, 1, 2, 3});
  for (const char* line : {"#SBATCH --array=0-3%2\n", "#SBATCH --cpus-per-task=2\n", "#SBATCH --mem=3G\n",
                           "#SBATCH --time=01:00:00\n", "#SBATCH --partition=short\n", "#SBATCH --account=lab\n",
                           "#SBATCH --chdir=/w\n", "#SBATCH --output=/w/out/slurm/logs/%A_%a.out\n",
                           "exec '/opt/cimsim' sweep '/w/s.yaml' --out '/w/out' --point \"$SLURM_ARRAY_TASK_ID\"\n"})
    EXPECT_NE(sc.find(line), std::string::npos) << line;
  EXPECT_EQ(runner_argv(c, 3), (std::vector<std::string>{"/opt/cimsim", "sweep", "/w/s.yaml", "--out", "/w/out",
                                                         "--point", "3"}));
}

// The per-point runner with a stand-in program: writes {"totals":{"cycles":<seed>}} to the --report path, counts
// its runs, and fails with a message for seed 13.
TEST(SweepRunner, DoneFailedForeignAndCorruptReports) {
  const fs::path d = temp_dir("runner");
  const std::string exe = (d / "fake.sh").string();
  std::ofstream(exe) << "#!/bin/sh\n"
                        "echo run >> " << (d / "count").string() << "\n"
                        "[ \"$7\" = 13 ] && { echo 'bad seed 13' >&2; exit 2; }\n"
                        "printf '{\"totals\": {\"cycles\": %s}}\\n' \"$7\" > \"$3\"\n"
                        "echo big > \"$(dirname \"$3\")/big.txt\"\n";
  fs::permissions(exe, fs::perms::owner_all);
  const Spec s = parse_spec("name: r\ncommand: run\npoints:\n  - grid: {array: 4x4, seed: [1, 13, 2]}\n"
                            "metrics: {cycles: /totals/cycles}\noutput: {drop: [big.txt]}\n", "s.yaml");
  const std::string out = (d / "out").string();
  auto runs = [&] { return std::count(std::istreambuf_iterator<char>(*std::make_unique<std::ifstream>(d / "count")),
                                      std::istreambuf_iterator<char>(), '\n'); };
  EXPECT_EQ(run_point(s, out, s.points[0], exe), 0);
  EXPECT_EQ(read_status(s, out, s.points[0]).state, State::Done);
  EXPECT_EQ(read_status(s, out, s.points[0]).report["totals"]["cycles"], 1);
  EXPECT_FALSE(fs::exists(point_dir(out, s.points[0]) + "/big.txt"));  // output.drop
  EXPECT_TRUE(fs::exists(point_dir(out, s.points[0]) + "/stdout.log"));
  EXPECT_EQ(run_point(s, out, s.points[0], exe), 0);  // done: not rerun
  EXPECT_EQ(runs(), 1);
  EXPECT_EQ(run_point(s, out, s.points[1], exe), 1);
  const PointStatus f = read_status(s, out, s.points[1]);
  EXPECT_EQ(f.state, State::Failed);
  EXPECT_EQ(f.error, "exit status 2: bad seed 13");
  EXPECT_EQ(todo_points(s, out), (std::vector<size_t>{1, 2}));
  // Corrupt report: pending again, rerun.
  const std::string rep0 = point_dir(out, s.points[0]) + "/report.json";
  atomic_write(rep0, "{\"totals\": {\"cycles\": 999}}\n");
  EXPECT_EQ(read_status(s, out, s.points[0]).state, State::Pending);
  EXPECT_NE(read_status(s, out, s.points[0]).error.find("checksum"), std::string::npos);
  EXPECT_EQ(run_point(s, out, s.points[0], exe), 0);
  EXPECT_EQ(runs(), 3);
  EXPECT_EQ(read_status(s, out, s.points[0]).report["totals"]["cycles"], 1);
  // Foreign point folder (another point's record and report copied in): rerun, not merged.
  EXPECT_EQ(run_point(s, out, s.points[2], exe), 0);
  fs::copy(point_dir(out, s.points[2]), point_dir(out, s.points[0]),
           fs::copy_options::overwrite_existing | fs::copy_options::recursive);
  EXPECT_EQ(read_status(s, out, s.points[0]).state, State::Pending);
  const Collected col = collect(s, out);
  EXPECT_EQ(col.done, 1u);
  EXPECT_EQ(col.failed, 1u);
  EXPECT_EQ(col.pending, 1u);
  const std::string csv = read_file(out + "/merged.csv");
  EXPECT_EQ(csv,
            "index,point,block,array,seed,status,cycles\n"
            "0,p000-array4x4-seed1,0,4x4,1,pending,\n"
            "1,p001-array4x4-seed13,0,4x4,13,failed,\n"
            "2,p002-array4x4-seed2,0,4x4,2,done,2\n");
  const auto sum = load_json_or_yaml(out + "/summary.json");
  EXPECT_EQ(sum["results"][1]["error"], "exit status 2: bad seed 13");
  fs::remove_all(d);
}

TEST(SweepMerge, ParetoFrontByHand) {
  // (energy, accuracy): lower energy and higher accuracy are better. Dominated: (3, 0.5) by (2, 0.6),
  // (4, 0.7) by (4, 0.8); the duplicate (1, 0.4) pair stays (neither dominates the other).
  const std::vector<std::pair<double, double>> xy = {{3, 0.5}, {1, 0.4}, {2, 0.6}, {4, 0.7}, {4, 0.8}, {1, 0.4}};
  EXPECT_EQ(pareto_front(xy, true, false), (std::vector<size_t>{1, 5, 2, 4}));
  // Both minimised: only the (1, 0.4) points.
  EXPECT_EQ(pareto_front(xy, true, true), (std::vector<size_t>{1, 5}));
  EXPECT_TRUE(pareto_front({}, true, true).empty());
}
