// cimsim: one command line for the accelerator testbench, the ENOS search and MC2RAM sampling.
#include <algorithm>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <new>
#include <iostream>

#include <nlohmann/json.hpp>
#include <systemc>

#include "cli/command_registry.hpp"
#include "cimsim/core/error.hpp"

int sc_main(int argc, char* argv[]) {
  CLI::App app{"cimsim: SystemC/TLM-2.0 models of the ENOS accelerator and the MC2RAM sampler"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("cimsim 0.1.0"));
  auto& reg = cimsim::cli::registry();
  std::sort(reg.begin(), reg.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  std::vector<cimsim::cli::Runner> runners;
  for (auto& e : reg) runners.push_back(e.setup(app));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    for (auto& r : runners) {
      const int rc = r();
      if (rc >= 0) return rc;
    }
  } catch (const cimsim::ConfigError& e) {
    std::cerr << "cimsim: configuration error: " << e.what() << "\n";
    return 2;
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
