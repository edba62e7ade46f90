// cimsim: one command line for the accelerator testbench, the ENOS search and MC2RAM sampling. Conventions
// shared by the subcommands (exit codes, "did you mean", --out-dir, defaults in --help): cli/common.hpp,
// docs/cli.md.
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>
#include <filesystem>
#include <new>
#include <iostream>

#include <nlohmann/json.hpp>
#include <systemc>

#include "cli/command_registry.hpp"
#include "cli/common.hpp"
#include "cimsim/core/error.hpp"

// Our own entry point (it replaces libsystemc's main): SystemC prints its copyright banner when its simulation
// context starts, so the switch must be set before SystemC is initialised. The banner is silenced unless
// CIMSIM_SYSTEMC_BANNER=1; a user's own SYSTEMC_DISABLE_COPYRIGHT_MESSAGE is respected.
int main(int argc, char* argv[]) {
  const char* show = std::getenv("CIMSIM_SYSTEMC_BANNER");
  if (show && std::string(show) == "1")
    ::unsetenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE");
  else
    ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  return sc_core::sc_elab_and_sim(argc, argv);
}

int sc_main(int argc, char* argv[]) {
  CLI::App app{"cimsim: SystemC/TLM-2.0 models of the ENOS accelerator and the MC2RAM sampler.\n"
               "Usage errors exit 2, configuration errors 2, I/O errors 3 (docs/cli.md). Outputs: --out-dir DIR in "
               "every subcommand; relative paths are relative to the working directory.\n"
               "Environment: CIMSIM_SYSTEMC_BANNER=1 shows SystemC's banner; CIMSIM_DATA, CIMSIM_TECH, "
               "CIMSIM_TRACES, CIMSIM_PROGRESS (docs/build.md)."};
  cimsim::cli::apply_conventions(app);
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("cimsim 0.1.0"));
  auto& reg = cimsim::cli::registry();
  std::sort(reg.begin(), reg.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<cimsim::cli::Runner> runners;
  for (auto& e : reg) runners.push_back(e.setup(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return cimsim::cli::handle_parse_error(app, e, std::vector<std::string>(argv + 1, argv + argc), std::cout,
                                           std::cerr);
  }
  try {
    for (auto& r : runners) {
      const int rc = r();
      if (rc >= 0) return rc;
    }
  } catch (const cimsim::ConfigError& e) {
    std::cerr << "cimsim: configuration error: " << e.what() << "\n";
    return cimsim::cli::kUsageError;
  } catch (const cimsim::IoError& e) {
    std::cerr << "cimsim: I/O error: " << e.what() << "\n";
    return 3;
  } catch (const std::filesystem::filesystem_error& e) {  // a path no command wrapped: still an I/O error
    std::cerr << "cimsim: I/O error: " << e.what() << "\n";
    return 3;
  } catch (const nlohmann::json::exception& e) {  // input no loader wrapped: still a configuration error
    std::cerr << "cimsim: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "cimsim: error: out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "cimsim: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
