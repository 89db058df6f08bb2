#pragma once
// The offline subcommands of the redis-fleet binary (validate, get), as functions so they can
// be tested without a process. Each returns the process exit code.

#include <ostream>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/clock.h"

namespace redisfleet::cli {

// Parses and validates every file (all problems, across files: duplicates and dangling
// references included), one line per problem on `err`:
//   FILE: doc N: Kind ns/name: field.path: what is wrong (got X)
// Prints "N resources valid" on `out` when there is none. 0 = valid, 1 = problems.
int Validate(const std::vector<std::string>& files, std::ostream& out, std::ostream& err);

enum class OutputFormat { kTable, kJson };

// Prints the objects persisted under `state_dir` (standalone mode) as a kubectl-like table or
// a JSON List. `kind_name` empty = every kind. Current problems go to `err` as warnings.
int Get(const std::string& state_dir, const std::string& kind_name, OutputFormat format,
        TimePoint now, std::ostream& out, std::ostream& err);

// "5s", "3m", "2h", "4d", like kubectl's AGE column.
std::string HumanAge(Duration d);

// Left-aligned columns separated by three spaces, like kubectl.
std::string FormatTable(const std::vector<std::vector<std::string>>& rows);

}  // namespace redisfleet::cli
