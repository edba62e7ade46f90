// ENOS search, internal: the run's configuration checks and JSON, the hardware it prices energies on, clocks.
// No libtorch here (the sweep and report code include it). See search_run.hpp for the run itself.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "cimsim/accel/arch.hpp"
#include "cimsim/core/energy_table.hpp"
#include "cimsim/enos/search/search.hpp"

namespace cimsim::enos::search::detail {

double cpu_s();
double now_s();
int64_t peak_rss();

/// Throws ConfigError for a configuration no search can run.
void validate(const SearchConfig& c);
nlohmann::json config_json_base(const SearchConfig& c);
nlohmann::json config_json(const SearchConfig& c);
/// The fields that must agree for a checkpoint to be resumed (the hardware is compared by fingerprint, see
/// Hardware::key: a copy of an architecture file under another name resumes).
nlohmann::json resume_key(const SearchConfig& c);
/// 64-bit FNV-1a of every hardware parameter of an ArrayConfig (the architecture's fingerprint).
uint64_t array_fingerprint(const accel::ArrayConfig& a);

/// The hardware a search prices its energies on: `--arch` (the loader of `cimsim run --arch`) and `--tech`
/// (else the architecture's `tech:`, else the default table). Loaded before any data.
struct Hardware {
  accel::ArrayConfig array;        ///< ArrayConfig{} without --arch
  std::string arch_name = "built-in defaults", arch_origin;
  EnergyTable table;
  explicit Hardware(const SearchConfig& c) : table(load(c, array, arch_name, arch_origin)) {}
  uint64_t arch_fingerprint() const { return array_fingerprint(array); }
  /// Recorded in checkpoints, reports and export meta.
  nlohmann::json key() const {
    return {{"arch", arch_origin.empty() ? arch_name : arch_origin},
            {"arch_name", arch_name},
            {"arch_fingerprint", arch_fingerprint()},
            {"tech", table.origin()},
            {"tech_fingerprint", table.fingerprint()}};
  }

 private:
  static EnergyTable load(const SearchConfig& c, accel::ArrayConfig& a, std::string& name, std::string& origin) {
    std::string tech = c.tech_path;
    if (!c.arch_path.empty()) {
      const accel::Architecture ar = accel::load_architecture(c.arch_path);
      a = ar.array;
      name = ar.name;
      origin = c.arch_path;
      if (tech.empty()) tech = ar.tech_path;
    }
    return tech.empty() ? EnergyTable::load_default() : EnergyTable::load(tech);
  }
};

}  // namespace cimsim::enos::search::detail
