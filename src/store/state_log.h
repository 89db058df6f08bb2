#pragma once
// StateLog: an append-only file of lines, the storage under DirStore's records.
//
// A line counts once its '\n' is on disk: lines are appended to a file opened O_APPEND, a batch
// in one write(2), so a crash (kill -9 included) can only leave the last line torn, and a reader
// (another process reading concurrently, or the next start) ignores an unterminated tail. The
// file is replaced whole by Rewrite (temp file + rename), so a concurrent reader sees the old or
// the new file, never a mix. Nothing is fsync'ed: like the per-file records it replaces, it
// survives the process, not the machine (a power cut may lose the last writes).
//
// Why a log: a record file per object cost a file creation and a rename per object and status
// change (two to three syscalls each on tmpfs, ~200 us each on this project's virtual disks),
// which dominated the time to start and reconcile 10,000 objects.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace redisfleet::store {

class StateLog {
 public:
  explicit StateLog(std::string path);
  ~StateLog();
  StateLog(const StateLog&) = delete;
  StateLog& operator=(const StateLog&) = delete;

  const std::string& path() const { return path_; }

  // Calls `line` with each complete line of the file at `path` (without its '\n'; empty lines
  // skipped), in order, reading it in blocks (a long log is never in memory whole). Returns how
  // many bytes of torn tail were ignored. NotFound when the file does not exist; Unavailable when
  // it can't be read.
  static StatusOr<std::size_t> ForEachLine(const std::string& path,
                                           const std::function<void(std::string& line)>& line);

  // Opens the file for appending (creating it), cutting a torn tail and removing the temp file
  // of a rewrite a crash interrupted. Call it once at start, before any Rewrite; appends open
  // the file themselves. It says early whether the state directory is writable and makes
  // size() right.
  Status Open();

  // Appends `lines` (each ending in '\n') with one write(2) (more only if the kernel writes
  // short). A torn tail left by a crash is cut first (on the first append after opening), so a
  // new line never glues onto half of an old one. Unavailable on I/O errors; then the file may
  // hold a prefix of `lines`, a torn last line included, which readers ignore and the next
  // append cuts.
  Status Append(std::string_view lines);

  // Replaces the file: `next` is called until it returns false, each time filling `chunk` (empty
  // on entry) with more complete lines; they go to a temp file that is then renamed over the
  // log. Appends after it go to the new file. Unavailable on I/O errors (then the old file
  // stays as it was).
  Status Rewrite(const std::function<bool(std::string& chunk)>& next);

  // Bytes in the file as this process knows it (after Read-at-open, appends and rewrites).
  uint64_t size() const;

 private:
  Status OpenLocked();  // requires mu_

  const std::string path_;
  mutable std::mutex mu_;
  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace redisfleet::store
