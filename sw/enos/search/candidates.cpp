// ENOS search: candidates (names, parsing, lists), per-layer assignment files, CIM parameters per operator.
// No libtorch. See docs/enos.md.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cimsim/accel/datapath.hpp"
#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/enos/search/search.hpp"

namespace cimsim::enos::search {

using accel::Mode;
using accel::Op;

std::string candidate_name(const Candidate& c) {
  return std::string(accel::op_name(c.op)) + (c.mode == Mode::Cim ? "-cim" : "");
}

Candidate parse_candidate(const std::string& text) {
  std::string s = text;
  Candidate c;
  const auto dash = s.find_first_of("-:");
  std::string mode = "digital";
  if (dash != std::string::npos) {
    mode = s.substr(dash + 1);
    s = s.substr(0, dash);
  }
  const auto op = accel::parse_op(s);
  if (!op) throw ConfigError("unknown operator '" + s + "' in candidate '" + text +
                             "' (known: mac8, mac4, bwn, xnor, mf, deepshift, adder)");
  const auto m = accel::parse_mode(mode);
  if (!m) throw ConfigError("unknown computing mode '" + mode + "' in candidate '" + text + "' (digital, cim)");
  if (*m == Mode::Cim && !accel::cim_supported(*op))
    throw ConfigError("candidate '" + text + "': the CIM macro does not support operator '" + s +
                      "' (CIM: mac4, bwn, xnor, mf)");
  c.op = *op;
  c.mode = *m;
  return c;
}

std::vector<LayerAssignment> load_assignment(const std::string& path) {
  nlohmann::json j;
  try {
    j = parse_json(read_file(path), path);
  } catch (const nlohmann::json::exception& e) {
    throw ConfigError(path + ": not valid JSON: " + e.what());
  }
  const auto fail = [&](const std::string& m) -> void { throw ConfigError(path + ": " + m); };
  if (!j.is_object() || !j.contains("layers") || !j["layers"].is_array())
    fail("expected an object with a 'layers' array of {\"name\", \"candidate\"} (e.g. a search's report.json)");
  std::vector<LayerAssignment> v;
  std::set<std::string> seen;
  for (size_t i = 0; i < j["layers"].size(); ++i) {
    const nlohmann::json& e = j["layers"][i];
    const std::string where = "layers[" + std::to_string(i) + "]";
    if (!e.is_object() || !e.contains("name") || !e["name"].is_string()) fail(where + ": missing string field 'name'");
    LayerAssignment a;
    a.layer = e["name"].get<std::string>();
    const std::string wl = where + " (layer '" + a.layer + "')";
    std::string text;
    if (e.contains("candidate")) {
      if (!e["candidate"].is_string()) fail(wl + ": field 'candidate' must be a string");
      text = e["candidate"].get<std::string>();
    } else if (e.contains("op")) {
      if (!e["op"].is_string() || (e.contains("mode") && !e["mode"].is_string()))
        fail(wl + ": fields 'op' and 'mode' must be strings");
      text = e["op"].get<std::string>() + "-" + (e.contains("mode") ? e["mode"].get<std::string>() : "digital");
    } else {
      fail(wl + ": missing field 'candidate' (or 'op' and 'mode')");
    }
    try {
      a.choice = parse_candidate(text);
    } catch (const ConfigError& ex) {
      fail(wl + ": " + ex.what());
    }
    if (!seen.insert(a.layer).second) fail(wl + ": layer named twice");
    v.push_back(a);
  }
  if (v.empty()) fail("the assignment names no layer");
  return v;
}

std::vector<Candidate> all_candidates() {
  std::vector<Candidate> v;
  for (Op op : accel::kAllOps) v.push_back({op, Mode::Digital});
  for (Op op : accel::kAllOps)
    if (accel::cim_supported(op)) v.push_back({op, Mode::Cim});
  return v;
}

std::vector<Candidate> parse_candidates(const std::string& list) {
  if (list.empty() || list == "all") return all_candidates();
  std::vector<Candidate> v;
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = list.find(',', pos);
    const std::string item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!item.empty()) v.push_back(parse_candidate(item));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (v.empty()) throw ConfigError("empty candidate list '" + list + "'");
  return v;
}

accel::CimParams cim_params_for(Op op, int adc_bits) {
  accel::CimParams c;
  c.rows = 64;
  c.adc_bits = adc_bits;
  // Full scale per operator (powers of two, in partial-sum units), sized to typical chunk sums of a trained
  // layer: XNOR terms are +-1, MAC4 |x4*w| <= 56, BWN +-x, MF up to 255.
  switch (op) {
    case Op::XNOR: c.adc_range = 32; break;
    case Op::MAC4: c.adc_range = 128; break;
    case Op::BWN: c.adc_range = 512; break;
    case Op::MF: c.adc_range = 1024; break;
    default: c.adc_range = 1 << (adc_bits - 1); break;
  }
  return c;
}

accel::CimParams cim_params_for(Op op, int adc_bits, int64_t reduction) {
  accel::CimParams c = cim_params_for(op, adc_bits);
  // Typical |partial sum| m of one chunk of Kc = min(K, rows) terms, in partial-sum units, for int8 post-ReLU
  // inputs (codes ~ 0..127, about half zero) and trained weights:
  //   XNOR  +-1 terms, roughly zero mean             m = sqrt(Kc)
  //   MAC4  x4 in 0..7 times w4 in [-7, 7] (|.| ~ 3)  m = 9 sqrt(Kc)
  //   BWN   +-x, |x| ~ 32                             m = 32 sqrt(Kc)
  //   MF    sign(x)|w| has a non-zero mean (half the inputs > 0, |w| ~ 48 of 127): m = 24 Kc
  // Full scale = the power of two >= 2 m (at least 2). The fixed per-operator ranges of the first version
  // (MF 1024) clipped every MF chunk of a 64-row layer (mean ~1500): MF-CIM networks stayed at chance.
  const double kc = static_cast<double>(std::max<int64_t>(1, std::min<int64_t>(reduction, c.rows)));
  double m = 0;
  switch (op) {
    case Op::XNOR: m = std::sqrt(kc); break;
    case Op::MAC4: m = 9 * std::sqrt(kc); break;
    case Op::BWN: m = 32 * std::sqrt(kc); break;
    case Op::MF: m = 24 * kc; break;
    default: return c;
  }
  int32_t r = 2;
  while (r < 2 * m && r < (1 << 30)) r *= 2;
  c.adc_range = r;
  return c;
}

}  // namespace cimsim::enos::search
