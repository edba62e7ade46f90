#include "cimsim/soc/register_bank.hpp"

#include <cstring>
#include <iomanip>
#include <sstream>
#include <stdexcept>

namespace cimsim {

const char* to_string(Access a) {
  switch (a) {
    case Access::RO: return "RO";
    case Access::RW: return "RW";
    case Access::WO: return "WO";
    case Access::W1C: return "W1C";
  }
  return "?";
}

RegisterBank::RegisterBank(std::string device_name) : device_(std::move(device_name)) {}

RegisterBank& RegisterBank::add(RegisterDef def) {
  if (def.offset % 4 != 0) throw std::logic_error(device_ + ": register " + def.name + " is not 4-byte aligned");
  for (const auto& d : defs_) {
    if (d.offset == def.offset) throw std::logic_error(device_ + ": registers " + d.name + " and " + def.name + " overlap");
    if (d.name == def.name) throw std::logic_error(device_ + ": duplicate register name " + def.name);
  }
  values_.push_back(def.reset);
  defs_.push_back(std::move(def));
  return *this;
}

const RegisterDef* RegisterBank::find(uint32_t offset) const {
  for (const auto& d : defs_)
    if (d.offset == offset) return &d;
  return nullptr;
}

size_t RegisterBank::index_of(const std::string& name) const {
  for (size_t i = 0; i < defs_.size(); ++i)
    if (defs_[i].name == name) return i;
  throw std::logic_error(device_ + ": no register named " + name);
}

tlm::tlm_response_status RegisterBank::access(tlm::tlm_generic_payload& gp) {
  auto fail = [&gp](tlm::tlm_response_status s) {
    gp.set_response_status(s);
    return s;
  };
  const uint64_t addr = gp.get_address();
  const unsigned len = gp.get_data_length();
  if (addr > 0xFFFFFFFFull || addr % 4 != 0) return fail(tlm::TLM_ADDRESS_ERROR_RESPONSE);
  const RegisterDef* def = find(static_cast<uint32_t>(addr));
  if (!def) return fail(tlm::TLM_ADDRESS_ERROR_RESPONSE);
  // Streaming width 0 means "no streaming" (sent by common VPs, e.g. riscv-vp's ISS), like >= 4.
  const unsigned sw = gp.get_streaming_width();
  if (len != 4 || (sw != 0 && sw < 4)) return fail(tlm::TLM_BURST_ERROR_RESPONSE);
  if (gp.get_byte_enable_ptr()) {
    const unsigned bel = gp.get_byte_enable_length();
    for (unsigned i = 0; i < 4; ++i)
      if (bel == 0 || gp.get_byte_enable_ptr()[i % bel] != TLM_BYTE_ENABLED) return fail(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  }
  const size_t idx = static_cast<size_t>(def - defs_.data());
  if (gp.is_read()) {
    if (def->access == Access::WO) return fail(tlm::TLM_COMMAND_ERROR_RESPONSE);
    const uint32_t v = def->on_read ? def->on_read(values_[idx]) : values_[idx];
    std::memcpy(gp.get_data_ptr(), &v, 4);
  } else if (gp.is_write()) {
    if (def->access == Access::RO) return fail(tlm::TLM_COMMAND_ERROR_RESPONSE);
    uint32_t in;
    std::memcpy(&in, gp.get_data_ptr(), 4);
    const uint32_t old = values_[idx];
    uint32_t next;
    if (def->access == Access::W1C)
      next = old & ~(in & def->write_mask);
    else
      next = (old & ~def->write_mask) | (in & def->write_mask);
    if (def->validate && !def->validate(next)) return fail(tlm::TLM_GENERIC_ERROR_RESPONSE);
    values_[idx] = next;
    if (def->on_write) defs_[idx].on_write(next, old);
  } else {
    return fail(tlm::TLM_OK_RESPONSE);  // TLM_IGNORE_COMMAND
  }
  return fail(tlm::TLM_OK_RESPONSE);
}

unsigned RegisterBank::debug_access(tlm::tlm_generic_payload& gp) {
  const uint64_t addr = gp.get_address();
  const unsigned len = gp.get_data_length();
  unsigned char* data = gp.get_data_ptr();
  unsigned done = 0;
  while (done < len) {
    const uint64_t a = addr + done;
    const uint32_t base = static_cast<uint32_t>(a & ~3ull);
    const RegisterDef* def = a > 0xFFFFFFFFull ? nullptr : find(base);
    if (!def) break;
    const size_t idx = static_cast<size_t>(def - defs_.data());
    const unsigned off = static_cast<unsigned>(a - base);
    const unsigned n = std::min(4u - off, len - done);
    uint32_t v = values_[idx];
    if (gp.is_read()) {
      if (def->on_read) v = def->on_read(v);
      std::memcpy(data + done, reinterpret_cast<unsigned char*>(&v) + off, n);
    } else if (gp.is_write()) {
      std::memcpy(reinterpret_cast<unsigned char*>(&v) + off, data + done, n);
      values_[idx] = v;
    }
    done += n;
  }
  return done;
}

uint32_t RegisterBank::get(const std::string& name) const { return values_[index_of(name)]; }
void RegisterBank::set(const std::string& name, uint32_t value) { values_[index_of(name)] = value; }
uint32_t RegisterBank::get(uint32_t offset) const {
  const RegisterDef* d = find(offset);
  if (!d) throw std::logic_error(device_ + ": no register at offset " + std::to_string(offset));
  return values_[static_cast<size_t>(d - defs_.data())];
}
void RegisterBank::set(uint32_t offset, uint32_t value) {
  const RegisterDef* d = find(offset);
  if (!d) throw std::logic_error(device_ + ": no register at offset " + std::to_string(offset));
  values_[static_cast<size_t>(d - defs_.data())] = value;
}
bool RegisterBank::contains(uint32_t offset) const { return find(offset) != nullptr; }
void RegisterBank::reset() {
  for (size_t i = 0; i < defs_.size(); ++i) values_[i] = defs_[i].reset;
}

std::string RegisterBank::to_markdown() const {
  std::ostringstream os;
  os << "| offset | name | access | reset | description |\n|---|---|---|---|---|\n";
  for (const auto& d : defs_) {
    os << "| 0x" << std::hex << std::setw(3) << std::setfill('0') << d.offset << " | `" << d.name << "` | "
       << to_string(d.access) << " | 0x" << std::setw(8) << d.reset << std::dec << std::setfill(' ') << " | " << d.doc
       << " |\n";
  }
  return os.str();
}

}  // namespace cimsim
