#pragma once
// Bounded YAML loading. yaml-cpp builds the node tree with every alias as a shared node, so a kilobyte of
// aliases (the "billion laughs") is a small tree that expands to billions of nodes once converted or walked.
// load_yaml walks the tree with the aliases expanded, counting nodes and depth, and refuses it before any
// conversion once a bound is passed. It also refuses a second document (it would be ignored).
#include <cstdint>
#include <string>

#include <yaml-cpp/yaml.h>

namespace cimsim {

/// Nodes of a YAML document counted with every alias expanded (keys, values and sequence items).
constexpr uint64_t kMaxYamlNodes = 1'000'000;
/// Nesting levels of a YAML document (aliases expanded).
constexpr int kMaxYamlDepth = 256;

/// Parses `text` (read from `path`) as exactly one YAML document (an empty text is a Null node) and checks it
/// against kMaxYamlNodes / kMaxYamlDepth. Throws ConfigError naming the path (and line:column where known).
YAML::Node load_yaml(const std::string& text, const std::string& path);

}  // namespace cimsim
