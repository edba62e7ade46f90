// CLI conventions shared by every subcommand: see common.hpp and docs/cli.md.
#include "cli/common.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "cimsim/core/error.hpp"

namespace cimsim::cli {

size_t edit_distance(const std::string& a, const std::string& b) {
  // Optimal string alignment: insertions, deletions, substitutions and transpositions of neighbours ("rnu").
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.size()][b.size()];
}

std::string closest_match(const std::string& word, const std::vector<std::string>& candidates) {
  std::string bare = word;
  while (!bare.empty() && bare.front() == '-') bare.erase(bare.begin());
  const size_t limit = std::clamp<size_t>(bare.size() / 3, 1, 3);
  std::string best;
  size_t best_d = limit + 1;
  for (const auto& c : candidates) {
    std::string cb = c;
    while (!cb.empty() && cb.front() == '-') cb.erase(cb.begin());
    size_t d = edit_distance(bare, cb);
    // A prefix of a long option ("--topo" for "--topology") is also a plausible intent.
    if (bare.size() >= 3 && cb.rfind(bare, 0) == 0) d = std::min<size_t>(d, 1);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best_d <= limit ? best : std::string();
}

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::Option* o : app.get_options()) {
    for (const auto& n : o->get_lnames()) out.push_back("--" + n);
    for (const auto& n : o->get_snames()) out.push_back("-" + n);
  }
  return out;
}

namespace {

/// The subcommand the user chose (the deepest parsed one), or null.
CLI::App* chosen(CLI::App& app) {
  CLI::App* cur = nullptr;
  for (CLI::App* s : app.get_subcommands()) cur = s;
  if (!cur) return nullptr;
  CLI::App* deeper = chosen(*cur);
  return deeper ? deeper : cur;
}

std::vector<std::string> subcommand_names(CLI::App& app) {
  std::vector<std::string> out;
  for (CLI::App* s : app.get_subcommands([](CLI::App*) { return true; })) out.push_back(s->get_name());
  return out;
}

}  // namespace

int handle_parse_error(CLI::App& app, const CLI::ParseError& e, const std::vector<std::string>& args,
                       std::ostream& out, std::ostream& err) {
  if (e.get_exit_code() == 0) return app.exit(e, out, err);  // --help, --help-all, --version
  CLI::App* sub = chosen(app);
  const std::string who = sub ? "cimsim " + sub->get_name() : std::string("cimsim");
  err << who << ": error: " << e.what() << "\n";
  std::vector<std::string> extras = app.remaining(true);
  if (sub)
    for (const auto& a : sub->remaining(true))
      if (std::find(extras.begin(), extras.end(), a) == extras.end()) extras.push_back(a);
  if (!sub)  // CLI11 reports a missing subcommand before the stray word: take the first word that is no option
    for (const auto& a : args)
      if (!a.empty() && a[0] != '-') {
        if (std::find(extras.begin(), extras.end(), a) == extras.end()) extras.push_back(a);
        break;
      }
  bool hinted = false;
  for (const auto& a : extras) {
    if (a.size() > 1 && a[0] == '-') {
      const std::string name = a.substr(0, a.find('='));
      const std::string m = closest_match(name, option_names(sub ? *sub : app));
      if (!m.empty()) {
        err << "  did you mean " << m << "? (instead of " << name << ")\n";
        hinted = true;
      }
    } else if (!sub) {
      const std::string m = closest_match(a, subcommand_names(app));
      if (!m.empty()) {
        err << "  did you mean 'cimsim " << m << "'? (instead of '" << a << "')\n";
        hinted = true;
      }
    }
  }
  if (!sub && !hinted && extras.empty()) {
    err << "  subcommands:";
    for (const auto& n : subcommand_names(app)) err << " " << n;
    err << "\n";
  }
  err << "Run '" << who << " --help' for the options.\n";
  return kUsageError;
}

void apply_conventions(CLI::App& app) {
  app.option_defaults()->always_capture_default();
}

std::string output_path(const std::string& explicit_path, const std::string& out_dir, const std::string& name) {
  if (!explicit_path.empty()) return explicit_path;
  if (out_dir.empty()) return {};
  return (std::filesystem::path(out_dir) / name).string();
}

void make_out_dir(const std::string& dir, const std::string& cmd) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir, ec))
    throw IoError(cmd + ": cannot create --out-dir " + dir + (ec ? ": " + ec.message() : ": not a directory"));
}

std::string default_trace_stem(const std::string& out_dir, const std::string& stem) {
  if (!out_dir.empty()) return (std::filesystem::path(out_dir) / stem).string();
  if (const char* env = std::getenv("CIMSIM_TRACES"); env && *env) return (std::filesystem::path(env) / stem).string();
  return (std::filesystem::path("traces") / stem).string();
}

void require_with(bool given, const std::string& option, bool needed, const std::string& needs,
                  const std::string& cmd) {
  if (given && !needed) throw ConfigError(cmd + ": " + option + " needs " + needs);
}

void refuse_options(const CLI::App& sub, const std::vector<std::string>& options, bool allowed,
                    const std::string& why, const std::string& cmd) {
  if (allowed) return;
  for (const auto& o : options)
    if (sub.count(o) > 0) throw ConfigError(cmd + ": " + o + " " + why);
}

void check_run_options(const CLI::App& sub, const std::string& topology_flag, const std::string& level,
                       bool vcd_on) {
  refuse_options(sub, {"--op", "--mode", "--adc-bits", "--cim-rows", "--assignment"}, !topology_flag.empty(),
                 "applies to the layers of a --topology or --onnx workload; the built-in demo network and --export carry "
                 "their own operators and modes",
                 "run");
  refuse_options(sub, {"--vcd-detail"}, vcd_on, "needs --vcd", "run");
  if (vcd_on && level != "cycle")
    throw ConfigError("run: --vcd traces the signals of the cycle-level model; add --level cycle (the LT model "
                      "has no clocked signals to trace)");
}

}  // namespace cimsim::cli
