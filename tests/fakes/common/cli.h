#pragma once
// CLI11 for the standalone fakes' main(): the shared --listen flag, flags that name a secret file,
// repeated single-value flags last-wins, and bad usage exiting 2.

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <system_error>

#include "common/status.h"

namespace redisfleet::fakes {

// The first line of the file at `path`, without its newline ("" for an empty file). Secrets are
// passed as files so they never show in `ps`. NotFound when it cannot be opened, InvalidArgument
// for a directory (the error names the path, never the content).
inline StatusOr<std::string> ReadFirstLine(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgumentError(path + " is a directory");
  std::ifstream in(path);
  if (!in) return NotFoundError("cannot read " + path);
  std::string line;
  std::getline(in, line);
  return line;
}

// Call before adding other options: a single-value flag given twice keeps the last value (flags
// that collect, such as --crds, keep every value), and adds `--listen HOST:PORT` bound to `listen`
// (its current value is the default).
inline void SetUpFakeCli(CLI::App& app, std::string& listen) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--listen", listen, "Address to bind (port 0: any free port)")
      ->type_name("HOST:PORT")
      ->capture_default_str();
}

// Adds `flag FILE`: the first line of FILE goes into `secret` while parsing. A file that cannot be
// read is bad usage (ParseArgs exits 2, naming the path only).
inline CLI::Option* AddSecretFileOption(CLI::App& app, const std::string& flag, std::string& secret,
                                        const std::string& description) {
  return app
      .add_option_function<std::string>(
          flag,
          [flag, &secret](const std::string& path) {
            auto line = ReadFirstLine(path);
            if (!line.ok()) throw CLI::ValidationError(flag, line.error().message());
            secret = *line;
          },
          description)
      ->type_name("FILE");
}

// Parses argv into `app`'s bound variables. nullopt: go on. Otherwise main's exit code: 0 after
// --help (printed on stdout), 2 for bad usage (the error and a --help hint on stderr).
inline std::optional<int> ParseArgs(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

}  // namespace redisfleet::fakes
