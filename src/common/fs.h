#pragma once
// Small filesystem helpers that return Status instead of throwing.

#include <cstddef>
#include <string>
#include <string_view>
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

// A temp-file name next to `path`, unique per process and call: `PATH.tmp.PID.N`. Writers that
// replace `path` by rename(2) write here first.
std::string TempPathFor(const std::string& path);

// Removes the temp files of `path` (TempPathFor's names) that a crash left between create and
// rename: those of processes no longer running, and those of this pid (an earlier process that
// had it). Call it before this process starts writing temps of `path`. Returns how many went.
std::size_t RemoveStaleTempFiles(const std::string& path);

// Writes all of `data` to `fd`, resuming short writes and EINTR. Errors name `path`.
Status WriteAll(int fd, std::string_view data, const std::string& path);

// mkdir -p with `mode` for created directories.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

// rm -rf; OK if it does not exist.
Status RemoveAll(const std::string& path);

}  // namespace redisfleet
