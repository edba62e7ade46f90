#include "cimsim/core/energy_ledger.hpp"

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cimsim/core/energy_table.hpp"
#include "cimsim/core/error.hpp"

namespace cimsim {
namespace {
// Every sum and product of counts and attojoules is checked: a table or a workload that would wrap an int64
// (9.2e18 aJ = 9.2 J) is refused with an error naming the component, never turned into a wrong total.
[[noreturn]] void overflow(std::string_view what) {
  throw ConfigError("energy ledger: " + std::string(what) + " overflows int64 attojoules / counts");
}
int64_t checked_add(int64_t a, int64_t b, std::string_view what) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) overflow(what);
  return r;
}
}  // namespace

void EnergyLedger::add(std::string_view component, int64_t count, int64_t aj_each, int layer) {
  int64_t total;
  if (__builtin_mul_overflow(count, aj_each, &total)) overflow("component '" + std::string(component) + "'");
  add_energy(component, count, total, layer);
}

void EnergyLedger::add_energy(std::string_view component, int64_t count, int64_t aj_total, int layer) {
  const size_t n = component.size();
  for (auto& s : recent_.slot) {  // hot path: a handful of components added to per simulated event
    if (!s.cell || s.layer != layer || s.name.size() != n) continue;
    size_t i = 0;
    while (i < n && s.name[i] == component[i]) ++i;
    if (i == n) {
      s.cell->count = checked_add(s.cell->count, count, component);
      s.cell->aj = checked_add(s.cell->aj, aj_total, component);
      return;
    }
  }
  auto it = cells_.find(std::pair<int, std::string_view>(layer, component));
  if (it == cells_.end()) it = cells_.emplace(std::make_pair(layer, std::string(component)), Cell{}).first;
  it->second.count = checked_add(it->second.count, count, component);
  it->second.aj = checked_add(it->second.aj, aj_total, component);
  auto& s = recent_.slot[recent_.next++ % 8];
  s.layer = layer;
  s.name.assign(component);
  s.cell = &it->second;
}

int64_t EnergyLedger::total_aj() const {
  int64_t s = 0;
  for (const auto& [k, c] : cells_) s = checked_add(s, c.aj, "the total");
  return s;
}

double EnergyLedger::total_pj() const { return aj_to_pj(total_aj()); }

int64_t EnergyLedger::component_aj(std::string_view component) const {
  int64_t s = 0;
  for (const auto& [k, c] : cells_)
    if (k.second == component) s = checked_add(s, c.aj, component);
  return s;
}

int64_t EnergyLedger::component_count(std::string_view component) const {
  int64_t s = 0;
  for (const auto& [k, c] : cells_)
    if (k.second == component) s = checked_add(s, c.count, component);
  return s;
}

int64_t EnergyLedger::layer_aj(int layer) const {
  int64_t s = 0;
  for (const auto& [k, c] : cells_)
    if (k.first == layer) s = checked_add(s, c.aj, "a layer total");
  return s;
}

EnergyLedger::Cell EnergyLedger::cell(int layer, std::string_view component) const {
  auto it = cells_.find(std::pair<int, std::string_view>(layer, component));
  return it == cells_.end() ? Cell{} : it->second;
}

std::vector<std::string> EnergyLedger::components() const {
  std::set<std::string> s;
  for (const auto& [k, c] : cells_) s.insert(k.second);
  return {s.begin(), s.end()};
}

std::vector<int> EnergyLedger::layers() const {
  std::set<int> s;
  for (const auto& [k, c] : cells_) s.insert(k.first);
  return {s.begin(), s.end()};
}

void EnergyLedger::merge(const EnergyLedger& other) {
  for (const auto& [k, c] : other.cells_) add_energy(k.second, c.count, c.aj, k.first);
}

nlohmann::json EnergyLedger::to_json() const {
  nlohmann::json j;
  j["total_aj"] = total_aj();
  j["total_pj"] = aj_to_pj(total_aj());
  nlohmann::json comps = nlohmann::json::object();
  for (const auto& name : components())
    comps[name] = {{"count", component_count(name)}, {"aj", component_aj(name)}, {"pj", aj_to_pj(component_aj(name))}};
  j["components"] = comps;
  nlohmann::json rows = nlohmann::json::array();
  for (int l : layers()) {
    nlohmann::json lc = nlohmann::json::object();
    for (const auto& [k, c] : cells_)
      if (k.first == l) lc[k.second] = {{"count", c.count}, {"aj", c.aj}, {"pj", aj_to_pj(c.aj)}};
    rows.push_back({{"layer", l}, {"total_pj", aj_to_pj(layer_aj(l))}, {"components", lc}});
  }
  j["layers"] = rows;
  return j;
}

std::string EnergyLedger::to_csv() const {
  std::ostringstream os;
  os.precision(12);
  os << "layer,component,count,energy_pj\n";
  for (const auto& [k, c] : cells_) os << k.first << ',' << k.second << ',' << c.count << ',' << aj_to_pj(c.aj) << '\n';
  return os.str();
}

}  // namespace cimsim
