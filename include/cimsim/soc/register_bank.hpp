#pragma once
// Declarative register bank (in the spirit of VCML's reg<>): every register is one row of a table with
// offset, access mode, reset value, write mask and optional read/write callbacks. A model owns a
// RegisterBank and forwards its target socket's b_transport / transport_dbg to access() / debug_access().
//
// Bus rules (one place, every device):
//  * registers are 32 bits wide, 4-byte aligned; an access must be exactly 4 bytes with streaming width >= 4
//    or 0 (0 = "no streaming", as common virtual platforms send it): other lengths, or a streaming width of
//    1..3 -> TLM_BURST_ERROR_RESPONSE;
//  * the initiator's annotated delay is neither waited for nor checked: a write takes effect when b_transport
//    is called (the device adds its own access latency to the delay);
//  * byte enables: absent or all-enabled is accepted; any partial enable -> TLM_BYTE_ENABLE_ERROR_RESPONSE;
//  * no register at the offset (or misaligned) -> TLM_ADDRESS_ERROR_RESPONSE;
//  * write to a read-only register, read of a write-only register -> TLM_COMMAND_ERROR_RESPONSE;
//  * a write callback that rejects the value (out of range) -> TLM_GENERIC_ERROR_RESPONSE, register unchanged.
// Access modes: RO, RW, WO, W1C (write 1 to clear). Debug accesses (transport_dbg) have no side effects:
// reads return the stored value without calling on_read's side effects (on_read must be side-effect free),
// writes store the value without calling on_write. Debug accesses may span several registers.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <tlm>

namespace cimsim {

enum class Access { RO, RW, WO, W1C };
const char* to_string(Access a);

struct RegisterDef {
  std::string name;
  uint32_t offset = 0;
  Access access = Access::RW;
  uint32_t reset = 0;
  uint32_t write_mask = 0xFFFFFFFFu;  ///< bits a bus write may change
  std::string doc;
  /// Value presented on a read, given the stored value (e.g. live counters). Must not change state.
  std::function<uint32_t(uint32_t stored)> on_read;
  /// Called with the proposed new value before it is stored; return false to reject the write.
  std::function<bool(uint32_t value)> validate;
  /// Called after a bus write stored a new value (old value given).
  std::function<void(uint32_t value, uint32_t old)> on_write;
};

class RegisterBank {
 public:
  explicit RegisterBank(std::string device_name = "device");
  RegisterBank& add(RegisterDef def);  ///< throws std::logic_error on overlapping/misaligned offsets

  /// Bus access: sets the payload's response status, returns it.
  tlm::tlm_response_status access(tlm::tlm_generic_payload& gp);
  /// Debug access: returns bytes transferred (0 on a decode miss).
  unsigned debug_access(tlm::tlm_generic_payload& gp);

  /// Model-side access to stored values (no callbacks, no access checks).
  uint32_t get(const std::string& name) const;
  void set(const std::string& name, uint32_t value);
  uint32_t get(uint32_t offset) const;
  void set(uint32_t offset, uint32_t value);
  bool contains(uint32_t offset) const;
  void reset();

  const std::vector<RegisterDef>& defs() const { return defs_; }
  const std::string& device_name() const { return device_; }
  /// Markdown table of the map (offset, name, access, reset, description) for docs/.
  std::string to_markdown() const;

 private:
  const RegisterDef* find(uint32_t offset) const;
  size_t index_of(const std::string& name) const;
  std::string device_;
  std::vector<RegisterDef> defs_;
  std::vector<uint32_t> values_;
};

}  // namespace cimsim
