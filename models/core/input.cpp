// Reading inputs within bounds: regular files of bounded size (no FIFO, device node or directory is read),
// JSON of bounded depth, YAML of bounded alias expansion and a single document (docs/robustness.md).
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cimsim/core/error.hpp"
#include "cimsim/core/io.hpp"
#include "cimsim/core/yaml.hpp"

namespace cimsim {
namespace fs = std::filesystem;

namespace {
struct KindInfo {
  const char* env;
  const char* what;
  uint64_t bytes;
};
KindInfo info(InputKind k) {
  switch (k) {
    case InputKind::Export:
      return {"CIMSIM_MAX_EXPORT_BYTES", "an ENOS export", uint64_t{4} << 30};
    case InputKind::Checkpoint:
      return {"CIMSIM_MAX_CHECKPOINT_BYTES", "a checkpoint", uint64_t{4} << 30};
    case InputKind::Dataset:
      return {"CIMSIM_MAX_DATASET_BYTES", "a dataset file", uint64_t{1} << 30};
    case InputKind::Config:
    default:
      return {"CIMSIM_MAX_CONFIG_BYTES", "a configuration file", uint64_t{64} << 20};
  }
}

const char* file_type(mode_t m) {
  return S_ISDIR(m)    ? "a directory"
         : S_ISCHR(m)  ? "a character device"
         : S_ISBLK(m)  ? "a block device"
         : S_ISFIFO(m) ? "a FIFO"
         : S_ISSOCK(m) ? "a socket"
                       : "not a regular file";
}

// fstat of an open descriptor against the kind's bounds.
uint64_t check_fd(int fd, const std::string& path, InputKind kind) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw IoError("cannot read " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode))
    throw IoError("cannot read " + path + ": it is " + file_type(st.st_mode) + ", not a regular file");
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const uint64_t limit = input_limit(kind);
  if (size > limit)
    throw ConfigError(path + ": " + std::to_string(size) + " bytes is more than the " + std::to_string(limit) +
                      "-byte limit of " + info(kind).what + " (set " + input_limit_env(kind) + " to raise it)");
  return size;
}

// Opens for reading without blocking (a FIFO without a writer would block a plain open forever).
int open_nonblocking(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw IoError("cannot open " + path + ": " + std::strerror(errno));
  return fd;
}
}  // namespace

const char* input_limit_env(InputKind kind) { return info(kind).env; }

uint64_t input_limit(InputKind kind) {
  const KindInfo k = info(kind);
  const char* env = std::getenv(k.env);
  if (!env || !*env) return k.bytes;
  errno = 0;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(env, &end, 10);
  if (errno != 0 || end == env || *end != '\0' || v < 1 || env[0] == '-')
    throw ConfigError(std::string(k.env) + "='" + env + "' is not a byte count >= 1");
  return v;
}

uint64_t check_input_file(const std::string& path, InputKind kind) {
  const int fd = open_nonblocking(path);
  try {
    const uint64_t n = check_fd(fd, path, kind);
    ::close(fd);
    return n;
  } catch (...) {
    ::close(fd);
    throw;
  }
}

std::string read_file(const std::string& path, InputKind kind) {
  const int fd = open_nonblocking(path);
  std::string out;
  try {
    const uint64_t size = check_fd(fd, path, kind);
    const uint64_t limit = input_limit(kind);
    out.reserve(static_cast<size_t>(size));
    char buf[1 << 16];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw IoError("cannot read " + path + ": " + std::strerror(errno));
      }
      if (n == 0) break;
      if (out.size() + static_cast<uint64_t>(n) > limit)  // it grew while we read
        throw ConfigError(path + ": grew past the " + std::to_string(limit) + "-byte limit of " + info(kind).what +
                          " while being read (set " + input_limit_env(kind) + " to raise it)");
      out.append(buf, static_cast<size_t>(n));
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return out;
}

// ---- JSON ----
nlohmann::json parse_json(const std::string& text, const std::string& path) {
  // Refuse duplicate keys (nlohmann keeps the last silently), numbers beyond a double (1e400 -> inf) and
  // nesting deeper than kMaxJsonDepth (the parser is iterative, but copying and dumping recurse).
  std::vector<std::set<std::string>> keys;
  std::string last_key;
  const nlohmann::json::parser_callback_t cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& v) {
    using E = nlohmann::json::parse_event_t;
    if ((ev == E::object_start || ev == E::array_start) && depth >= kMaxJsonDepth)
      throw ConfigError(path + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels" +
                        (last_key.empty() ? std::string() : " (under \"" + last_key + "\")"));
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

// ---- YAML ----
namespace {
std::string yaml_where(const std::string& path, const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.line < 0) return path;
  return path + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// Counts the nodes of `root` with aliases expanded, iteratively, stopping at the first bound passed.
void check_yaml_bounds(const YAML::Node& root, const std::string& path) {
  std::vector<std::pair<YAML::Node, int>> stack;
  stack.emplace_back(root, 1);
  uint64_t nodes = 0;
  while (!stack.empty()) {
    auto [n, depth] = std::move(stack.back());
    stack.pop_back();
    if (++nodes > kMaxYamlNodes)
      throw ConfigError(path + ": YAML expands to more than " + std::to_string(kMaxYamlNodes) +
                        " nodes (aliases counted each time they are used)");
    if (depth > kMaxYamlDepth)
      throw ConfigError(yaml_where(path, n) + ": YAML nested deeper than " + std::to_string(kMaxYamlDepth) +
                        " levels (aliases expanded)");
    if (n.IsSequence()) {
      for (const auto& e : n) stack.emplace_back(e, depth + 1);
    } else if (n.IsMap()) {
      for (const auto& kv : n) {
        stack.emplace_back(kv.first, depth + 1);
        stack.emplace_back(kv.second, depth + 1);
      }
    }
  }
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
        if (!kv.first.IsScalar())
          throw ConfigError(yaml_where(path, kv.first) + ": a mapping key must be a plain value");
        const std::string key = kv.first.Scalar();
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

namespace {
/// 1-based line of a second YAML document in `text`, 0 if none. Lexical, on document markers at column 0 (YAML 1.2,
/// 9.1): a '---' after content, or content after a '...'. YAML::LoadAll is not used to find it: on some malformed
/// inputs (fuzz/repro/sweep-spec-loadall-hang.yaml, found by fuzz_sweep_spec) yaml-cpp 0.7's LoadAll and its
/// parser's document loop never return, while YAML::Load of the first document does.
size_t second_document_line(const std::string& text) {
  bool content = false, ended = false;
  size_t line = 0;
  for (size_t pos = 0; pos <= text.size();) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    std::string l = text.substr(pos, eol - pos);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    ++line;
    pos = eol + 1;
    auto marker = [&](const char* m) { return l.compare(0, 3, m) == 0 && (l.size() == 3 || l[3] == ' ' || l[3] == '\t'); };
    const size_t first = l.find_first_not_of(" \t");
    const bool blank = first == std::string::npos || l[first] == '#';
    if (marker("---")) {
      if (content || ended) return line;
      content = l.find_first_not_of(" \t", 3) != std::string::npos && l[l.find_first_not_of(" \t", 3)] != '#';
      continue;
    }
    if (marker("...")) {
      ended = content || ended;
      continue;
    }
    if (blank || (!content && !ended && l[0] == '%')) continue;  // comments, blank lines, directives
    if (ended) return line;
    content = true;
  }
  return 0;
}
}  // namespace

YAML::Node load_yaml(const std::string& text, const std::string& path) {
  if (const size_t line = second_document_line(text))
    throw ConfigError(path + ":" + std::to_string(line) +
                      ": a second YAML document ('---'): a file holds one document, the rest would be ignored");
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + (e.mark.is_null() ? std::string() : ":" + std::to_string(e.mark.line + 1)) +
                      ": malformed YAML: " + e.what());
  }
  check_yaml_bounds(root, path);
  return root;
}

nlohmann::json load_json_or_yaml(const std::string& path, InputKind kind) {
  const std::string text = read_file(path, kind);
  const std::string ext = fs::path(path).extension().string();
  if (ext == ".yaml" || ext == ".yml") {
    const YAML::Node root = load_yaml(text, path);
    try {
      return yaml_to_json(root, path);
    } catch (const YAML::Exception& e) {
      throw ConfigError(path + ": malformed YAML: " + e.what());
    }
  }
  return parse_json(text, path);
}

}  // namespace cimsim
