#pragma once
// Report pieces shared by `run` and `infer`: the headline figures (cimsim/accel/headline.hpp) printed in
// engineering units and written to JSON, the energy split by component in percent, and the per-layer rows of
// `infer` for the CSV and plot writers (cimsim/accel/layer_report.hpp).
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cimsim/accel/headline.hpp"
#include "cimsim/accel/layer_report.hpp"
#include "cimsim/enos/sim_runtime.hpp"

namespace cimsim::cli {

/// Prints "headline (per inference, steady state): ..." lines: uJ, latency, inferences/s at `clock_hz`, pJ/MAC
/// and TOPS/W (system and operator-only), EDP; then the first run's one-time extra energy when non-zero.
void print_headline(const accel::Headline& h, double clock_hz, double first_run_extra_pj);
/// "energy by component (steady state): compute 12.3 %  dram 45.6 %  ... (largest: dram)" from pJ values.
void print_component_split(const std::map<std::string, double>& pj);
/// The JSON block {"steady_state": {...headline...}, "first_run": {"extra_energy_pj", "energy_uj"},
/// "clock_hz"} that every accelerator report carries under "headline".
nlohmann::json headline_json(const accel::Headline& h, double clock_hz, double first_run_extra_pj);

/// One CSV/plot row per accelerator node of an `infer` run: per image, steady state (the last image).
std::vector<accel::LayerReportRow> infer_rows(const enos::SimRunResult& r);

/// Title of a per-layer energy plot saying what ran: "Energy per layer, steady state: <workload> | operators:
/// mac8 x3, bwn/cim x1 | level cycle | arch <arch>".
std::string run_plot_title(const std::string& workload, const std::vector<accel::LayerReportRow>& rows,
                           const std::string& level, const std::string& arch);

}  // namespace cimsim::cli
