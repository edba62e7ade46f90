#pragma once
// Subcommand registry of the cimsim CLI. A subcommand lives in tb/cli/cmd_<name>.cpp and registers itself:
//
//   static cimsim::cli::Registrar reg("run", [](CLI::App& app) -> std::function<int()> {
//     auto* sub = app.add_subcommand("run", "...");
//     auto opts = std::make_shared<Options>();  sub->add_option(...);
//     return [sub, opts] { return sub->parsed() ? do_run(*opts) : -1; };
//   });
//
// The callback returned is invoked after parsing; it returns the exit code, or -1 if its subcommand was not
// the one chosen.
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace cimsim::cli {

using Runner = std::function<int()>;
using Setup = std::function<Runner(CLI::App&)>;

struct Entry {
  std::string name;
  Setup setup;
};

inline std::vector<Entry>& registry() {
  static std::vector<Entry> r;
  return r;
}

struct Registrar {
  Registrar(std::string name, Setup setup) { registry().push_back({std::move(name), std::move(setup)}); }
};

}  // namespace cimsim::cli
