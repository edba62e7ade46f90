#include "cimsim/core/io.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include "cimsim/core/error.hpp"

#ifndef CIMSIM_SOURCE_DATA_DIR
#define CIMSIM_SOURCE_DATA_DIR "data"
#endif
#ifndef CIMSIM_SOURCE_TRACES_DIR
#define CIMSIM_SOURCE_TRACES_DIR "traces"
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

void atomic_write(const std::string& path, const std::string& content) {
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
  const int fd = ::mkstemp(buf.data());
  if (fd < 0) throw IoError("cannot create a temporary file next to " + path + ": " + std::strerror(errno));
  auto fail = [&](const std::string& what, int err, bool close_fd) {
    if (close_fd) ::close(fd);
    ::unlink(buf.data());
    throw IoError("cannot " + what + " " + path + ": " + std::strerror(err));
  };
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", errno, true);
    }
    if (n == 0) fail("write", EIO, true);
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0) fail("set the mode of", errno, true);
  if (::fsync(fd) != 0) fail("flush", errno, true);
  if (::close(fd) != 0) fail("close", errno, false);
  check_replaceable(path);  // again: something may have been put there while we wrote
  if (std::rename(buf.data(), path.c_str()) != 0) fail("rename a temporary file onto", errno, false);
  // Make the rename itself durable (best effort: some filesystems refuse fsync on a directory).
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : std::string(".");
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
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
nlohmann::json yaml_to_json(const YAML::Node& n, const std::string& path) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      try {
        size_t pos = 0;
        long long i = std::stoll(s, &pos);
        if (pos == s.size()) return i;
      } catch (...) {
      }
      try {
        size_t pos = 0;
        double d = std::stod(s, &pos);
        if (pos == s.size()) return d;
      } catch (...) {
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
      for (const auto& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second, path);
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
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for numbers such as 1e999
    throw ConfigError(path + ": malformed JSON: " + e.what());
  }
}

std::string data_dir() {
  if (const char* env = std::getenv("CIMSIM_DATA"); env && *env) return env;
  return CIMSIM_SOURCE_DATA_DIR;
}

std::string traces_dir() {
  if (const char* env = std::getenv("CIMSIM_TRACES"); env && *env) return env;
  return CIMSIM_SOURCE_TRACES_DIR;
}

}  // namespace cimsim
