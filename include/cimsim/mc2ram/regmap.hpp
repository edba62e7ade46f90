#pragma once
// The MC2RAM macro's register table without behaviour (offset, name, access, reset, write mask, doc) and its
// machine-readable description (fields, error codes, windows). The macro model adds its behaviour callbacks
// to these rows by name (models/mc2ram/macro.cpp); the firmware header and the SVD file are generated from
// device_description() (firmware/gen_regdesc.cpp). Offsets: regs.hpp.
#include <vector>

#include "cimsim/soc/regdesc.hpp"
#include "cimsim/soc/register_bank.hpp"

namespace cimsim::mc2ram {

std::vector<RegisterDef> register_map();
DeviceDescription device_description();

}  // namespace cimsim::mc2ram
