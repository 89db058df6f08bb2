#include "providers/process/process_runtime.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/fs.h"
#include "common/redact.h"
#include "redis/client.h"

namespace redisfleet::providers {
namespace {

namespace fs = std::filesystem;

constexpr std::chrono::milliseconds kPollInterval{20};
constexpr std::chrono::milliseconds kPingTimeout{500};
constexpr std::chrono::milliseconds kKillTimeout{5000};
constexpr int64_t kMiB = 1024 * 1024;
constexpr int kFreshPortAttempts = 3;
constexpr const char* kConfFile = "redis.conf";
constexpr const char* kLabelsFile = "labels.json";
constexpr const char* kPidFile = "redis.pid";
constexpr const char* kLogFile = "redis.log";

// A name usable as one path component: non-empty, no '/', not "." or "..", no NUL.
bool SafeComponent(const std::string& s) {
  return !s.empty() && s != "." && s != ".." && s.find('/') == std::string::npos &&
         s.find('\0') == std::string::npos;
}

// Quotes a redis.conf argument the way Redis's sdssplitargs reads it back.
std::string ConfQuote(const std::string& s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Reverses ConfQuote for one double-quoted argument (the rest of the line).
std::string ConfUnquote(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::string(s);
  s = s.substr(1, s.size() - 2);
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    char n = s[++i];
    if (n == 'x' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else if (n == 'n') {
      out += '\n';
    } else if (n == 'r') {
      out += '\r';
    } else if (n == 't') {
      out += '\t';
    } else {
      out += n;
    }
  }
  return out;
}

std::string SaveRule(api::Persistence p) {
  return p == api::Persistence::kRdb ? "3600 1 300 100 60 10000" : "";
}

// True when `pid` is alive and its working directory is `dir` (redis chdirs to its `dir`).
// A zombie or a recycled pid fails the cwd check.
bool IsOurProcess(int pid, const std::string& dir) {
  if (pid <= 1) return false;
  if (::kill(pid, 0) != 0 && errno != EPERM) return false;
  std::string link = "/proc/" + std::to_string(pid) + "/cwd";
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n <= 0) return false;
  return std::string_view(buf, static_cast<std::size_t>(n)) == dir;
}

// The path execv runs: `name` itself when it has a '/', else the first executable on PATH.
std::string ResolveExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    std::size_t colon = dirs.find(':');
    std::string d(dirs.substr(0, colon));
    if (d.empty()) d = ".";
    std::string candidate = d + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    dirs.remove_prefix(colon + 1);
  }
  return name;
}

std::string ConnectAddress(const std::string& bind) {
  if (bind == "0.0.0.0" || bind.empty()) return "127.0.0.1";
  if (bind == "::") return "::1";
  return bind;
}

// A port the kernel reports free on `address`: bind port 0, read it back, close.
StatusOr<int64_t> PickFreePort(const std::string& address) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family = AF_INET;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (::inet_pton(AF_INET, address.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    len = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, address.c_str(), &v6->sin6_addr) == 1) {
    family = AF_INET6;
    v6->sin6_family = AF_INET6;
    len = sizeof(sockaddr_in6);
  } else {
    return InvalidArgumentError("bind address is not an IP address: " + address);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError(std::string("socket: ") + std::strerror(errno));
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    int err = errno;
    ::close(fd);
    return UnavailableError("cannot find a free port on " + address + ": " + std::strerror(err));
  }
  ::close(fd);
  return static_cast<int64_t>(ntohs(family == AF_INET ? v4->sin_port : v6->sin6_port));
}

// The last non-empty line of the server's log, for start failures.
std::string LastLogLine(const std::string& dir, const std::string& password) {
  auto text = ReadFile(dir + "/" + kLogFile);
  if (!text.ok()) return "";
  std::string_view t = *text;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
  std::size_t nl = t.rfind('\n');
  std::string line(nl == std::string_view::npos ? t : t.substr(nl + 1));
  if (line.size() > 300) line.resize(300);
  if (!password.empty()) {
    for (std::size_t p = line.find(password); p != std::string::npos; p = line.find(password, p)) {
      line.replace(p, password.size(), kRedacted);
    }
  }
  return RedactSecrets(line);
}

bool WriteAll(int fd, const void* data, std::size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Reads exactly `n` bytes; false on EOF or error before that.
bool ReadAll(int fd, void* data, std::size_t n) {
  char* p = static_cast<char*>(data);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

}  // namespace

ProcessRuntime::ProcessRuntime(Options options, std::shared_ptr<Clock> clock,
                               std::shared_ptr<Logger> logger)
    : options_(std::move(options)),
      redis_path_(ResolveExecutable(options_.redis_server)),
      clock_(std::move(clock)),
      logger_(logger != nullptr ? std::move(logger) : Logger::Null()) {
  if (!options_.root_dir.empty()) {
    std::error_code ec;
    fs::path abs = fs::absolute(options_.root_dir, ec);
    if (!ec) abs = fs::weakly_canonical(abs, ec);
    root_ = ec ? options_.root_dir : abs.lexically_normal().string();
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  }
  if (clock_ == nullptr) clock_ = std::make_shared<RealClock>();
}

std::string ProcessRuntime::InstanceDir(const RedisSpec& spec) const {
  return root_ + "/" + spec.instance.namespace_ + "." + spec.instance.name + "." + spec.uid;
}

std::shared_ptr<std::mutex> ProcessRuntime::InstanceMutex(const std::string& dir) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& m = instance_mu_[dir];
  if (m == nullptr) m = std::make_shared<std::mutex>();
  return m;
}

StatusOr<std::string> ProcessRuntime::CheckedDir(const std::string& id) const {
  if (root_.empty()) return FailedPreconditionError("process runtime has no root directory");
  fs::path p(id);
  std::string leaf = p.filename().string();
  if (p.parent_path().string() != root_ || !SafeComponent(leaf)) {
    return InvalidArgumentError("not a process runtime instance directory: " + id);
  }
  return root_ + "/" + leaf;
}

bool ProcessRuntime::WaitUntil(const std::function<bool()>& pred,
                               std::chrono::milliseconds timeout) const {
  const TimePoint deadline = clock_->Now() + timeout;
  const int64_t max_polls = timeout / kPollInterval + 1;
  for (int64_t i = 0;; ++i) {
    if (pred()) return true;
    if (i >= max_polls || clock_->Now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

std::optional<int> ProcessRuntime::RunningPid(const std::string& dir) const {
  auto text = ReadFile(dir + "/" + kPidFile);
  if (!text.ok()) return std::nullopt;
  std::string_view s = *text;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.remove_suffix(1);
  int pid = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), pid);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  if (!IsOurProcess(pid, dir)) return std::nullopt;
  return pid;
}

StatusOr<ProcessRuntime::Record> ProcessRuntime::ReadRecord(const std::string& dir) const {
  RF_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/" + kLabelsFile));
  try {
    auto j = nlohmann::json::parse(text);
    Record r;
    r.instance.namespace_ = j.at("namespace").get<std::string>();
    r.instance.name = j.at("name").get<std::string>();
    r.uid = j.at("uid").get<std::string>();
    r.pool_id = j.value("pool_id", std::string());
    r.port = j.at("port").get<int64_t>();
    r.resources.memory_mib = j.at("memory_mib").get<int64_t>();
    r.resources.max_clients = j.at("max_clients").get<int64_t>();
    auto persistence = api::ParseEnum<api::Persistence>(j.value("persistence", std::string("aof")));
    if (!persistence.has_value()) return InternalError(dir + "/labels.json: unknown persistence");
    r.persistence = *persistence;
    if (j.contains("labels")) r.labels = j.at("labels").get<std::map<std::string, std::string>>();
    return r;
  } catch (const std::exception& e) {
    return InternalError(dir + "/labels.json is malformed: " + e.what());
  }
}

Status ProcessRuntime::WriteRecord(const std::string& dir, const Record& r) const {
  nlohmann::json j = {
      {"namespace", r.instance.namespace_},
      {"name", r.instance.name},
      {"uid", r.uid},
      {"pool_id", r.pool_id},
      {"port", r.port},
      {"memory_mib", r.resources.memory_mib},
      {"max_clients", r.resources.max_clients},
      {"persistence", std::string(api::EnumName(r.persistence))},
      {"labels", r.labels},
  };
  return WriteFileAtomic(dir + "/" + kLabelsFile, j.dump(2) + "\n", 0600);
}

Status ProcessRuntime::WriteConfig(const std::string& dir, const Record& r,
                                   const std::string& password) const {
  std::string c;
  c += "# Generated by redis-fleet for " + r.instance.ToString() + "; rewritten on start and resize.\n";
  c += "port " + std::to_string(r.port) + "\n";
  c += "bind " + options_.bind_address + "\n";
  c += "protected-mode yes\n";
  if (!password.empty()) c += "requirepass " + ConfQuote(password) + "\n";
  c += "maxmemory " + std::to_string(r.resources.memory_mib) + "mb\n";
  c += "maxclients " + std::to_string(r.resources.max_clients) + "\n";
  c += "dir " + ConfQuote(dir) + "\n";
  c += "pidfile " + ConfQuote(dir + "/" + kPidFile) + "\n";
  c += "logfile " + ConfQuote(dir + "/" + kLogFile) + "\n";
  c += "daemonize no\n";
  c += "supervised no\n";
  c += "dbfilename dump.rdb\n";
  if (r.persistence == api::Persistence::kAof) {
    c += "appendonly yes\nappendfsync everysec\n";
  } else {
    c += "appendonly no\n";
  }
  c += "save " + ConfQuote(SaveRule(r.persistence)) + "\n";
  return WriteFileAtomic(dir + "/" + kConfFile, c, 0600);
}

StatusOr<std::string> ProcessRuntime::ReadPassword(const std::string& dir) const {
  RF_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/" + kConfFile));
  std::string_view t = text;
  constexpr std::string_view kKey = "requirepass ";
  while (!t.empty()) {
    std::size_t nl = t.find('\n');
    std::string_view line = t.substr(0, nl);
    t = nl == std::string_view::npos ? std::string_view() : t.substr(nl + 1);
    if (line.substr(0, kKey.size()) == kKey) return ConfUnquote(line.substr(kKey.size()));
  }
  return std::string();
}

RunningRedis ProcessRuntime::ToRunning(const std::string& dir, const Record& r) const {
  RunningRedis out;
  out.id = dir;
  out.instance = r.instance;
  out.uid = r.uid;
  out.pool_id = r.pool_id;
  out.endpoint = api::Endpoint{options_.bind_address, r.port};
  out.resources = r.resources;
  out.running = RunningPid(dir).has_value();
  out.labels = r.labels;
  return out;
}

StatusOr<int> ProcessRuntime::Spawn(const std::string& dir) {
  const std::string conf = dir + "/" + kConfFile;
  std::vector<char*> argv = {const_cast<char*>(redis_path_.c_str()), const_cast<char*>(conf.c_str()),
                             nullptr};
  const char* exe = redis_path_.c_str();
  const char* cwd = dir.c_str();
  long max_fd = ::sysconf(_SC_OPEN_MAX);
  if (max_fd < 0 || max_fd > 65536) max_fd = 65536;

  int pid_pipe[2];   // intermediate child -> us: the server's pid (or -errno of fork)
  int exec_pipe[2];  // server -> us: errno when exec fails; EOF (close-on-exec) when it worked
  if (::pipe2(pid_pipe, O_CLOEXEC) != 0) return UnavailableError(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(exec_pipe, O_CLOEXEC) != 0) {
    int err = errno;
    ::close(pid_pipe[0]);
    ::close(pid_pipe[1]);
    return UnavailableError(std::string("pipe: ") + std::strerror(err));
  }

  // Between fork and exec only async-signal-safe calls: another thread may hold any lock.
  pid_t mid = ::fork();
  if (mid < 0) {
    int err = errno;
    for (int fd : {pid_pipe[0], pid_pipe[1], exec_pipe[0], exec_pipe[1]}) ::close(fd);
    return UnavailableError(std::string("fork: ") + std::strerror(err));
  }
  if (mid == 0) {
    ::setsid();
    pid_t server = ::fork();
    if (server != 0) {
      int32_t msg = server > 0 ? static_cast<int32_t>(server) : -errno;
      WriteAll(pid_pipe[1], &msg, sizeof(msg));
      ::_exit(0);
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
      if (sig != SIGKILL && sig != SIGSTOP) ::sigaction(sig, &dfl, nullptr);
    }
    int err_fd = exec_pipe[1];
    if (err_fd <= 2) err_fd = ::fcntl(err_fd, F_DUPFD_CLOEXEC, 3);  // keep it clear of 0-2
    int32_t err = 0;
    if (::chdir(cwd) != 0) {
      err = errno;
      WriteAll(err_fd, &err, sizeof(err));
      ::_exit(127);
    }
    int devnull = ::open("/dev/null", O_RDWR);
    if (devnull >= 0) {
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
    }
    // Keep 0-2 and err_fd (close-on-exec); close everything else inherited.
    bool closed = err_fd <= 3 || ::close_range(3, static_cast<unsigned>(err_fd - 1), 0) == 0;
    closed = closed && ::close_range(static_cast<unsigned>(err_fd + 1), ~0U, 0) == 0;
    if (!closed) {
      for (int fd = 3; fd < max_fd; ++fd) {
        if (fd != err_fd) ::close(fd);
      }
    }
    ::execv(exe, argv.data());
    err = errno;
    WriteAll(err_fd, &err, sizeof(err));
    ::_exit(127);
  }

  ::close(pid_pipe[1]);
  ::close(exec_pipe[1]);
  int32_t msg = 0;
  bool got_pid = ReadAll(pid_pipe[0], &msg, sizeof(msg));
  ::close(pid_pipe[0]);
  int wstatus = 0;
  while (::waitpid(mid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  int32_t exec_err = 0;
  bool exec_failed = ReadAll(exec_pipe[0], &exec_err, sizeof(exec_err));
  ::close(exec_pipe[0]);
  if (!got_pid) return UnavailableError("cannot start redis-server: the launcher died");
  if (msg <= 0) return UnavailableError(std::string("fork: ") + std::strerror(-msg));
  if (exec_failed) {
    return UnavailableError("cannot run " + redis_path_ + ": " + std::strerror(exec_err));
  }
  return static_cast<int>(msg);
}

Status ProcessRuntime::WaitReady(const std::string& dir, int pid, const Record& record,
                                 const std::string& password, bool* exited_early) {
  redis::ConnectOptions opts;
  opts.host = ConnectAddress(options_.bind_address);
  opts.port = static_cast<int>(record.port);
  opts.password = password;
  opts.timeout = std::min(kPingTimeout, options_.start_timeout);
  bool& exited = *exited_early;
  exited = false;
  bool ready = WaitUntil(
      [&] {
        if (!IsOurProcess(pid, dir)) {
          exited = true;
          return true;
        }
        auto client = redis::RedisClient::Connect(opts);
        return client.ok() && (*client)->Ping().ok();
      },
      options_.start_timeout);
  if (exited) {
    std::string why = LastLogLine(dir, password);
    return UnavailableError("redis-server for " + record.instance.ToString() + " exited during start" +
                        (why.empty() ? std::string() : ": " + why));
  }
  if (!ready) {
    return UnavailableError("redis-server for " + record.instance.ToString() + " (pid " +
                            std::to_string(pid) + ") did not answer within " +
                            std::to_string(options_.start_timeout.count()) + "ms");
  }
  return Status::Ok();
}

namespace {

StatusOr<std::unique_ptr<redis::RedisClient>> ConnectLocal(const std::string& bind_address,
                                                           int64_t port, const std::string& password) {
  redis::ConnectOptions opts;
  opts.host = ConnectAddress(bind_address);
  opts.port = static_cast<int>(port);
  opts.password = password;
  return redis::RedisClient::Connect(opts);
}

}  // namespace

StatusOr<int> ProcessRuntime::Start(const std::string& dir, const Record& record,
                                    const std::string& password, bool* exited_early) {
  *exited_early = false;
  RF_ASSIGN_OR_RETURN(int pid, Spawn(dir));
  Status written = WriteFileAtomic(dir + "/" + kPidFile, std::to_string(pid) + "\n", 0644);
  if (!written.ok()) {
    ::kill(pid, SIGKILL);
    return written.WithContext("starting redis-server for " + record.instance.ToString());
  }
  RF_RETURN_IF_ERROR(WaitReady(dir, pid, record, password, exited_early));
  return pid;
}

StatusOr<api::Endpoint> ProcessRuntime::Ensure(const Host& host, const RedisSpec& spec) {
  (void)host;
  if (root_.empty()) return FailedPreconditionError("process runtime has no root directory");
  if (!SafeComponent(spec.instance.namespace_) || !SafeComponent(spec.instance.name)) {
    return InvalidArgumentError("instance name unusable as a directory name: " +
                                spec.instance.ToString());
  }
  if (!SafeComponent(spec.uid)) {
    return InvalidArgumentError("instance " + spec.instance.ToString() + " has no usable uid");
  }
  if (spec.resources.memory_mib <= 0 || spec.resources.max_clients <= 0) {
    return InvalidArgumentError("instance " + spec.instance.ToString() +
                                ": memory and max clients must be positive");
  }
  if (spec.port < 0 || spec.port > 65535) {
    return InvalidArgumentError("instance " + spec.instance.ToString() + ": port out of range");
  }
  const std::string dir = InstanceDir(spec);
  auto instance_mu = InstanceMutex(dir);
  std::lock_guard<std::mutex> lock(*instance_mu);

  std::error_code ec;
  if (!fs::exists(root_, ec)) RF_RETURN_IF_ERROR(MakeDirs(root_, 0700));
  auto existing = ReadRecord(dir);
  if (!existing.ok() && existing.status().code() != StatusCode::kNotFound) return existing.status();

  Record want;
  want.instance = spec.instance;
  want.uid = spec.uid;
  want.pool_id = spec.pool.Id();
  want.resources = spec.resources;
  want.persistence = spec.persistence;
  want.labels = spec.labels;
  want.labels[std::string(api::kLabelInstance)] = spec.instance.Dotted();
  want.labels[std::string(api::kLabelUid)] = spec.uid;
  want.labels[std::string(api::kLabelPool)] = spec.pool.Id();
  want.port = spec.port != 0 ? spec.port : (existing.ok() ? existing->port : 0);
  const api::Endpoint endpoint_of_existing{options_.bind_address, existing.ok() ? existing->port : 0};

  std::optional<int> pid = RunningPid(dir);
  if (pid.has_value() && existing.ok()) {
    if (spec.port != 0 && spec.port != existing->port) {
      logger_->Warn("redis runs on another port than requested; keeping it",
                    {{"instance", spec.instance.ToString()}, {"port", existing->port},
                     {"requested_port", spec.port}});
    }
    want.port = existing->port;
    RF_RETURN_IF_ERROR(ApplyLive(dir, *existing, want, spec.password));
    if (existing->resources != spec.resources) {
      RF_RETURN_IF_ERROR(ResizeLocked(dir, want, spec.resources));
    } else if (existing->labels != want.labels || existing->pool_id != want.pool_id ||
               existing->persistence != want.persistence) {
      RF_RETURN_IF_ERROR(WriteRecord(dir, want));
    }
    return endpoint_of_existing;
  }
  if (pid.has_value()) {
    logger_->Warn("redis runs without labels.json; restarting it",
                  {{"instance", spec.instance.ToString()}, {"pid", *pid}});
    RF_RETURN_IF_ERROR(Stop(dir));
  }

  RF_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  const bool fresh_port = want.port == 0;
  Status last;
  for (int attempt = 0; attempt < (fresh_port ? kFreshPortAttempts : 1); ++attempt) {
    if (fresh_port) {
      RF_ASSIGN_OR_RETURN(want.port, PickFreePort(options_.bind_address));
    }
    RF_RETURN_IF_ERROR(WriteRecord(dir, want));
    RF_RETURN_IF_ERROR(WriteConfig(dir, want, spec.password));
    bool exited = false;
    auto started = Start(dir, want, spec.password, &exited);
    if (started.ok()) {
      logger_->Info("redis started", {{"instance", spec.instance.ToString()}, {"pid", *started},
                                      {"port", want.port}, {"dir", dir}});
      return api::Endpoint{options_.bind_address, want.port};
    }
    last = started.status();
    logger_->Warn("redis did not start", {{"instance", spec.instance.ToString()},
                                          {"port", want.port}, {"error", last.message()}});
    if (!exited) break;
  }
  return last;
}

StatusOr<std::vector<RunningRedis>> ProcessRuntime::List(const Host& host) {
  (void)host;
  if (root_.empty()) return FailedPreconditionError("process runtime has no root directory");
  std::vector<RunningRedis> out;
  std::error_code ec;
  if (!fs::exists(root_, ec)) return out;
  fs::directory_iterator it(root_, ec);
  if (ec) return UnavailableError("cannot list " + root_ + ": " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) return UnavailableError("cannot list " + root_ + ": " + ec.message());
    std::error_code type_ec;
    if (!it->is_directory(type_ec)) continue;
    const std::string dir = root_ + "/" + it->path().filename().string();
    if (!fs::exists(dir + "/" + kLabelsFile, type_ec)) continue;
    auto record = ReadRecord(dir);
    if (!record.ok()) {
      logger_->Warn("skipping unreadable instance directory",
                    {{"dir", dir}, {"error", record.status().message()}});
      continue;
    }
    out.push_back(ToRunning(dir, *record));
  }
  std::sort(out.begin(), out.end(),
            [](const RunningRedis& a, const RunningRedis& b) { return a.id < b.id; });
  return out;
}

Status ProcessRuntime::Resize(const Host& host, const RunningRedis& redis, const RedisResources& to) {
  (void)host;
  RF_ASSIGN_OR_RETURN(std::string dir, CheckedDir(redis.id));
  auto instance_mu = InstanceMutex(dir);
  std::lock_guard<std::mutex> lock(*instance_mu);
  RF_ASSIGN_OR_RETURN(Record record, ReadRecord(dir));
  return ResizeLocked(dir, std::move(record), to);
}

Status ProcessRuntime::ResizeLocked(const std::string& dir, Record record, const RedisResources& to) {
  const std::string name = record.instance.ToString();
  if (to.memory_mib <= 0 || to.max_clients <= 0) {
    return InvalidArgumentError("resize " + name + ": memory and max clients must be positive");
  }
  if (!RunningPid(dir).has_value()) return UnavailableError("resize " + name + ": redis is not running");
  RF_ASSIGN_OR_RETURN(std::string password, ReadPassword(dir));
  RF_ASSIGN_OR_RETURN(auto client, ConnectLocal(options_.bind_address, record.port, password));
  RF_ASSIGN_OR_RETURN(redis::InfoMap info, client->Info({"memory"}));
  std::optional<int64_t> used = info.GetInt("used_memory");
  if (!used.has_value()) return UnavailableError("resize " + name + ": INFO has no used_memory");
  const int64_t limit = to.memory_mib * kMiB;
  if (*used > limit) {
    return FailedPreconditionError("cannot resize " + name + " to " + std::to_string(to.memory_mib) +
                                   " MiB: " + std::to_string((*used + kMiB - 1) / kMiB) +
                                   " MiB in use");
  }
  RF_ASSIGN_OR_RETURN(std::string old_clients, client->ConfigGet("maxclients"));
  RF_RETURN_IF_ERROR(client->ConfigSet("maxclients", std::to_string(to.max_clients)));
  Status st = client->ConfigSet("maxmemory", std::to_string(limit));
  if (!st.ok()) {
    (void)client->ConfigSet("maxclients", old_clients);
    return st;
  }
  record.resources = to;
  RF_RETURN_IF_ERROR(WriteConfig(dir, record, password));
  RF_RETURN_IF_ERROR(WriteRecord(dir, record));
  logger_->Info("redis resized", {{"instance", name}, {"memory_mib", to.memory_mib},
                                  {"max_clients", to.max_clients}});
  return Status::Ok();
}

Status ProcessRuntime::ApplyLive(const std::string& dir, const Record& current, const Record& wanted,
                                 const std::string& password) {
  RF_ASSIGN_OR_RETURN(std::string conf_password, ReadPassword(dir));
  const bool password_changed = conf_password != password;
  const bool persistence_changed = current.persistence != wanted.persistence;
  if (!password_changed && !persistence_changed) return Status::Ok();
  auto client = ConnectLocal(options_.bind_address, current.port, conf_password);
  if (!client.ok() && password_changed && client.status().code() == StatusCode::kUnauthenticated) {
    client = ConnectLocal(options_.bind_address, current.port, password);  // set before a crash
  }
  if (!client.ok()) return client.status();
  if (password_changed) RF_RETURN_IF_ERROR((*client)->ConfigSet("requirepass", password));
  if (persistence_changed) {
    const bool aof = wanted.persistence == api::Persistence::kAof;
    if (aof) RF_RETURN_IF_ERROR((*client)->ConfigSet("appendfsync", "everysec"));
    RF_RETURN_IF_ERROR((*client)->ConfigSet("appendonly", aof ? "yes" : "no"));
    RF_RETURN_IF_ERROR((*client)->ConfigSet("save", SaveRule(wanted.persistence)));
  }
  Record updated = current;
  updated.persistence = wanted.persistence;
  RF_RETURN_IF_ERROR(WriteConfig(dir, updated, password));
  RF_RETURN_IF_ERROR(WriteRecord(dir, updated));
  logger_->Info("redis reconfigured", {{"instance", current.instance.ToString()},
                                       {"password_changed", password_changed ? "true" : "false"},
                                       {"persistence", std::string(api::EnumName(wanted.persistence))}});
  return Status::Ok();
}

Status ProcessRuntime::Stop(const std::string& dir) {
  std::optional<int> pid = RunningPid(dir);
  if (!pid.has_value()) return Status::Ok();
  auto gone = [&] { return !IsOurProcess(*pid, dir); };
  if (::kill(*pid, SIGTERM) != 0 && errno != ESRCH) {
    return UnavailableError("cannot stop redis pid " + std::to_string(*pid) + ": " + std::strerror(errno));
  }
  if (WaitUntil(gone, options_.stop_timeout)) return Status::Ok();
  logger_->Warn("redis ignored SIGTERM; killing it", {{"dir", dir}, {"pid", *pid}});
  ::kill(*pid, SIGKILL);
  if (WaitUntil(gone, kKillTimeout)) return Status::Ok();
  return UnavailableError("redis pid " + std::to_string(*pid) + " did not exit");
}

Status ProcessRuntime::Remove(const Host& host, const RunningRedis& redis) {
  (void)host;
  RF_ASSIGN_OR_RETURN(std::string dir, CheckedDir(redis.id));
  auto instance_mu = InstanceMutex(dir);
  std::lock_guard<std::mutex> lock(*instance_mu);
  std::error_code ec;
  if (!fs::exists(dir, ec)) return Status::Ok();
  RF_RETURN_IF_ERROR(Stop(dir));
  RF_RETURN_IF_ERROR(RemoveAll(dir));
  logger_->Info("redis removed", {{"instance", redis.instance.ToString()}, {"dir", dir}});
  return Status::Ok();
}

}  // namespace redisfleet::providers
