#pragma once
// Helpers for tests that run the real redis-fleet binary: temp dirs, child processes, waiting
// for conditions with a deadline (never fixed sleeps), free loopback ports.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include "support/wait.h"  // WaitUntil

namespace redisfleet::testing {

// A directory under /tmp removed (recursively) on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& child) const { return path_ + "/" + child; }

 private:
  std::string path_;
};


// A TCP port on `address` (127.0.0.x) that was free a moment ago. Throws when it cannot bind.
int FreePort(const std::string& address = "127.0.0.1");

// Writes <dir>/ca.crt, ca.key, server.crt and server.key with the openssl CLI: a throw-away CA
// named `ca_name` and a certificate for 127.0.0.1 (IP SAN) it signed, valid for two days.
// Returns "" on success, else the failing command and its error output.
std::string MakeTestCertificates(const std::string& dir, const std::string& ca_name);

// A socket listening on 127.0.0.1 that never accepts: connects succeed, replies never come (for
// timeout tests). port() is 0 when it could not listen.
class SilentServer {
 public:
  SilentServer();
  ~SilentServer();
  SilentServer(const SilentServer&) = delete;
  SilentServer& operator=(const SilentServer&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Path of the built binary (REDISFLEET_BIN, set by ctest) and the source tree.
std::string BinaryPath();
std::string SourceDir();

void WriteText(const std::string& path, const std::string& text);
std::string ReadText(const std::string& path);

// A child process with its stdout+stderr captured to a file.
class Child {
 public:
  Child(std::vector<std::string> argv, std::string log_path);
  ~Child();  // SIGKILLs and reaps it if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // Waits for exit up to `timeout`; the exit status (WEXITSTATUS, or 128+signal), or nullopt.
  std::optional<int> Wait(std::chrono::milliseconds timeout);
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> exit_;
};

// Runs a command to completion; returns {exit code, stdout, stderr}.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunCommand(const std::vector<std::string>& argv);

// Is a process with this pid alive (not a zombie)?
bool ProcessAlive(pid_t pid);

// Simple HTTP GET to 127.0.0.1:port; {status, body}; status 0 when unreachable.
std::pair<int, std::string> HttpGet(int port, const std::string& path);

}  // namespace redisfleet::testing
