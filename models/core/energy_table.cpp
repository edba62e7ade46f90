#include "cimsim/core/energy_table.hpp"

#include <cmath>
#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"

namespace cimsim {
namespace {

using Json = nlohmann::json;

std::string num_str(double x) {
  std::ostringstream os;
  os.precision(17);
  os << x;
  return os.str();
}

/// Flattens nested objects into dotted paths; every leaf must be a finite number in [lo, hi].
void flatten(const Json& node, const std::string& prefix, const std::string& origin, const char* section,
             double lo, double hi, std::map<std::string, double, std::less<>>& out) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    const Json& v = it.value();
    if (v.is_object()) {
      flatten(v, path, origin, section, lo, hi, out);
    } else if (v.is_number()) {
      const double x = v.get<double>();
      if (!std::isfinite(x))
        throw ConfigError(origin + ": " + section + " entry '" + path + "' is not finite");
      if (lo == 0 && x < 0)
        throw ConfigError(origin + ": " + section + " entry '" + path + "' is negative (" + num_str(x) +
                          "); energies must be >= 0");
      if (x < lo || x > hi)
        throw ConfigError(origin + ": " + section + " entry '" + path + "' = " + num_str(x) + " is outside [" +
                          num_str(lo) + ", " + num_str(hi) + "]");
      out.emplace(path, x);
    } else {
      throw ConfigError(origin + ": " + section + " entry '" + path + "' must be a number or an object, got " +
                        std::string(v.type_name()));
    }
  }
}

double number_in(const Json& j, const char* key, const std::string& origin, double lo, double hi) {
  if (!j.contains(key)) throw ConfigError(origin + ": missing entry '" + key + "'");
  const Json& v = j.at(key);
  if (!v.is_number()) throw ConfigError(origin + ": entry '" + std::string(key) + "' must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    throw ConfigError(origin + ": entry '" + std::string(key) + "' = " + num_str(x) + " is outside [" + num_str(lo) +
                      ", " + num_str(hi) + "]");
  return x;
}

}  // namespace

int64_t pj_to_aj(double pj) {
  const double aj = pj * 1e6;
  // 9.2e18 is the largest double below 2^63; anything beyond would make llround's result unspecified.
  if (!std::isfinite(aj) || std::fabs(aj) >= 9.2e18)
    throw ConfigError("energy " + num_str(pj) + " pJ cannot be represented in int64 attojoules");
  return static_cast<int64_t>(std::llround(aj));
}

EnergyTable EnergyTable::from_json(const Json& j, const std::string& origin) {
  if (!j.is_object()) throw ConfigError(origin + ": the energy table must be a JSON object");
  EnergyTable t;
  t.origin_ = origin;
  try {
    if (j.contains("technology") && !j.at("technology").is_string())
      throw ConfigError(origin + ": entry 'technology' must be a string, got " +
                        std::string(j.at("technology").type_name()));
    t.technology_ = j.value("technology", std::string("unknown"));
    t.clock_hz_ = number_in(j, "clock_hz", origin, kMinClockHz, kMaxClockHz);
    t.vdd_v_ = number_in(j, "vdd_v", origin, kMinVddV, kMaxVddV);
    if (!j.contains("energy_pj") || !j.at("energy_pj").is_object())
      throw ConfigError(origin + ": missing object 'energy_pj'");
    flatten(j.at("energy_pj"), "", origin, "energy_pj", 0.0, kMaxEntryPj, t.energy_pj_);
    if (j.contains("params")) {
      if (!j.at("params").is_object()) throw ConfigError(origin + ": 'params' must be an object");
      flatten(j.at("params"), "", origin, "params", -kMaxParamAbs, kMaxParamAbs, t.params_);
    }
  } catch (const Json::exception& e) {  // the contract above should leave none; never let one escape raw
    throw ConfigError(origin + ": malformed energy table: " + e.what());
  }
  return t;
}

EnergyTable EnergyTable::load(const std::string& path) {
  // Bounded (a regular file of at most the configuration limit), depth-limited, duplicate keys and numbers
  // beyond a double refused (parse_json).
  return from_json(parse_json(read_file(path), path), path);
}

std::string EnergyTable::default_path() {
  if (const char* env = std::getenv("CIMSIM_TECH"); env && *env) return env;
  return data_dir() + "/tech/45nm.json";
}

EnergyTable EnergyTable::load_default() { return load(default_path()); }

double EnergyTable::pj(std::string_view path) const {
  auto it = energy_pj_.find(path);
  if (it == energy_pj_.end())
    throw ConfigError(origin_ + ": missing energy entry 'energy_pj." + std::string(path) + "'");
  return it->second;
}

int64_t EnergyTable::aj(std::string_view path) const { return pj_to_aj(pj(path)); }

double EnergyTable::param(std::string_view path) const {
  auto it = params_.find(path);
  if (it == params_.end()) throw ConfigError(origin_ + ": missing parameter 'params." + std::string(path) + "'");
  return it->second;
}

bool EnergyTable::has(std::string_view path) const { return energy_pj_.find(path) != energy_pj_.end(); }
bool EnergyTable::has_param(std::string_view path) const { return params_.find(path) != params_.end(); }

void EnergyTable::require(const std::vector<std::string>& paths) const {
  std::ostringstream missing;
  int n = 0;
  for (const auto& p : paths)
    if (!has(p)) missing << (n++ ? ", " : "") << "'energy_pj." << p << "'";
  if (n) throw ConfigError(origin_ + ": missing energy entr" + (n == 1 ? "y " : "ies ") + missing.str());
}

uint64_t EnergyTable::fingerprint() const {
  uint64_t h = 1469598103934665603ull;
  auto eat = [&h](const std::string& s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ull;
    }
  };
  std::ostringstream os;
  os.precision(17);
  os << technology_ << ';' << clock_hz_ << ';' << vdd_v_ << ';';
  for (const auto& [k, v] : energy_pj_) os << k << '=' << v << ';';
  for (const auto& [k, v] : params_) os << k << '=' << v << ';';
  eat(os.str());
  return h;
}

}  // namespace cimsim
