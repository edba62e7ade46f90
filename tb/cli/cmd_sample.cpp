// `cimsim sample`: Metropolis-Hastings sampling of a GMM on the MC2RAM macro (LT or cycle level), with
// diagnostics, draws CSV, JSON report, PNG plots and an optional VCD trace.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cimsim/accel/headline.hpp"
#include "cimsim/core/energy_ledger.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/diag/diagnostics.hpp"
#include "cli/command_registry.hpp"
#include "cli/common.hpp"
#include "cli/common_traces.hpp"
#include "mc2ram/system.hpp"

namespace {

using namespace cimsim;
using namespace cimsim::mc2ram;

struct Options {
  std::string gmm_path;
  std::string level = "cycle";
  int chains = 4;
  uint32_t samples = 500;
  uint64_t seed = 1;
  std::string vcd;  // "" = off
  bool vcd_flag = false;
  std::string out_dir;
  std::vector<double> steps;  // one value: every dimension; D values: per dimension; none: default
  double tolerance = kDefaultCompileTolerance;
  bool allow_approx = false;
  int weight_bits = 8;
  bool fifo = false;
  bool no_plots = false;
  bool no_draws = false;
  Knobs knobs;
};

constexpr double kPaperCyclesPerSample = 4.0, kPaperPowerUw = 91.0;

// Progress on long runs (>= 200k draws): one stderr line per phase with the elapsed wall time.
struct Progress {
  bool on;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  void operator()(const std::string& what) const {
    if (!on) return;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "[sample %6.2f s] %s\n", s, what.c_str());
  }
};

int do_sample(const Options& o) {
  SampleJob job;
  const std::string src = o.gmm_path.empty() ? std::string("the default GMM") : o.gmm_path;
  if (o.gmm_path.empty()) {
    job.gmm = diag::Gmm::paper_default();
  } else {
    job.gmm = diag::Gmm::from_json(load_json_or_yaml(o.gmm_path), o.gmm_path);
  }
  if (o.steps.size() == 1) job.compile.step = o.steps[0];
  else job.compile.steps = o.steps;
  job.compile.tolerance = o.tolerance;
  job.compile.allow_approx = o.allow_approx;
  job.compile.weight_bits = o.weight_bits;
  job.knobs = o.knobs;
  job.chains = o.chains;
  job.samples = o.samples;
  job.seed = o.seed;
  job.use_dma = !o.fifo;
  if (o.level != "lt" && o.level != "cycle") throw ConfigError("--level must be lt or cycle, got " + o.level);
  const Level level = o.level == "lt" ? Level::LT : Level::Cycle;
  // Validate everything before elaborating (clear errors naming the GMM file, nothing written).
  job.knobs.validate();
  Compiled pre;
  try {
    pre = compile_gmm(job.gmm, job.compile, job.knobs);
  } catch (const ConfigError& e) {
    throw ConfigError(src + ": " + e.what());
  }
  for (const auto& w : pre.warnings) std::cerr << "warning: " << src << ": " << w << "\n";
  if (job.chains < 1 || job.chains > kMaxLanes) throw ConfigError("--chains must be 1..8");
  if (job.samples < 1) throw ConfigError("--samples must be >= 1");
  check_job_size(job);  // sized and refused before anything is allocated
  if (!o.out_dir.empty()) {  // fail before the simulation, not after it
    std::error_code ec;
    std::filesystem::create_directories(o.out_dir, ec);
    if (ec) throw IoError("cannot create --out-dir " + o.out_dir + ": " + ec.message());
    check_output_paths({{"--out-dir", o.out_dir + "/report.json"}});
    if (!o.no_draws) check_output_paths({{"--out-dir", o.out_dir + "/draws.csv"}});
    if (!o.no_plots)
      check_output_paths({{"--out-dir", o.out_dir + "/samples.png"}, {"--out-dir", o.out_dir + "/trace_acf.png"}});
  }
  const Progress progress{static_cast<double>(job.chains) * job.samples >= 2e5};
  progress("simulating " + std::to_string(job.chains) + " x " + std::to_string(job.samples) + " draws (" + o.level +
           " level)");
  std::string vcd = o.vcd;
  if (o.vcd_flag && vcd.empty()) vcd = cli::default_trace_stem(o.out_dir, "mc2ram");

  const SystemRun run = run_system(job, level, vcd);
  if (!run.error.empty()) throw std::runtime_error(run.error);
  const SampleResult& r = run.result;
  const double period_ns = 1e9 / EnergyTable::load_default().clock_hz();
  const double n_total = static_cast<double>(job.chains) * job.samples;
  const double cyc_per_iter = static_cast<double>(r.cycles) / job.samples;  // one array (chain) per step
  const double e_total_pj = aj_to_pj(r.energy_aj.at("total"));
  const double pj_per_sample = e_total_pj / n_total;
  const double power_uw = e_total_pj / (static_cast<double>(r.cycles) * period_ns) * 1e3;  // all lanes
  const double power_lane_uw = power_uw / job.chains;
  progress("simulated in " + std::to_string(run.wall_s) + " s; diagnostics");
  const auto td0 = std::chrono::steady_clock::now();
  const diag::Summary sum = diag::summarize(r.draws, job.gmm, r.acceptance, progress.on ? diag::SummaryProgress(
      [&progress](const std::string& what) { progress("diagnostics: " + what); }) : diag::SummaryProgress{});
  const double diag_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - td0).count();
  progress("diagnostics done");
  double min_ess = 0;
  for (size_t i = 0; i < sum.ess_bulk.size(); ++i)
    if (std::isfinite(sum.ess_bulk[i])) min_ess = i == 0 ? sum.ess_bulk[i] : std::min(min_ess, sum.ess_bulk[i]);
  accel::SamplerHeadlineInput hin;
  hin.energy_pj = e_total_pj;
  hin.cycles = static_cast<double>(r.cycles);
  hin.chains = job.chains;
  hin.samples_per_chain = job.samples;
  hin.clock_hz = EnergyTable::load_default().clock_hz();
  hin.min_ess_bulk = min_ess;
  const accel::SamplerHeadline head = accel::sampler_headline(hin);

  std::ostringstream os;
  os.setf(std::ios::fixed);
  os.precision(3);
  os << "MC2RAM sampling (" << to_string(level) << " level): " << job.chains << " chains x " << job.samples
     << " samples, D=" << job.gmm.d() << ", K=" << job.gmm.k() << ", seed " << job.seed << "\n";
  os << "  headline: " << accel::eng(head.pj_per_sample * 1e-12, "J") << " and "
     << accel::eng(head.ns_per_sample * 1e-9, "s") << " per sample (all chains; "
     << accel::eng(head.ns_per_sample_per_chain * 1e-9, "s") << " per step of one chain), "
     << accel::eng(head.uj_total * 1e-6, "J") << " in all, " << accel::eng(head.ess_per_uj, "") << " effective samples per uJ"
     << " (smallest bulk ESS / energy)\n";
  os << "  cycles                     " << r.cycles << " (" << run.wall_s << " s wall, "
     << static_cast<double>(r.cycles) / std::max(1e-9, run.wall_s) / 1e6 << " M cycles/s; diagnostics "
     << diag_s << " s)\n";
  os << "                             cimsim        paper\n";
  os << "  cycles per sample per chain " << cyc_per_iter << "        " << kPaperCyclesPerSample << "\n";
  os << "  power per chain (uW)        " << power_lane_uw << "       " << kPaperPowerUw << "\n";
  os << "  energy per sample (pJ)      " << pj_per_sample << "        "
     << kPaperPowerUw * 1e-6 * kPaperCyclesPerSample * period_ns * 1e-9 * 1e12 << " (derived)\n";
  os << "  energy per sample by part (pJ):";
  for (const char* p : kParts) os << " " << p << " " << aj_to_pj(r.energy_aj.at(p)) / n_total;
  os << "\n  acceptance " << r.acceptance << ", early rejects " << static_cast<double>(r.early_rejects) / n_total
     << " per iteration\n";
  os << "  diagnostics: TV " << sum.fit.tv << ", KL " << sum.fit.kl << ", R-hat";
  for (double v : sum.rhat) os << " " << v;
  os << ", ESS bulk";
  for (double v : sum.ess_bulk) os << " " << v;
  os << ", mass";
  for (size_t i = 0; i < sum.mass.size(); ++i) os << " " << sum.mass[i] << "/" << sum.mass_expected[i];
  os << "\n";
  const RealizedError& ce = r.compiled.error;
  os << "  compiled GMM: TV bound " << ce.tv_bound << " (tolerance " << job.compile.tolerance << "), KL bound "
     << ce.kl_bound << "; proposal sd";
  for (double v : r.compiled.steps) os << " " << v;
  os << " (" << r.compiled.prop_lsb << " state LSBs)\n";
  os << "  mixture fit: sliced TV mean " << sum.mix.sliced_tv_mean << " max " << sum.mix.sliced_tv_max
     << " (iid exact draws, same count: " << sum.mix_floor.sliced_tv_mean << " / " << sum.mix_floor.sliced_tv_max
     << ")\n  per component (mass err, mean err in sd, sd rel err):";
  for (size_t i = 0; i < sum.mix.mass.size(); ++i)
    os << " [" << sum.mix.mass_err[i] << ", " << sum.mix.mean_err_sd[i] << ", " << sum.mix.sd_rel_err[i] << "]";
  os << "\n";
  for (const auto& w : r.compiled.warnings) os << "  WARNING: " << w << "\n";
  for (const auto& w : sum.warnings) os << "  WARNING: " << w << "\n";
  std::cout << os.str();
  if (!run.vcd_file.empty()) {
    std::cout.flush();
    cli::announce_trace(run.vcd_file, cli::write_mc2ram_view(run.vcd_file, "cimsim sample: " + std::to_string(job.chains) +
                                                                               " chains x " + std::to_string(job.samples) + " samples"));
  }

  if (!o.out_dir.empty()) {
    nlohmann::json rep;
    rep["level"] = to_string(level);
    rep["config"] = job.to_json();
    rep["seed"] = job.seed;
    rep["cycles"] = r.cycles;
    rep["cycles_per_sample_per_chain"] = cyc_per_iter;
    rep["power_uw_per_chain"] = power_lane_uw;
    rep["power_uw_total"] = power_uw;
    rep["energy_per_sample_pj"] = pj_per_sample;
    rep["headline"] = head.to_json();
    rep["diagnostics_wall_s"] = diag_s;
    nlohmann::json parts;
    for (const auto& [k, v] : r.energy_aj) parts[k] = {{"aj", v}, {"pj_per_sample", aj_to_pj(v) / n_total}};
    rep["energy"] = parts;
    rep["acceptance"] = r.acceptance;
    rep["early_rejects"] = r.early_rejects;
    rep["paper"] = {{"cycles_per_sample", kPaperCyclesPerSample}, {"power_uw", kPaperPowerUw}};
    rep["diagnostics"] = sum.to_json();
    rep["state_lsb"] = r.compiled.lsb;
    rep["proposal_step"] = r.compiled.steps;
    rep["proposal_state_lsbs"] = r.compiled.prop_lsb;
    rep["compile_error"] = r.compiled.error.to_json();
    rep["compile_tolerance"] = job.compile.tolerance;
    nlohmann::json warns = r.compiled.warnings;
    for (const auto& w : sum.warnings) warns.push_back(w);
    rep["warnings"] = warns;
    rep["wall_s"] = run.wall_s;
    rep["energy_table_fingerprint"] = EnergyTable::load_default().fingerprint();
    if (!run.vcd_file.empty()) rep["vcd"] = run.vcd_file;
    OutputWriter out;  // each file on its own: a failed plot does not discard the report
    out.attempt("report.json", [&] { atomic_write_json(o.out_dir + "/report.json", rep); });
    if (!o.no_draws) {
      progress("writing draws.csv");
      out.attempt("draws.csv", [&] { diag::write_draws_csv(o.out_dir + "/draws.csv", r.draws); });
      progress("draws.csv written");
    }
    if (!o.no_plots) {
      out.attempt("samples.png", [&] {
        diag::plot_samples(o.out_dir + "/samples.png", r.draws, job.gmm, "MC2RAM samples (" + o.level + ")");
      });
      out.attempt("trace_acf.png", [&] {
        diag::plot_trace_acf(o.out_dir + "/trace_acf.png", r.draws, "MC2RAM chains (" + o.level + ")");
      });
    }
    out.finish();
    std::cout << "  wrote " << o.out_dir << "/{report.json" << (o.no_draws ? "" : ",draws.csv")
              << (o.no_plots ? "" : ",samples.png,trace_acf.png") << "}\n";
  }
  return 0;
}

cimsim::cli::Registrar reg("sample", [](CLI::App& app) -> cimsim::cli::Runner {
  auto* sub = app.add_subcommand("sample", "MH sampling of a Gaussian mixture on the MC2RAM macro");
  auto o = std::make_shared<Options>();
  sub->add_option("--gmm", o->gmm_path, "GMM file (JSON/YAML: weights, means, covariances); default: paper's");
  sub->add_option("--level", o->level, "lt or cycle")->check(CLI::IsMember({"lt", "cycle"}));
  sub->add_option("--chains", o->chains, "parallel chains 1..8");
  sub->add_option("--samples", o->samples, "samples per chain");
  sub->add_option("--seed", o->seed, "seed of every random source");
  auto* v = sub->add_option("--vcd", o->vcd,
                            "VCD trace of the cycle-level macro, path stem (no value: <out-dir>/mc2ram, else "
                            "traces/mc2ram); a GTKWave view <stem>.gtkw is written beside it");
  v->expected(0, 1);
  sub->add_option("--out-dir", o->out_dir, "write report.json, draws.csv and PNG plots here");
  sub->add_flag("--no-draws", o->no_draws, "with --out-dir: do not write draws.csv (8 M draws: ~0.5 GB)");
  sub->add_option("--step", o->steps,
                  "proposal sd in user units: one value, or one per dimension (comma-separated); default "
                  "2.38/sqrt(D) x each dimension's within-component marginal sd")
      ->delimiter(',')->default_str("auto");
  sub->add_option("--weight-bits", o->weight_bits, "bit-cells per stored weight");
  sub->add_option("--tolerance", o->tolerance, "refuse GMMs whose compiled TV error bound exceeds this (0..1]");
  sub->add_flag("--allow-approx", o->allow_approx, "sample GMMs beyond --tolerance anyway (with a warning)");
  sub->add_flag("--fifo", o->fifo, "collect samples through the FIFO instead of DMA");
  sub->add_flag("--no-plots", o->no_plots, "skip the PNG plots");
  sub->add_option("--dac-bits", o->knobs.dac_bits, "DAC bits 1..16");
  sub->add_option("--dac-offset", o->knobs.dac_offset_lsb, "DAC offset (LSB)");
  sub->add_option("--dac-inl", o->knobs.dac_inl_lsb, "DAC peak INL (LSB)");
  sub->add_option("--adc-bits", o->knobs.adc_bits, "ADC bits 1..12");
  sub->add_option("--adc-offset", o->knobs.adc_offset_lsb, "ADC offset (LSB)");
  sub->add_option("--adc-noise", o->knobs.adc_noise_lsb, "ADC noise sigma (LSB)");
  sub->add_option("--rng-bits", o->knobs.rng_bits, "RNG word bits 4..24");
  sub->add_option("--rng-fresh-bits", o->knobs.rng_fresh_bits, "new RNG bits per word (0 = all)");
  sub->add_option("--rng-period", o->knobs.rng_period, "RNG period in words (0 = ideal)");
  sub->add_option("--mismatch", o->knobs.cell_mismatch, "bit-cell mismatch sigma (relative)");
  sub->add_option("--bl-noise", o->knobs.bl_noise, "bit-line noise sigma (Mahalanobis units)");
  sub->add_option("--vdd", o->knobs.vdd, "supply voltage (V)");
  return [sub, o, v] {
    if (!sub->parsed()) return -1;
    o->vcd_flag = v->count() > 0;
    if (o->vcd_flag && o->level != "cycle")
      throw cimsim::ConfigError("sample: --vcd traces the signals of the cycle-level macro; add --level cycle");
    cimsim::cli::refuse_options(*sub, {"--no-draws"}, !o->out_dir.empty(), "needs --out-dir", "sample");
    return do_sample(*o);
  };
});

}  // namespace
