#include "common/fs.h"

#include <atomic>
#include <charconv>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

namespace redisfleet {

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return NotFoundError("no such file: " + path);
    return UnavailableError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  // The common case (it exists) costs one stat; a directory we create gets exactly `mode`.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return UnavailableError("cannot create directory " + path + ": " + ec.message());
  if (::chmod(path.c_str(), mode) != 0 && errno != EPERM) {
    return UnavailableError("cannot chmod " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

namespace {

// The process's umask as /proc says it (read once: nothing here changes it), so a write whose
// mode the umask leaves alone skips fchmod(2). nullopt when /proc can't say: then every write
// sets its mode explicitly.
std::optional<mode_t> ProcessUmask() {
  static const std::optional<mode_t> umask = []() -> std::optional<mode_t> {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("Umask:", 0) != 0) continue;
      try {
        return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8));
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
    return std::nullopt;
  }();
  return umask;
}

}  // namespace

std::string TempPathFor(const std::string& path) {
  static std::atomic<uint64_t> sequence{0};
  static const std::string pid = std::to_string(::getpid());
  return path + ".tmp." + pid + "." + std::to_string(++sequence);
}

std::size_t RemoveStaleTempFiles(const std::string& path) {
  const std::filesystem::path target(path);
  const std::string prefix = target.filename().string() + ".tmp.";
  const pid_t self = ::getpid();
  std::error_code ec;
  std::filesystem::directory_iterator it(target.has_parent_path() ? target.parent_path() : ".", ec);
  std::size_t removed = 0;
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    // PREFIX PID '.' N: anything else is not ours to remove.
    const std::string_view rest = std::string_view(name).substr(prefix.size());
    const char* end = rest.data() + rest.size();
    pid_t pid = 0;
    uint64_t n = 0;
    auto [dot, pid_err] = std::from_chars(rest.data(), end, pid);
    if (pid_err != std::errc{} || pid <= 0 || dot == end || *dot != '.') continue;
    auto [last, n_err] = std::from_chars(dot + 1, end, n);
    if (n_err != std::errc{} || last != end) continue;
    const bool running = pid != self && (::kill(pid, 0) == 0 || errno == EPERM);
    if (running) continue;
    if (::unlink(it->path().c_str()) == 0) ++removed;
  }
  return removed;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return UnavailableError("cannot write " + path + ": " + std::strerror(errno));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Status WriteFileAtomic(const std::string& path, const std::string& data, mode_t mode) {
  // Unique per process and call, so two threads writing the same path never share a temp file.
  const std::string tmp = TempPathFor(path);
  // O_EXCL: the file is ours and new, so `mode` (through the umask) is what it gets; a temp
  // file a crashed process of the same pid left behind is removed first.
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
  int fd = ::open(tmp.c_str(), kFlags, mode);
  if (fd < 0 && errno == ENOENT) {
    // The directory is missing: create it and try once more.
    std::filesystem::path p(path);
    if (p.has_parent_path()) {
      std::error_code ec;
      std::filesystem::create_directories(p.parent_path(), ec);
      if (ec) return UnavailableError("cannot create directory for " + path + ": " + ec.message());
    }
    fd = ::open(tmp.c_str(), kFlags, mode);
  }
  if (fd < 0 && errno == EEXIST) {
    ::unlink(tmp.c_str());
    fd = ::open(tmp.c_str(), kFlags, mode);
  }
  if (fd < 0) return UnavailableError("cannot write " + tmp + ": " + std::strerror(errno));
  // open's mode is masked by the umask: set it explicitly unless the umask left it whole.
  static const std::optional<mode_t> umask = ProcessUmask();
  if (!umask || (mode & *umask) != 0) ::fchmod(fd, mode);
  Status written = WriteAll(fd, data, tmp);
  ::close(fd);
  if (!written.ok()) {
    ::unlink(tmp.c_str());
    return written;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return UnavailableError("cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
  }
  return Status::Ok();
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return UnavailableError("cannot remove " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace redisfleet
