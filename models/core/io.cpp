#include "cimsim/core/io.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <set>
#include <vector>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cimsim/core/error.hpp"

#include <dlfcn.h>

// Relative install layout (GNUInstallDirs), set by models/CMakeLists.txt. No absolute path is compiled in.
#ifndef CIMSIM_REL_DATA_DIR
#define CIMSIM_REL_DATA_DIR "share/cimsim"
#endif

namespace cimsim {
namespace fs = std::filesystem;

namespace {
/// Outputs replace regular files only: never a symlink (it would be replaced by a file, or a rename through it
/// would write elsewhere), a device node (`--report /dev/full` once replaced the node when run as root), a FIFO,
/// a socket or a directory.
void refuse_non_regular_impl(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return;  // absent (or unreadable: the write itself will report it)
  if (S_ISREG(st.st_mode)) return;
  const char* kind = S_ISLNK(st.st_mode)   ? "a symbolic link"
                     : S_ISDIR(st.st_mode) ? "a directory"
                     : S_ISCHR(st.st_mode) ? "a character device"
                     : S_ISBLK(st.st_mode) ? "a block device"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "not a regular file";
  throw IoError("refusing to replace " + path + ": it exists and is " + kind + " (outputs replace regular files only)");
}
}  // namespace

void check_replaceable(const std::string& path) { refuse_non_regular_impl(path); }

AtomicFileWriter::AtomicFileWriter(const std::string& path) : path_(path) {
  check_replaceable(path);
  const fs::path target(path);
  if (path.empty() || !target.has_filename()) throw IoError("cannot write '" + path + "': not a file name");
  check_replaceable(path);
  if (target.has_parent_path()) {
    std::error_code ec;
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw IoError("cannot create directory " + target.parent_path().string() + ": " + ec.message());
  }
  std::string tmpl = (target.has_parent_path() ? target.parent_path().string() + "/" : std::string()) + "." +
                     target.filename().string() + ".tmpXXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  fd_ = ::mkstemp(buf.data());
  if (fd_ < 0) throw IoError("cannot create a temporary file next to " + path + ": " + std::strerror(errno));
  tmp_ = buf.data();
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFileWriter::write(const char* p, size_t left) {
  if (fd_ < 0) throw IoError("write to " + path_ + " after commit");
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw IoError("cannot write " + path_ + ": " + std::strerror(errno));
    }
    if (n == 0) throw IoError("cannot write " + path_ + ": " + std::strerror(EIO));
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void AtomicFileWriter::commit() {
  if (fd_ < 0) throw IoError("commit of " + path_ + " twice");
  const int fd = fd_;
  fd_ = -1;
  auto fail = [&](const std::string& what, int err, bool close_fd) {
    if (close_fd) ::close(fd);
    ::unlink(tmp_.c_str());
    throw IoError("cannot " + what + " " + path_ + ": " + std::strerror(err));
  };
  if (::fchmod(fd, 0644) != 0) fail("set the mode of", errno, true);
  if (::fsync(fd) != 0) fail("flush", errno, true);
  if (::close(fd) != 0) fail("close", errno, false);
  try {
    check_replaceable(path_);  // again: something may have been put there while we wrote
  } catch (...) {
    ::unlink(tmp_.c_str());
    throw;
  }
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail("rename a temporary file onto", errno, false);
  // Make the rename itself durable (best effort: some filesystems refuse fsync on a directory).
  const fs::path parent = fs::path(path_).has_parent_path() ? fs::path(path_).parent_path() : fs::path(".");
  const int dfd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void atomic_write(const std::string& path, const std::string& content) {
  AtomicFileWriter w(path);
  w.write(content);
  w.commit();
}

void check_output_path(const std::string& path, const std::string& what) {
  const std::string named = what.empty() ? path : what + " " + path;
  if (path.empty()) throw IoError((what.empty() ? std::string("output") : what) + ": empty path");
  const fs::path target(path);
  if (!target.has_filename() || target.filename() == "." || target.filename() == "..")
    throw IoError("cannot write " + named + ": not a file name");
  try {
    check_replaceable(path);
  } catch (const IoError& e) {
    throw IoError((what.empty() ? std::string() : what + ": ") + e.what());
  }
  // The nearest existing ancestor must be a directory we may write in (atomic_write creates the rest).
  fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  for (;;) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode))
        throw IoError("cannot write " + named + ": " + dir.string() + " exists and is not a directory");
      if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw IoError("cannot write " + named + ": directory " + dir.string() + " is not writable (" +
                      std::strerror(errno) + ")");
      return;
    }
    if (errno != ENOENT)
      throw IoError("cannot write " + named + ": " + dir.string() + ": " + std::strerror(errno));
    if (dir == ".") throw IoError("cannot write " + named + ": the current directory is gone");
    if (!dir.has_parent_path() || dir.parent_path() == dir) {
      dir = ".";
      continue;
    }
    dir = dir.parent_path();
  }
}

void check_output_paths(const std::vector<std::pair<std::string, std::string>>& outputs) {
  for (const auto& [what, path] : outputs)
    if (!path.empty()) check_output_path(path, what);
}

void OutputWriter::finish() const {
  if (failed_.empty()) return;
  std::string m = failed_.size() == 1 ? "an output could not be written: " : "outputs could not be written: ";
  for (size_t i = 0; i < failed_.size(); ++i) m += (i ? "; " : "") + failed_[i];
  if (!written_.empty()) {
    m += " (written:";
    for (const auto& w : written_) m += " " + w;
    m += ")";
  }
  throw IoError(m);
}

void atomic_write_json(const std::string& path, const nlohmann::json& j) { atomic_write(path, j.dump(2) + "\n"); }

namespace {
// The prefix the running code was installed under: walk up from the directory of the shared library that
// holds this function (when cimsim is built as shared libraries) and then from the running executable,
// looking for <dir>/share/cimsim/tech. Covers an installed prefix (<prefix>/bin/x, <prefix>/lib/libx.so)
// and the build tree (build/share/cimsim links to the source data/, see CMakeLists.txt).
std::string find_prefix() {
  std::vector<fs::path> starts;
  Dl_info info{};
  if (::dladdr(reinterpret_cast<void*>(&find_prefix), &info) && info.dli_fname && *info.dli_fname)
    starts.emplace_back(info.dli_fname);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) starts.push_back(exe);
  for (const fs::path& s : starts) {
    fs::path dir = fs::absolute(s, ec).lexically_normal().parent_path();
    for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
      if (fs::is_regular_file(dir / CIMSIM_REL_DATA_DIR / "tech" / "45nm.json", ec)) return dir.string();
      if (dir == dir.root_path()) break;
    }
  }
  return {};
}
}  // namespace

namespace {
std::string& data_dir_hint() {
  static std::string hint;
  return hint;
}
}  // namespace

bool register_data_dir_hint(const char* dir) {
  if (dir && *dir) data_dir_hint() = dir;
  return true;
}

std::string data_dir() {
  if (const char* env = std::getenv("CIMSIM_DATA"); env && *env) return env;
  static const std::string prefix = find_prefix();
  if (!prefix.empty()) return (fs::path(prefix) / CIMSIM_REL_DATA_DIR).string();
  if (const std::string& h = data_dir_hint(); !h.empty()) {
    std::error_code ec;
    if (fs::is_regular_file(fs::path(h) / "tech" / "45nm.json", ec)) return h;
  }
  throw IoError(
      "cannot find the cimsim data directory (" CIMSIM_REL_DATA_DIR " under the install prefix of this program "
      "or library); set CIMSIM_DATA to the folder holding tech/45nm.json");
}

std::string traces_dir() {
  if (const char* env = std::getenv("CIMSIM_TRACES"); env && *env) return env;
  // In the build tree, traces go to the source traces/ (linked as share/cimsim-traces); elsewhere ./traces.
  static const std::string prefix = find_prefix();
  const fs::path tree = fs::path(prefix) / (CIMSIM_REL_DATA_DIR "-traces");
  std::error_code ec;
  if (!prefix.empty() && fs::is_directory(tree, ec)) return fs::canonical(tree, ec).string();
  return "traces";
}

}  // namespace cimsim
