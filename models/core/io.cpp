#include "cimsim/core/io.hpp"

#include <cerrno>
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

void atomic_write(const std::string& path, const std::string& content) {
  const fs::path target(path);
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
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(buf.data());
      throw IoError("cannot write " + path + ": " + why);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  ::fchmod(fd, 0644);
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(buf.data());
    throw IoError("cannot flush " + path);
  }
  if (std::rename(buf.data(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    ::unlink(buf.data());
    throw IoError("cannot rename temporary file onto " + path + ": " + why);
  }
}

void atomic_write_json(const std::string& path, const nlohmann::json& j) { atomic_write(path, j.dump(2) + "\n"); }

std::string read_file(const std::string& path) {
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
  } catch (const nlohmann::json::parse_error& e) {
    throw ConfigError(path + ": malformed JSON: " + e.what());
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
