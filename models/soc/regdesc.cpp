// C header and CMSIS-SVD generators for device descriptions (include/cimsim/soc/regdesc.hpp).
#include "cimsim/soc/regdesc.hpp"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <stdexcept>

namespace cimsim {

namespace {
std::string hex(uint64_t v, int digits = 8) {
  char b[32];
  std::snprintf(b, sizeof b, "0x%0*llX", digits, static_cast<unsigned long long>(v));
  return b;
}
std::string upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
    else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) c = '_';
  }
  return s;
}
// Text for a C comment: no "*/" inside.
std::string ccomment(std::string s) {
  for (size_t p; (p = s.find("*/")) != std::string::npos;) s.replace(p, 2, "* /");
  return s;
}
std::string xml(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}
uint32_t field_mask(const FieldDef& f) {
  const uint64_t m = ((uint64_t{1} << f.width) - 1) << f.lsb;
  return static_cast<uint32_t>(m);
}
const RegisterDef* find_reg(const DeviceDescription& d, const std::string& name) {
  for (const auto& r : d.registers)
    if (r.name == name) return &r;
  return nullptr;
}
}  // namespace

void validate(const DeviceDescription& d) {
  const std::string who = d.name + ": ";
  std::set<std::string> names;
  std::set<uint32_t> offsets;
  for (const auto& r : d.registers) {
    if (!names.insert(r.name).second) throw std::logic_error(who + "duplicate register " + r.name);
    if (!offsets.insert(r.offset).second) throw std::logic_error(who + "register " + r.name + " overlaps another");
    if (r.offset % 4 || r.offset + 4 > d.window_bytes)
      throw std::logic_error(who + "register " + r.name + " misaligned or outside the window");
  }
  std::set<std::string> fnames;
  for (const auto& f : d.fields) {
    if (!find_reg(d, f.reg)) throw std::logic_error(who + "field " + f.name + " names no register " + f.reg);
    if (f.width == 0 || f.lsb + f.width > 32) throw std::logic_error(who + "field " + f.reg + "." + f.name + " outside 32 bits");
    if (!fnames.insert(f.reg + "." + f.name).second) throw std::logic_error(who + "duplicate field " + f.reg + "." + f.name);
    for (const auto& g : d.fields)
      if (&g != &f && g.reg == f.reg && (field_mask(g) & field_mask(f)))
        throw std::logic_error(who + "fields " + f.reg + "." + f.name + " and " + g.name + " overlap");
  }
  for (const auto& rec : d.records) {
    for (const auto& f : rec.fields) {
      if (f.offset + f.bytes > rec.size || (f.bytes != 1 && f.bytes != 2 && f.bytes != 4 && f.bytes != 8))
        throw std::logic_error(who + "record " + rec.name + " field " + f.name + " outside the record or odd size");
      for (const auto& g : rec.fields)
        if (&g != &f && g.offset < f.offset + f.bytes && f.offset < g.offset + g.bytes)
          throw std::logic_error(who + "record " + rec.name + " fields " + f.name + " and " + g.name + " overlap");
    }
  }
  for (const auto& w : d.windows)
    if (w.offset + w.bytes > d.window_bytes) throw std::logic_error(who + "window " + w.name + " outside the device");
}

std::string to_c_header(const DeviceDescription& d) {
  validate(d);
  const std::string P = d.prefix;
  const std::string guard = "CIMSIM_" + P + "_REGS_H";
  std::ostringstream o;
  auto def = [&o](const std::string& name, const std::string& value, const std::string& doc = "") {
    o << "#define " << name;
    for (size_t i = name.size(); i < 40; ++i) o << ' ';
    o << ' ' << value;
    if (!doc.empty()) o << "  /* " << ccomment(doc) << " */";
    o << '\n';
  };
  o << "/* " << P << " register description for firmware: " << ccomment(d.description) << "\n"
    << " * Generated at build time by cimsim's gen_regdesc from the model's register table; do not edit.\n"
    << " * Offsets are relative to the device's base address; registers are 32-bit, little-endian. */\n"
    << "#ifndef " << guard << "\n#define " << guard << "\n\n";
  def(P + "_WINDOW_BYTES", hex(d.window_bytes, 1) + "u", "bus window the device decodes");
  o << "\n/* ---- registers: <NAME>_OFFSET, _RESET, _WRITE_MASK; access in the comment ---- */\n";
  for (const auto& r : d.registers) {
    o << "/* " << r.name << " (" << to_string(r.access) << "): " << ccomment(r.doc) << " */\n";
    def(P + "_" + r.name + "_OFFSET", hex(r.offset, 3) + "u");
    def(P + "_" + r.name + "_RESET", hex(r.reset) + "u");
    def(P + "_" + r.name + "_WRITE_MASK", hex(r.write_mask) + "u");
    for (const auto& f : d.fields) {
      if (f.reg != r.name) continue;
      const std::string n = P + "_" + r.name + "_" + f.name;
      def(n + "_SHIFT", std::to_string(f.lsb) + "u", f.doc);
      def(n + "_WIDTH", std::to_string(f.width) + "u");
      def(n + "_MASK", hex(field_mask(f)) + "u");
    }
  }
  for (const auto& e : d.enums) {
    o << "\n/* ---- " << e.name << ": " << ccomment(e.doc) << " ---- */\n";
    for (const auto& v : e.values) def(P + "_" + e.name + "_" + v.name, std::to_string(v.value) + "u", v.doc);
  }
  if (!d.constants.empty()) o << "\n/* ---- constants ---- */\n";
  for (const auto& c : d.constants)
    def(P + "_" + c.name, hex(c.value, 1) + (c.value > 0xFFFFFFFFull ? "ull" : "u"), c.doc);
  if (!d.windows.empty()) o << "\n/* ---- windows (word-addressed memory inside the device) ---- */\n";
  for (const auto& w : d.windows) {
    def(P + "_" + w.name + "_OFFSET", hex(w.offset, 4) + "u", w.doc);
    def(P + "_" + w.name + "_BYTES", hex(w.bytes, 1) + "u");
  }
  for (const auto& rec : d.records) {
    o << "\n/* ---- " << rec.name << " record in memory (little-endian): " << ccomment(rec.doc)
      << "\n * <FIELD>_OFF: byte offset, <FIELD>_SIZE: bytes ---- */\n";
    def(P + "_" + rec.name + "_BYTES", std::to_string(rec.size) + "u");
    for (const auto& f : rec.fields) {
      def(P + "_" + rec.name + "_" + upper(f.name) + "_OFF", std::to_string(f.offset) + "u", f.doc);
      def(P + "_" + rec.name + "_" + upper(f.name) + "_SIZE", std::to_string(f.bytes) + "u");
    }
  }
  o << "\n#endif /* " << guard << " */\n";
  return o.str();
}

std::string to_svd(const std::string& device_name,
                   const std::vector<std::pair<DeviceDescription, uint64_t>>& periph) {
  std::ostringstream o;
  o << "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    << "<!-- Generated at build time by cimsim's gen_regdesc from the models' register tables; do not edit. -->\n"
    << "<device schemaVersion=\"1.3\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema-instance\" "
       "xs:noNamespaceSchemaLocation=\"CMSIS-SVD.xsd\">\n"
    << "  <vendor>cimsim</vendor>\n  <name>" << xml(device_name) << "</name>\n  <version>1.0</version>\n"
    << "  <description>cimsim accelerator models: register maps for firmware tools</description>\n"
    << "  <addressUnitBits>8</addressUnitBits>\n  <width>32</width>\n  <size>32</size>\n"
    << "  <access>read-write</access>\n  <resetValue>0x00000000</resetValue>\n  <resetMask>0xFFFFFFFF</resetMask>\n"
    << "  <peripherals>\n";
  for (const auto& [d, base] : periph) {
    validate(d);
    uint32_t reg_end = 0;
    for (const auto& r : d.registers) reg_end = std::max(reg_end, r.offset + 4);
    o << "    <peripheral>\n      <name>" << xml(d.name) << "</name>\n      <description>" << xml(d.description)
      << "</description>\n      <baseAddress>" << hex(base) << "</baseAddress>\n"
      << "      <addressBlock>\n        <offset>0x0</offset>\n        <size>" << hex(reg_end, 1)
      << "</size>\n        <usage>registers</usage>\n      </addressBlock>\n";
    for (const auto& w : d.windows)
      o << "      <addressBlock>\n        <offset>" << hex(w.offset, 1) << "</offset>\n        <size>"
        << hex(w.bytes, 1) << "</size>\n        <usage>buffer</usage>\n      </addressBlock>\n";
    o << "      <registers>\n";
    for (const auto& r : d.registers) {
      const char* access = r.access == Access::RO ? "read-only" : r.access == Access::WO ? "write-only" : "read-write";
      o << "        <register>\n          <name>" << xml(r.name) << "</name>\n          <description>"
        << xml(r.doc.empty() ? r.name : r.doc) << "</description>\n          <addressOffset>" << hex(r.offset, 1)
        << "</addressOffset>\n          <size>32</size>\n          <access>" << access
        << "</access>\n          <resetValue>" << hex(r.reset) << "</resetValue>\n          <resetMask>0xFFFFFFFF</resetMask>\n";
      if (r.access == Access::W1C) o << "          <modifiedWriteValues>oneToClear</modifiedWriteValues>\n";
      bool any = false;
      for (const auto& f : d.fields) {
        if (f.reg != r.name) continue;
        if (!any) o << "          <fields>\n";
        any = true;
        o << "            <field>\n              <name>" << xml(f.name) << "</name>\n              <description>"
          << xml(f.doc.empty() ? f.name : f.doc) << "</description>\n              <bitOffset>" << f.lsb
          << "</bitOffset>\n              <bitWidth>" << f.width << "</bitWidth>\n            </field>\n";
      }
      if (any) o << "          </fields>\n";
      o << "        </register>\n";
    }
    o << "      </registers>\n    </peripheral>\n";
  }
  o << "  </peripherals>\n</device>\n";
  return o.str();
}

}  // namespace cimsim
