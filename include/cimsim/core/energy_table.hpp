#pragma once
// The technology/energy table: one data file (data/tech/45nm.json) that feeds every model, the ENOS search
// and the reports. Loaded and validated once; every lookup names its entry on failure.
//
// File shape (see data/tech/45nm.json and docs/energy-table.md):
//   { "technology": "45nm", "clock_hz": 1e9, "vdd_v": 0.9,
//     "energy_pj": { <nested objects whose leaves are energies in pJ> },
//     "params":    { <nested objects whose leaves are other numeric parameters> },
//     "sources":   { <free text> } }
// Entries are addressed by dotted paths, e.g. "accel.digital.mac8" or "common.adc_by_bits.5".
// Validation by contract (a ConfigError naming the file and the path for anything else):
//   * every leaf under energy_pj is a finite number in [0, kMaxEntryPj] (1e6 pJ = 1 uJ per event), so its aJ
//     value (<= 1e12) is exact in int64 and 9.2e6 events of the largest entry still fit a ledger cell;
//   * every leaf under params is a finite number with |x| <= kMaxParamAbs;
//   * clock_hz is in [kMinClockHz, kMaxClockHz] (a period of 100 ps .. 1 ms), vdd_v in [kMinVddV, kMaxVddV];
//   * technology, if present, is a string;
//   * any JSON library exception (e.g. a number like 1e999 that overflows a double) becomes a ConfigError.
// Energies are also offered in integer attojoules (aJ), which the EnergyLedger accumulates so that totals
// are exact sums of their parts; the ledger refuses (throws) instead of wrapping around on int64 overflow.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace cimsim {

class EnergyTable {
 public:
  /// Documented limits of the contract above.
  static constexpr double kMaxEntryPj = 1e6;
  static constexpr double kMaxParamAbs = 1e15;
  static constexpr double kMinClockHz = 1e3, kMaxClockHz = 1e10;
  static constexpr double kMinVddV = 0.1, kMaxVddV = 5.0;

  /// Load and validate a table file. Throws IoError (missing/unreadable) or ConfigError (malformed).
  static EnergyTable load(const std::string& path);
  /// Validate a table given as JSON; `origin` names it in messages.
  static EnergyTable from_json(const nlohmann::json& j, const std::string& origin);
  /// The project's default table: $CIMSIM_TECH if set, else <source>/data/tech/45nm.json.
  static EnergyTable load_default();
  static std::string default_path();

  /// Energy of an entry in picojoules. Throws ConfigError naming the entry if it is absent.
  double pj(std::string_view path) const;
  /// Energy in attojoules, rounded to nearest (1 pJ = 1e6 aJ).
  int64_t aj(std::string_view path) const;
  /// Numeric parameter under "params" (not an energy). Throws ConfigError naming the entry if absent.
  double param(std::string_view path) const;
  bool has(std::string_view path) const;
  bool has_param(std::string_view path) const;
  /// Throws one ConfigError listing every missing energy entry (a consumer's schema check at load time).
  void require(const std::vector<std::string>& paths) const;

  /// Entry naming helpers for bit-indexed tables, e.g. adc(5) -> "common.adc_by_bits.5".
  static std::string adc_entry(int bits) { return "common.adc_by_bits." + std::to_string(bits); }
  static std::string dac_entry(int bits) { return "common.dac_by_bits." + std::to_string(bits); }

  double clock_hz() const { return clock_hz_; }
  double vdd_v() const { return vdd_v_; }
  const std::string& technology() const { return technology_; }
  const std::string& origin() const { return origin_; }
  /// All energy entries (path -> pJ), sorted by path.
  const std::map<std::string, double, std::less<>>& entries() const { return energy_pj_; }
  /// FNV-1a hash of the canonical entries: a report records it so results can be tied to a table.
  uint64_t fingerprint() const;

 private:
  std::string origin_;
  std::string technology_;
  double clock_hz_ = 0;
  double vdd_v_ = 0;
  std::map<std::string, double, std::less<>> energy_pj_;
  std::map<std::string, double, std::less<>> params_;
};

/// pJ -> aJ with round-to-nearest (the one conversion every consumer uses). Throws ConfigError for a value
/// that is not finite or whose aJ value does not fit int64 (|pj| >= ~9.2e12), never wraps.
int64_t pj_to_aj(double pj);
inline double aj_to_pj(int64_t aj) { return static_cast<double>(aj) * 1e-6; }

}  // namespace cimsim
