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
#include <yaml-cpp/yaml.h>

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

void atomic_write_json(const std::string& path, const nlohmann::json& j) { atomic_write(path, j.dump(2) + "\n"); }

std::string read_file(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) throw IoError("cannot read " + path + ": it is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + path + ": " + std::strerror(errno));
  std::ostringstream os;
  os << in.rdbuf();
  if (in.bad()) throw IoError("cannot read " + path);
  return os.str();
}

namespace {
std::string yaml_where(const std::string& path, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return path + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

nlohmann::json yaml_to_json(const YAML::Node& n, const std::string& path) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      // Non-finite floats (YAML .nan/.inf, or NaN/Infinity spelled out) are refused: no input number may be one.
      std::string low;
      for (char ch : s) low += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (low == ".nan" || low == ".inf" || low == "+.inf" || low == "-.inf" || low == "nan" || low == "inf" ||
          low == "-inf" || low == "+inf" || low == "infinity" || low == "-infinity")
        throw ConfigError(yaml_where(path, n) + ": non-finite number '" + s + "' is not accepted");
      try {
        size_t pos = 0;
        long long i = std::stoll(s, &pos);
        if (pos == s.size()) return i;
      } catch (...) {
      }
      {
        errno = 0;
        char* end = nullptr;
        const double d = std::strtod(s.c_str(), &end);
        if (!s.empty() && end == s.c_str() + s.size()) {
          if (errno == ERANGE && std::abs(d) > 1.0)
            throw ConfigError(yaml_where(path, n) + ": number " + s + " is out of the range of a double");
          return d;
        }
      }
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      return s;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& e : n) a.push_back(yaml_to_json(e, path));
      return a;
    }
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      for (const auto& kv : n) {
        const std::string key = kv.first.as<std::string>();
        if (o.contains(key))
          throw ConfigError(yaml_where(path, kv.first) + ": duplicate key \"" + key + "\" (keys must be unique)");
        o[key] = yaml_to_json(kv.second, path);
      }
      return o;
    }
  }
  return nullptr;
}
}  // namespace

nlohmann::json load_json_or_yaml(const std::string& path) {
  const std::string text = read_file(path);
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".yaml" || ext == ".yml") {
    try {
      return yaml_to_json(YAML::Load(text), path);
    } catch (const YAML::Exception& e) {
      throw ConfigError(path + ": malformed YAML: " + e.what());
    }
  }
  // Refuse duplicate keys (nlohmann keeps the last silently) and numbers beyond a double (1e400 -> inf).
  std::vector<std::set<std::string>> keys;
  std::string last_key;
  const nlohmann::json::parser_callback_t cb = [&](int, nlohmann::json::parse_event_t ev, nlohmann::json& v) {
    using E = nlohmann::json::parse_event_t;
    if (ev == E::object_start) keys.emplace_back();
    else if (ev == E::object_end && !keys.empty()) keys.pop_back();
    else if (ev == E::key && !keys.empty()) {
      last_key = v.get<std::string>();
      if (!keys.back().insert(last_key).second)
        throw ConfigError(path + ": duplicate key \"" + last_key + "\" (keys must be unique)");
    } else if (ev == E::value && v.is_number_float() && !std::isfinite(v.get<double>())) {
      throw ConfigError(path + ": a number under \"" + last_key + "\" is out of the range of a double");
    }
    return true;
  };
  try {
    return nlohmann::json::parse(text, cb);
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path + ": malformed JSON: " + e.what());
  } catch (const nlohmann::json::out_of_range& e) {
    throw ConfigError(path + ": a number under \"" + last_key + "\" is out of the range of a double (" + e.what() +
                      ")");
  }
}

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

std::string data_dir() {
  if (const char* env = std::getenv("CIMSIM_DATA"); env && *env) return env;
  static const std::string prefix = find_prefix();
  if (!prefix.empty()) return (fs::path(prefix) / CIMSIM_REL_DATA_DIR).string();
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
