#pragma once
// The descriptor's byte layout as a declarative table (offset, size, type, meaning): what the firmware
// header (ENOS_DESC_*_OFF/_SIZE) and docs are generated from. encode()/decode() in descriptor.cpp remain the
// code that writes and reads records; tests/accel/descriptor_layout_test.cpp checks field by field that they
// agree with this table. When the record changes, change encode/decode and this table together.
#include <string>
#include <vector>

#include "cimsim/soc/regdesc.hpp"

namespace cimsim::accel {

struct DescriptorField {
  const char* name;  ///< lower-case field name (C macro: ENOS_DESC_<NAME>_OFF)
  unsigned offset;   ///< byte offset in the record
  unsigned bytes;    ///< 1, 2, 4 or 8
  const char* type;  ///< u8, u16, u32, i32, u64, f64 (little-endian; f64 = IEEE 754 binary64)
  const char* doc;
};

/// Every field of the descriptor record, in offset order (reserved bytes are not listed).
const std::vector<DescriptorField>& descriptor_layout();
/// The same table as a RecordDef (name "DESC") for the register description generators.
RecordDef descriptor_record();

}  // namespace cimsim::accel
