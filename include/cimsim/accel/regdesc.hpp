#pragma once
// The accelerator's machine-readable description: register_map() rows (regmap.hpp) plus bit fields, error
// codes, constants and the descriptor layout (descriptor_layout.hpp). Firmware header and SVD are generated
// from it at build time (firmware/gen_regdesc.cpp).
#include "cimsim/soc/regdesc.hpp"

namespace cimsim::accel {

DeviceDescription device_description();

}  // namespace cimsim::accel
