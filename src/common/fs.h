#pragma once
// Small filesystem helpers that return Status instead of throwing.

#include <string>
#include <sys/types.h>

#include "common/status.h"

namespace redisfleet {

// Reads a whole file. NotFound if it does not exist.
StatusOr<std::string> ReadFile(const std::string& path);

// Writes `data` to `path` atomically: a temp file in the same directory, then rename(2), so a
// reader (or a restart after kill -9) sees the old or the new content, never a torn one.
// `mode` applies to the new file exactly (0600 for secrets), whatever the umask (read once per
// process: nothing in redis-fleet changes it). Creates parent directories.
Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode = 0644);

// mkdir -p with `mode` for created directories.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// rm -rf; OK if it does not exist.
Status RemoveAll(const std::string& path);

}  // namespace redisfleet
