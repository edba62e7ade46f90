#pragma once
// Small I/O helpers: atomic file writes (write to a temporary in the same directory, flush, rename) so a
// killed run never leaves a half-written output, and JSON loading with errors that name the file.
#include <string>

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
/// Reads a whole file. Throws IoError naming the path.
std::string read_file(const std::string& path);
/// Parses a JSON (or, by extension .yaml/.yml, YAML) file. Throws IoError / ConfigError naming the path.
nlohmann::json load_json_or_yaml(const std::string& path);
/// Directory of the project's data files: $CIMSIM_DATA if set, else the source tree's data/.
std::string data_dir();
/// Directory for VCD traces: $CIMSIM_TRACES if set, else the source tree's traces/.
std::string traces_dir();

}  // namespace cimsim
