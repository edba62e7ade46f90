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

void flatten(const Json& node, const std::string& prefix, const std::string& origin, const char* section,
             bool non_negative, std::map<std::string, double, std::less<>>& out) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
    const Json& v = it.value();
    if (v.is_object()) {
      flatten(v, path, origin, section, non_negative, out);
    } else if (v.is_number()) {
      const double x = v.get<double>();
      if (!std::isfinite(x))
        throw ConfigError(origin + ": " + section + " entry '" + path + "' is not finite");
      if (non_negative && x < 0)
        throw ConfigError(origin + ": " + section + " entry '" + path + "' is negative (" + std::to_string(x) +
                          "); energies must be >= 0");
      out.emplace(path, x);
    } else {
      throw ConfigError(origin + ": " + section + " entry '" + path + "' must be a number or an object, got " +
                        std::string(v.type_name()));
    }
  }
}

double positive_number(const Json& j, const char* key, const std::string& origin) {
  if (!j.contains(key)) throw ConfigError(origin + ": missing entry '" + key + "'");
  const Json& v = j.at(key);
  if (!v.is_number()) throw ConfigError(origin + ": entry '" + std::string(key) + "' must be a number");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x <= 0) throw ConfigError(origin + ": entry '" + std::string(key) + "' must be > 0");
  return x;
}

}  // namespace

int64_t pj_to_aj(double pj) { return static_cast<int64_t>(std::llround(pj * 1e6)); }

EnergyTable EnergyTable::from_json(const Json& j, const std::string& origin) {
  if (!j.is_object()) throw ConfigError(origin + ": the energy table must be a JSON object");
  EnergyTable t;
  t.origin_ = origin;
  t.technology_ = j.value("technology", std::string("unknown"));
  t.clock_hz_ = positive_number(j, "clock_hz", origin);
  t.vdd_v_ = positive_number(j, "vdd_v", origin);
  if (!j.contains("energy_pj") || !j.at("energy_pj").is_object())
    throw ConfigError(origin + ": missing object 'energy_pj'");
  flatten(j.at("energy_pj"), "", origin, "energy_pj", true, t.energy_pj_);
  if (j.contains("params")) {
    if (!j.at("params").is_object()) throw ConfigError(origin + ": 'params' must be an object");
    flatten(j.at("params"), "", origin, "params", false, t.params_);
  }
  return t;
}

EnergyTable EnergyTable::load(const std::string& path) {
  Json j;
  try {
    j = Json::parse(read_file(path));
  } catch (const Json::parse_error& e) {
    throw ConfigError(path + ": malformed JSON: " + e.what());
  }
  return from_json(j, path);
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
