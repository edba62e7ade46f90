#pragma once
// Error types shared by every cimsim layer. Bad input is reported by throwing one of these with a message
// that names the offending entry (file, key, field); models turn them into TLM error responses or status bits.
#include <stdexcept>
#include <string>

namespace cimsim {

/// Malformed or out-of-range user input: config files, model/export files, GMMs, layer shapes.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An input/output failure (file missing, unreadable, not writable).
class IoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace cimsim
