#pragma once
// Machine-readable device descriptions built from a device's declarative register table (RegisterDef rows)
// plus its bit fields, enumerations and constants, and the two generators that turn them into firmware
// artefacts (docs/integration.md "Register descriptions"):
//  * to_c_header(): a C99 header, base-relative offsets, field shifts/masks, reset values, enums, constants;
//  * to_svd():      a CMSIS-SVD 1.3 device file (the format most register tools read).
// Both are produced at build time by firmware/gen_regdesc.cpp from accel::device_description() and
// mc2ram::device_description(); tests/firmware keep them in sync with the models.
#include <cstdint>
#include <string>
#include <vector>

#include "cimsim/soc/register_bank.hpp"

namespace cimsim {

struct FieldDef {
  std::string reg;   ///< register name (RegisterDef::name)
  std::string name;  ///< field name, unique within its register
  unsigned lsb = 0, width = 1;
  std::string doc;
};

struct EnumValue {
  std::string name;
  uint32_t value = 0;
  std::string doc;
};

struct EnumDef {
  std::string name;  ///< e.g. "ERR" -> <PREFIX>_ERR_<VALUE>
  std::string doc;
  std::vector<EnumValue> values;
};

struct ConstantDef {
  std::string name;  ///< -> <PREFIX>_<NAME>
  uint64_t value = 0;
  std::string doc;
};

/// A record in memory (e.g. a DMA descriptor) as a table of little-endian fields.
struct RecordField {
  std::string name;
  unsigned offset = 0;  ///< byte offset in the record
  unsigned bytes = 4;   ///< 1, 2, 4 or 8
  std::string doc;
};
struct RecordDef {
  std::string name;  ///< -> <PREFIX>_<NAME>_<FIELD>_OFF / _SIZE
  unsigned size = 0;
  std::string doc;
  std::vector<RecordField> fields;
};

/// A memory-like window inside the device's bus window (e.g. MC2RAM's GMM programming window).
struct WindowDef {
  std::string name;
  uint32_t offset = 0, bytes = 0;
  std::string doc;
};

struct DeviceDescription {
  std::string name;     ///< SVD peripheral name, e.g. "ENOS"
  std::string prefix;   ///< C macro prefix, e.g. "ENOS"
  std::string description;
  uint32_t window_bytes = 0x1000;  ///< bus window the device decodes
  std::vector<RegisterDef> registers;
  std::vector<FieldDef> fields;
  std::vector<EnumDef> enums;
  std::vector<ConstantDef> constants;
  std::vector<RecordDef> records;
  std::vector<WindowDef> windows;
};

/// Checks the description (fields inside 32 bits and not overlapping, field registers exist, record fields
/// inside the record); throws std::logic_error naming the offending item.
void validate(const DeviceDescription& d);
/// C99 header for one device (include guard, only <stdint.h>-free macros: every value is an unsigned literal).
std::string to_c_header(const DeviceDescription& d);
/// CMSIS-SVD device file with one peripheral per description, each at its `base` address.
std::string to_svd(const std::string& device_name, const std::vector<std::pair<DeviceDescription, uint64_t>>& periph);

}  // namespace cimsim
