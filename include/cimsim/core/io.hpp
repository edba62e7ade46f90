#pragma once
// Small I/O helpers: atomic file writes (write to a temporary in the same directory, flush, rename) so a
// killed run never leaves a half-written output, and JSON loading with errors that name the file.
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cimsim {

/// Writes `content` to `path` atomically (temporary in the same directory, every write/fsync/close/rename
/// checked). Creates parent directories. Refuses to replace anything that is not a regular file
/// (check_replaceable). Throws IoError naming the path on any failure; the old file is then left untouched.
void atomic_write(const std::string& path, const std::string& content);

/// Streaming form of atomic_write: append with write(), then commit() (flush, rename onto the path). Destroyed
/// without commit (an exception on the way), the temporary file is removed and the path left untouched.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(const std::string& path);
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;
  void write(const char* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  void commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
};
/// Throws IoError naming `path` if something other than a regular file exists there (symlink, device node,
/// FIFO, socket, directory): outputs replace regular files only. Absent paths pass.
void check_replaceable(const std::string& path);
/// Atomically writes pretty-printed JSON (2-space indent, trailing newline).
void atomic_write_json(const std::string& path, const nlohmann::json& j);
/// What an input file holds; each kind has a size limit (docs/robustness.md, "Inputs are bounded before they are
/// read"), overridable by an environment variable.
enum class InputKind {
  Config,      ///< energy tables, architectures, GMMs, topologies, assignments, sweep specs and records: 64 MiB
  Export,      ///< ENOS exports (.enos.json): 4 GiB
  Checkpoint,  ///< ENOS search checkpoints (checkpoint.pt): 4 GiB
  Dataset,     ///< IDX / CIFAR files: 1 GiB
};
/// The size limit of `kind` in bytes: the default above, or the environment variable input_limit_env(kind)
/// (a byte count, >= 1). A malformed override is a ConfigError naming the variable.
uint64_t input_limit(InputKind kind);
/// "CIMSIM_MAX_CONFIG_BYTES", "CIMSIM_MAX_EXPORT_BYTES", "CIMSIM_MAX_CHECKPOINT_BYTES", "CIMSIM_MAX_DATASET_BYTES".
const char* input_limit_env(InputKind kind);
/// Checks, without reading or blocking, that `path` is a regular file (symbolic links followed) of at most
/// input_limit(kind) bytes: a FIFO, a device node (/dev/zero), a socket or a directory is an IoError, a file
/// over the limit a ConfigError naming the limit and its variable. Returns the size.
uint64_t check_input_file(const std::string& path, InputKind kind = InputKind::Config);
/// Reads a whole regular file of bounded size (check_input_file, then at most the limit is read even if the
/// file grows meanwhile; a FIFO is never opened for blocking reads). Throws IoError / ConfigError naming the path.
std::string read_file(const std::string& path, InputKind kind = InputKind::Config);
/// JSON nesting deeper than this is refused by parse_json (and every loader built on it): deeper documents
/// would overflow the stack in nlohmann's recursive copy and dump.
constexpr int kMaxJsonDepth = 256;
/// Parses JSON text read from `path`: refuses duplicate keys, numbers beyond a double and nesting deeper
/// than kMaxJsonDepth, each a ConfigError naming the path.
nlohmann::json parse_json(const std::string& text, const std::string& path);
/// Parses a JSON (or, by extension .yaml/.yml, YAML: one document, aliases expanded within the bounds of
/// core/yaml.hpp) file. Throws IoError / ConfigError naming the path.
nlohmann::json load_json_or_yaml(const std::string& path, InputKind kind = InputKind::Config);

/// Checks before any work starts that `path` can be written as an output: not empty, not a directory or other
/// non-regular file (check_replaceable), and its nearest existing ancestor a writable directory (the parent
/// directories atomic_write would create can be). Creates nothing. Throws IoError naming `what` and the path.
void check_output_path(const std::string& path, const std::string& what);
/// check_output_path for each (option, path) pair whose path is not empty.
void check_output_paths(const std::vector<std::pair<std::string, std::string>>& outputs);

/// Writes several outputs independently: attempt() runs one writer and, if it throws, remembers the error and
/// goes on, so a bad CSV or plot path does not discard the JSON report; finish() then throws one IoError that
/// names every output that failed (and says which were written).
class OutputWriter {
 public:
  template <class F>
  void attempt(const std::string& what, F&& write) {
    try {
      write();
      written_.push_back(what);
    } catch (const std::exception& e) {
      failed_.push_back(what + ": " + e.what());
    }
  }
  void finish() const;

 private:
  std::vector<std::string> written_, failed_;
};
/// Directory of the project's data files: $CIMSIM_DATA if set; else <prefix>/share/cimsim found from the running
/// program or library (an install prefix or the build tree); else the hint registered by an installed package's
/// consumer (register_data_dir_hint); else an IoError saying to set CIMSIM_DATA.
std::string data_dir();
/// Registers where an installed cimsim package keeps its data. The CMake package (cimsimConfig.cmake) compiles
/// a call into every program that links cimsim::core, so a program built against an installed cimsim finds the
/// energy table and architectures wherever the program itself lives. Returns true (usable in a static init).
bool register_data_dir_hint(const char* dir);
/// Directory for VCD traces: $CIMSIM_TRACES if set, else the source tree's traces/.
std::string traces_dir();

}  // namespace cimsim
