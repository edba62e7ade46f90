#pragma once
// EnergyLedger: energy accumulated per (layer, component), in integer attojoules, so that every total is
// exactly the sum of its parts (no floating-point reassociation). Layer -1 means "not tied to a layer"
// (e.g. idle leakage, the MC2RAM macro's per-iteration parts).
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace cimsim {

class EnergyLedger {
 public:
  struct Cell {
    int64_t count = 0;  ///< number of events (operations, bytes, conversions, cycles)
    int64_t aj = 0;     ///< energy in attojoules
  };

  EnergyLedger() = default;
  EnergyLedger(const EnergyLedger&) = default;
  EnergyLedger& operator=(const EnergyLedger&) = default;
  EnergyLedger(EnergyLedger&& o) noexcept : cells_(std::move(o.cells_)) { o.clear(); }
  EnergyLedger& operator=(EnergyLedger&& o) noexcept {
    if (this != &o) {
      cells_ = std::move(o.cells_);
      recent_ = Recent{};
      o.clear();
    }
    return *this;
  }

  /// Adds `count` events of `aj_each` attojoules to (layer, component).
  void add(std::string_view component, int64_t count, int64_t aj_each, int layer = -1);
  /// Adds a pre-computed energy with its event count.
  void add_energy(std::string_view component, int64_t count, int64_t aj_total, int layer = -1);

  int64_t total_aj() const;
  double total_pj() const;
  int64_t component_aj(std::string_view component) const;
  int64_t component_count(std::string_view component) const;
  int64_t layer_aj(int layer) const;
  Cell cell(int layer, std::string_view component) const;
  std::vector<std::string> components() const;  ///< sorted
  std::vector<int> layers() const;              ///< sorted
  bool empty() const { return cells_.empty(); }
  void clear() {
    cells_.clear();
    recent_ = Recent{};
  }
  /// Adds another ledger's cells into this one.
  void merge(const EnergyLedger& other);

  /// {"total_pj":..,"total_aj":..,"components":{name:{"count","pj","aj"}},"layers":[{"layer","total_pj","components":{..}}]}
  nlohmann::json to_json() const;
  /// One row per (layer, component): layer,component,count,energy_pj
  std::string to_csv() const;

 private:
  // Ordered by (layer, component); transparent so lookups by string_view allocate nothing (hot path of the
  // MC2RAM datapath: several adds per MH iteration).
  struct KeyLess {
    using is_transparent = void;
    template <class A, class B>
    bool operator()(const A& a, const B& b) const {
      if (a.first != b.first) return a.first < b.first;
      return std::string_view(a.second) < std::string_view(b.second);
    }
  };
  std::map<std::pair<int, std::string>, Cell, KeyLess> cells_;
  // The last few cells added to (map nodes are stable until clear()). Not copied: a copy starts empty, so
  // it never points into another ledger's map.
  struct Recent {
    struct Slot {
      int layer = 0;
      std::string name;
      Cell* cell = nullptr;
    };
    Slot slot[8];
    unsigned next = 0;
    Recent() = default;
    Recent(const Recent&) {}
    Recent& operator=(const Recent&) {
      for (Slot& s : slot) s.cell = nullptr;
      next = 0;
      return *this;
    }
  };
  Recent recent_;
};

}  // namespace cimsim
