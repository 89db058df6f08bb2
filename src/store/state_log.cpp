#include "store/state_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/fs.h"

namespace redisfleet::store {

namespace {

std::string Errno(int err) { return std::strerror(err); }

// The length of `fd`'s content up to and including its last '\n' (0 when it has none), read
// backwards from `size` in small blocks: only the torn tail is read, however long the file.
StatusOr<uint64_t> CompleteLength(int fd, uint64_t size, const std::string& path) {
  char buf[4096];
  uint64_t end = size;
  while (end > 0) {
    const uint64_t start = end > sizeof(buf) ? end - sizeof(buf) : 0;
    const auto want = static_cast<std::size_t>(end - start);
    ssize_t n = ::pread(fd, buf, want, static_cast<off_t>(start));
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError("cannot read " + path + ": " + Errno(errno));
    }
    if (static_cast<std::size_t>(n) != want) return UnavailableError("short read of " + path);
    for (std::size_t i = want; i > 0; --i) {
      if (buf[i - 1] == '\n') return start + i;
    }
    end = start;
  }
  return uint64_t{0};
}

}  // namespace

StateLog::StateLog(std::string path) : path_(std::move(path)) {}

StateLog::~StateLog() {
  if (fd_ >= 0) ::close(fd_);
}

StatusOr<std::size_t> StateLog::ForEachLine(const std::string& path,
                                            const std::function<void(std::string& line)>& line) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError("no such file: " + path);
    return UnavailableError("cannot read " + path + ": " + Errno(errno));
  }
  std::string pending;  // the line being assembled
  std::string current;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return UnavailableError("cannot read " + path + ": " + Errno(err));
    }
    if (n == 0) break;
    std::string_view block(buf, static_cast<std::size_t>(n));
    while (!block.empty()) {
      const std::size_t nl = block.find('\n');
      if (nl == std::string_view::npos) {
        pending.append(block);
        break;
      }
      pending.append(block.substr(0, nl));
      block.remove_prefix(nl + 1);
      if (!pending.empty()) {
        current.swap(pending);
        pending.clear();
        line(current);
      }
    }
  }
  ::close(fd);
  return pending.size();
}

Status StateLog::OpenLocked() {
  if (fd_ >= 0) return Status::Ok();
  int fd = ::open(path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return UnavailableError("cannot open " + path_ + ": " + Errno(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return UnavailableError("cannot stat " + path_ + ": " + Errno(err));
  }
  // A tail without its '\n' is a line a crash tore: cut it so the next line starts clean.
  StatusOr<uint64_t> complete = CompleteLength(fd, static_cast<uint64_t>(st.st_size), path_);
  if (!complete.ok()) {
    ::close(fd);
    return complete.status();
  }
  if (*complete != static_cast<uint64_t>(st.st_size) &&
      ::ftruncate(fd, static_cast<off_t>(*complete)) != 0) {
    const int err = errno;
    ::close(fd);
    return UnavailableError("cannot cut the torn tail of " + path_ + ": " + Errno(err));
  }
  fd_ = fd;
  size_ = *complete;
  return Status::Ok();
}

Status StateLog::Open() {
  std::lock_guard<std::mutex> lock(mu_);
  // A rewrite that a crash interrupted left its temp file (up to the log's size): remove it.
  RemoveStaleTempFiles(path_);
  return OpenLocked();
}

Status StateLog::Append(std::string_view lines) {
  if (lines.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  RF_RETURN_IF_ERROR(OpenLocked());
  Status s = WriteAll(fd_, lines, path_);
  if (!s.ok()) {
    // Part of the batch may be there, its last line torn: reopen (which cuts it) next time.
    ::close(fd_);
    fd_ = -1;
    return s;
  }
  size_ += lines.size();
  return Status::Ok();
}

Status StateLog::Rewrite(const std::function<bool(std::string& chunk)>& next) {
  const std::string tmp = TempPathFor(path_);
  std::lock_guard<std::mutex> lock(mu_);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return UnavailableError("cannot write " + tmp + ": " + Errno(errno));
  uint64_t written = 0;
  std::string chunk;
  Status s = Status::Ok();
  for (bool more = true; more && s.ok();) {
    chunk.clear();
    more = next(chunk);
    s = WriteAll(fd, chunk, tmp);
    written += chunk.size();
  }
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path_.c_str()) != 0) {
    s = UnavailableError("cannot rename " + tmp + " to " + path_ + ": " + Errno(errno));
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;  // the next append opens the new file
  size_ = written;
  return Status::Ok();
}

uint64_t StateLog::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

}  // namespace redisfleet::store
