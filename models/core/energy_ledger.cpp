#include "cimsim/core/energy_ledger.hpp"

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cimsim/core/energy_table.hpp"

namespace cimsim {

void EnergyLedger::add(std::string_view component, int64_t count, int64_t aj_each, int layer) {
  add_energy(component, count, count * aj_each, layer);
}

void EnergyLedger::add_energy(std::string_view component, int64_t count, int64_t aj_total, int layer) {
  const size_t n = component.size();
  for (auto& s : recent_.slot) {  // hot path: a handful of components added to per simulated event
    if (!s.cell || s.layer != layer || s.name.size() != n) continue;
    size_t i = 0;
    while (i < n && s.name[i] == component[i]) ++i;
    if (i == n) {
      s.cell->count += count;
      s.cell->aj += aj_total;
      return;
    }
  }
  auto it = cells_.find(std::pair<int, std::string_view>(layer, component));
  if (it == cells_.end()) it = cells_.emplace(std::make_pair(layer, std::string(component)), Cell{}).first;
  it->second.count += count;
  it->second.aj += aj_total;
  auto& s = recent_.slot[recent_.next++ % 8];
  s.layer = layer;
  s.name.assign(component);
  s.cell = &it->second;
}

int64_t EnergyLedger::total_aj() const {
  int64_t s = 0;
  for (const auto& [k, c] : cells_) s += c.aj;
  return s;
}

double EnergyLedger::total_pj() const { return aj_to_pj(total_aj()); }

int64_t EnergyLedger::component_aj(std::string_view component) const {
  int64_t s = 0;
  for (const auto& [k, c] : cells_)
    if (k.second == component) s += c.aj;
  return s;
}

int64_t EnergyLedger::component_count(std::string_view component) const {
  int64_t s = 0;
  for (const auto& [k, c] : cells_)
    if (k.second == component) s += c.count;
  return s;
}

int64_t EnergyLedger::layer_aj(int layer) const {
  int64_t s = 0;
  for (const auto& [k, c] : cells_)
    if (k.first == layer) s += c.aj;
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
