#pragma once
// Guards of an ENOS search's output folder and checkpoint (no libtorch; docs/robustness.md "Outputs are never
// lost"): a search never replaces another run's files unless told to, and never resumes from a damaged
// checkpoint or one written by another configuration.
#include <string>

#include <nlohmann/json.hpp>

namespace cimsim::enos {

/// Checks `out_dir` before a search starts. A folder that holds a search run (checkpoint.pt, checkpoint.json,
/// report.json or network.enos.json) is refused (ConfigError naming the folder and the files) unless `resume`
/// (continue it; a finished run without its checkpoint is still refused) or `force` (replace it) says what to
/// do. An absent or empty folder, or one holding other files only, passes. A path that is not a directory is an
/// IoError. `resume` and `force` together are a ConfigError.
void check_search_out_dir(const std::string& out_dir, bool resume, bool force);

/// Reads a checkpoint for resuming: a regular file within the checkpoint size limit (InputKind::Checkpoint),
/// whose every zip record matches the CRC-32 stored for it (torch's loader does not check them: a flipped bit
/// in a tensor record was resumed from). Throws ConfigError naming the file and the damaged record.
std::string read_checkpoint(const std::string& path);

/// The zip-record check of read_checkpoint on bytes already read. Throws ConfigError naming `path`.
void verify_zip_checksums(const std::string& bytes, const std::string& path);

/// "" when `saved` and `current` (two resume keys: JSON objects of settings) agree, else the settings that
/// differ, e.g. "'lr' (checkpoint 0.001, this run 0.002)"; at most 4 are listed, then "and N more".
std::string config_difference(const nlohmann::json& saved, const nlohmann::json& current);

}  // namespace cimsim::enos
