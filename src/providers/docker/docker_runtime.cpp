#include "providers/docker/docker_runtime.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <thread>
#include <utility>

#include "common/redact.h"
#include "redis/client.h"

namespace redisfleet::providers {
namespace {

constexpr int64_t kMiB = 1024 * 1024;
constexpr std::string_view kLabelPort = "redisfleet.io/port";
constexpr std::string_view kDefaultManagedBy = "redis-fleet";
constexpr std::chrono::milliseconds kPollInterval{100};
constexpr std::chrono::milliseconds kRedisTimeout{2000};
constexpr int kLogTailLines = 5;

std::string SaveRule(api::Persistence p) {
  return p == api::Persistence::kRdb ? "3600 1 300 100 60 10000" : "";
}

// Every occurrence of `secret` in the status message replaced by [REDACTED].
Status Scrub(Status s, const std::string& secret) {
  if (s.ok() || secret.empty() || s.message().find(secret) == std::string::npos) return s;
  std::string m = s.message();
  for (std::size_t pos = m.find(secret); pos != std::string::npos;
       pos = m.find(secret, pos + kRedacted.size())) {
    m.replace(pos, secret.size(), kRedacted);
  }
  return Status(s.code(), std::move(m));
}

std::string Scrub(std::string text, const std::string& secret) {
  return Scrub(InternalError(std::move(text)), secret).message();
}

// "--flag value" pairs of a redis-server command line.
std::map<std::string, std::string> ParseArgs(const std::vector<std::string>& cmd) {
  std::map<std::string, std::string> args;
  for (std::size_t i = 0; i + 1 < cmd.size(); ++i) {
    if (cmd[i].starts_with("--")) args[cmd[i]] = cmd[i + 1];
  }
  return args;
}

int64_t ToInt(std::string_view s) {
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// "64mb" -> 64; a plain byte count -> MiB.
int64_t MibFromArg(std::string_view s) {
  if (s.ends_with("mb")) return ToInt(s.substr(0, s.size() - 2));
  return ToInt(s) / kMiB;
}

bool IsWildcard(const std::string& addr) {
  return addr.empty() || addr == "0.0.0.0" || addr == "::" || addr == "*";
}

std::string ShortId(const std::string& id) { return id.substr(0, 12); }

// Binds `address`:0 and returns the port the kernel chose; nullopt when the address is not on
// this machine (or not an IP literal).
std::optional<int64_t> ProbeFreePort(const std::string& address) {
  sockaddr_storage storage{};
  socklen_t len = 0;
  int family = address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&storage);
    a->sin_family = AF_INET;
    if (::inet_pton(AF_INET, address.c_str(), &a->sin_addr) != 1) return std::nullopt;
    len = sizeof(sockaddr_in);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
    a->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, address.c_str(), &a->sin6_addr) != 1) return std::nullopt;
    len = sizeof(sockaddr_in6);
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  std::optional<int64_t> port;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&storage), len) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &len) == 0) {
    port = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&storage)->sin_port)
                             : ntohs(reinterpret_cast<sockaddr_in6*>(&storage)->sin6_port);
  }
  ::close(fd);
  return port;
}

std::string Label(const std::map<std::string, std::string>& labels, std::string_view key) {
  auto it = labels.find(std::string(key));
  return it == labels.end() ? std::string() : it->second;
}

api::Key KeyFromDotted(const std::string& dotted) {
  api::Key key;
  std::size_t dot = dotted.find('.');
  if (dot == std::string::npos) {
    key.name = dotted;
  } else {
    key.namespace_ = dotted.substr(0, dot);
    key.name = dotted.substr(dot + 1);
  }
  return key;
}

Status ValidResources(const RedisResources& r, const std::string& what) {
  if (r.memory_mib <= 0 || r.max_clients <= 0) {
    return InvalidArgumentError(fmt::format("{}: memoryMiB and maxClients must be positive (got {} and {})",
                                            what, r.memory_mib, r.max_clients));
  }
  return Status::Ok();
}

}  // namespace

DockerRuntime::DockerRuntime(Options options, std::shared_ptr<Clock> clock,
                             std::shared_ptr<Logger> logger, ClientFactory factory)
    : options_(std::move(options)),
      clock_(std::move(clock)),
      logger_(std::move(logger)),
      factory_(std::move(factory)) {
  if (!factory_) {
    factory_ = [o = options_](const std::string& endpoint)
        -> StatusOr<std::shared_ptr<docker::DockerClient>> {
      docker::DockerClientOptions d;
      d.endpoint = endpoint;
      d.ca_file = o.ca_file;
      d.cert_file = o.cert_file;
      d.key_file = o.key_file;
      d.basic_auth = o.basic_auth;
      RF_ASSIGN_OR_RETURN(std::unique_ptr<docker::DockerClient> c, docker::DockerClient::Create(d));
      return std::shared_ptr<docker::DockerClient>(std::move(c));
    };
  }
}

std::string DockerRuntime::ContainerName(const api::Key& instance, const std::string& uid) {
  std::string name = "redisfleet-" + instance.namespace_ + "-" + instance.name + "-" + uid.substr(0, 8);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') c = '-';
  }
  return name;
}

StatusOr<std::shared_ptr<docker::DockerClient>> DockerRuntime::ClientFor(const Host& host) {
  const std::string endpoint = host.docker_endpoint.empty() ? options_.default_endpoint : host.docker_endpoint;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = clients_.find(endpoint);
    if (it != clients_.end()) return it->second;
  }
  RF_ASSIGN_OR_RETURN(std::shared_ptr<docker::DockerClient> client, factory_(endpoint));
  std::lock_guard<std::mutex> lock(mu_);
  return clients_.emplace(endpoint, std::move(client)).first->second;
}

std::shared_ptr<std::mutex> DockerRuntime::InstanceMutex(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& m = instance_mu_[key];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

std::string DockerRuntime::BindAddress(const Host& host) const {
  if (options_.network_mode == api::NetworkMode::kBridge) {
    return options_.bind_address.empty() ? "0.0.0.0" : options_.bind_address;
  }
  if (!options_.bind_address.empty()) return options_.bind_address;
  return host.address.empty() ? "0.0.0.0" : host.address;
}

std::string DockerRuntime::ClientHost(const Host& host) const {
  if (!host.address.empty()) return host.address;
  std::string bind = BindAddress(host);
  return IsWildcard(bind) ? "127.0.0.1" : bind;
}

docker::ContainerCreateSpec DockerRuntime::CreateSpec(const Host& host, const RedisSpec& spec,
                                                      int64_t port) const {
  const bool host_mode = options_.network_mode == api::NetworkMode::kHost;
  docker::ContainerCreateSpec c;
  c.name = ContainerName(spec.instance, spec.uid);
  c.image = options_.image;
  c.labels = spec.labels;
  c.labels.try_emplace(std::string(api::kLabelManagedBy), kDefaultManagedBy);
  c.labels[std::string(api::kLabelInstance)] = spec.instance.Dotted();
  c.labels[std::string(api::kLabelUid)] = spec.uid;
  if (!spec.pool.name.empty()) c.labels[std::string(api::kLabelPool)] = spec.pool.Id();
  c.labels[std::string(kLabelPort)] = std::to_string(port);

  c.cmd = {"redis-server", "--port", std::to_string(host_mode ? port : kContainerPort),
           "--bind", host_mode ? BindAddress(host) : "0.0.0.0"};
  if (!spec.password.empty()) {
    c.cmd.insert(c.cmd.end(), {"--requirepass", spec.password});
  }
  c.cmd.insert(c.cmd.end(),
               {"--maxmemory", std::to_string(spec.resources.memory_mib) + "mb",
                "--maxclients", std::to_string(spec.resources.max_clients),
                "--appendonly", spec.persistence == api::Persistence::kAof ? "yes" : "no",
                "--save", SaveRule(spec.persistence),
                "--dir", "/data"});
  c.memory_bytes = (spec.resources.memory_mib + kMemoryOverheadMiB) * kMiB;
  c.memory_swap_bytes = c.memory_bytes;
  c.restart_policy = "unless-stopped";
  if (host_mode) {
    c.network_mode = "host";
  } else {
    const std::string container_port = std::to_string(kContainerPort) + "/tcp";
    c.network_mode = "bridge";
    c.exposed_ports = {container_port};
    c.port_bindings[container_port] = {{BindAddress(host), std::to_string(port)}};
  }
  return c;
}

DockerRuntime::Observed DockerRuntime::Observe(const Host& host, docker::ContainerInfo info) const {
  Observed o;
  auto args = ParseArgs(info.cmd);
  o.password = args["--requirepass"];
  o.created_with.memory_mib = MibFromArg(args["--maxmemory"]);
  o.created_with.max_clients = ToInt(args["--maxclients"]);
  o.limit = o.created_with;
  if (info.memory_bytes > 0) o.limit.memory_mib = info.memory_bytes / kMiB - kMemoryOverheadMiB;

  if (info.network_mode == "host") {
    o.endpoint.port = ToInt(args["--port"]);
    const std::string& bind = args["--bind"];
    o.endpoint.host = !host.address.empty() ? host.address : IsWildcard(bind) ? "127.0.0.1" : bind;
  } else {
    auto it = info.port_bindings.find(std::to_string(kContainerPort) + "/tcp");
    if (it != info.port_bindings.end() && !it->second.empty()) {
      o.endpoint.port = ToInt(it->second.front().host_port);
    }
    if (o.endpoint.port == 0) o.endpoint.port = ToInt(Label(info.labels, kLabelPort));
    o.endpoint.host = ClientHost(host);
  }
  o.info = std::move(info);
  return o;
}

StatusOr<int64_t> DockerRuntime::PickPort(docker::DockerClient& client, const Host& host) {
  RF_ASSIGN_OR_RETURN(auto ours, client.ListContainers({std::string(api::kLabelManagedBy)}));
  std::set<int64_t> used;
  for (const auto& c : ours) used.insert(ToInt(Label(c.labels, kLabelPort)));
  const std::string bind = BindAddress(host);
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::optional<int64_t> port = ProbeFreePort(bind);
    if (!port) break;
    if (!used.contains(*port)) return *port;
  }
  int64_t port = options_.first_port;
  while (used.contains(port)) ++port;
  return port;
}

StatusOr<docker::ContainerInfo> DockerRuntime::FindOrCreate(docker::DockerClient& client,
                                                            const Host& host, const RedisSpec& spec) {
  const std::string name = ContainerName(spec.instance, spec.uid);
  RF_ASSIGN_OR_RETURN(auto found,
                      client.ListContainers({std::string(api::kLabelInstance) + "=" + spec.instance.Dotted(),
                                             std::string(api::kLabelUid) + "=" + spec.uid}));
  if (!found.empty()) {
    auto pick = std::find_if(found.begin(), found.end(),
                             [&](const docker::ContainerSummary& s) {
                               return std::find(s.names.begin(), s.names.end(), name) != s.names.end();
                             });
    if (pick == found.end()) pick = found.begin();
    if (found.size() > 1) {
      logger_->Warn("several containers carry one instance's labels; using one",
                    {{"instance", spec.instance.ToString()}, {"host", host.name},
                     {"count", found.size()}, {"container", ShortId(pick->id)}});
    }
    return client.InspectContainer(pick->id);
  }

  int64_t port = spec.port;
  if (port == 0) {
    RF_ASSIGN_OR_RETURN(port, PickPort(client, host));
  }
  auto id = client.CreateContainer(CreateSpec(host, spec, port));
  if (id.ok()) {
    logger_->Info("docker container created",
                  {{"instance", spec.instance.ToString()}, {"host", host.name},
                   {"container", ShortId(*id)}, {"name", name}, {"port", port}});
    return client.InspectContainer(*id);
  }
  const Status& err = id.error();
  if (err.code() == StatusCode::kConflict) {
    // The name is taken: a container of ours whose labels the list did not show yet (or a
    // concurrent create). Adopt it if it is this instance's.
    RF_ASSIGN_OR_RETURN(docker::ContainerInfo info, client.InspectContainer(name));
    if (Label(info.labels, api::kLabelUid) != spec.uid) {
      return ConflictError(fmt::format("container name {} on host {} is used by a container that is "
                                       "not instance {} (uid {})",
                                       name, host.name, spec.instance.ToString(), spec.uid));
    }
    return info;
  }
  if (err.code() == StatusCode::kNotFound) {
    return FailedPreconditionError(fmt::format(
        "image {} is missing on host {} (build it with scripts/build-redis-image): {}", options_.image,
        host.name, err.message()));
  }
  return err;
}

bool DockerRuntime::WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) const {
  const TimePoint deadline = clock_->Now() + timeout;
  const int64_t max_polls = timeout / kPollInterval + 1;
  for (int64_t i = 0;; ++i) {
    if (pred()) return true;
    if (i >= max_polls || clock_->Now() >= deadline) return false;
    std::this_thread::sleep_for(kPollInterval);
  }
}

Status DockerRuntime::WaitReady(docker::DockerClient& client, const Observed& o, const std::string& what) {
  redis::ConnectOptions opts;
  opts.host = o.endpoint.host;
  opts.port = static_cast<int>(o.endpoint.port);
  opts.password = o.password;
  opts.timeout = kRedisTimeout;
  Status last = UnavailableError("no answer yet");
  std::string stopped_state;
  bool ready = WaitUntil(
      [&] {
        auto c = redis::RedisClient::Connect(opts);
        if (c.ok()) {
          last = (*c)->Ping();
          if (last.ok()) return true;
        } else {
          last = c.error();
        }
        auto info = client.InspectContainer(o.info.id);
        if (info.ok() && ((!info->running && info->status != "created") || info->status == "restarting")) {
          stopped_state = fmt::format("{} (exit code {}{}{})", info->status, info->exit_code,
                                      info->oom_killed ? ", OOM killed" : "",
                                      info->error.empty() ? "" : ", " + info->error);
          return true;
        }
        return false;
      },
      options_.start_timeout);
  if (ready && stopped_state.empty()) return Status::Ok();

  std::string logs;
  if (auto text = client.ContainerLogs(o.info.id, kLogTailLines); text.ok()) {
    std::string_view t = *text;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.remove_suffix(1);
    std::string one_line(t);
    std::replace(one_line.begin(), one_line.end(), '\n', '|');
    logs = Scrub(RedactSecrets(one_line), o.password);
  }
  std::string detail = fmt::format("{}: container {} ({}:{})", what, ShortId(o.info.id),
                                   o.endpoint.host, o.endpoint.port);
  if (!stopped_state.empty()) {
    // End Docker's restart loop; the next Ensure starts it again.
    (void)client.StopContainer(o.info.id, std::chrono::seconds(1));
    detail += " stopped while starting: " + stopped_state;
  } else {
    detail += fmt::format(" did not answer PING within {}ms: {}", options_.start_timeout.count(),
                          last.message());
  }
  if (!logs.empty()) detail += "; last log lines: " + logs;
  return UnavailableError(std::move(detail));
}

StatusOr<RedisResources> DockerRuntime::LiveResources(const Observed& o) const {
  redis::ConnectOptions opts;
  opts.host = o.endpoint.host;
  opts.port = static_cast<int>(o.endpoint.port);
  opts.password = o.password;
  opts.timeout = kRedisTimeout;
  RF_ASSIGN_OR_RETURN(auto client, redis::RedisClient::Connect(opts));
  RF_ASSIGN_OR_RETURN(std::string maxmemory, client->ConfigGet("maxmemory"));
  RF_ASSIGN_OR_RETURN(std::string maxclients, client->ConfigGet("maxclients"));
  return RedisResources{ToInt(maxmemory) / kMiB, ToInt(maxclients)};
}

Status DockerRuntime::ResizeLocked(docker::DockerClient& client, const Observed& o,
                                   const RedisResources& to, const std::string& what) {
  redis::ConnectOptions opts;
  opts.host = o.endpoint.host;
  opts.port = static_cast<int>(o.endpoint.port);
  opts.password = o.password;
  opts.timeout = kRedisTimeout;
  RF_ASSIGN_OR_RETURN(auto redis, redis::RedisClient::Connect(opts));
  RF_ASSIGN_OR_RETURN(redis::InfoMap info, redis->Info({"memory"}));
  const int64_t used = info.GetInt("used_memory").value_or(0);
  const int64_t new_max = to.memory_mib * kMiB;
  if (used > new_max) {
    return FailedPreconditionError(fmt::format(
        "{}: uses {} MiB ({} bytes), more than the {} MiB asked for; not resized", what,
        (used + kMiB - 1) / kMiB, used, to.memory_mib));
  }
  const int64_t new_limit = (to.memory_mib + kMemoryOverheadMiB) * kMiB;
  auto set_limit = [&]() -> Status {
    if (o.info.memory_bytes == new_limit && o.info.memory_swap_bytes == new_limit) return Status::Ok();
    return client.UpdateContainerMemory(o.info.id, new_limit, new_limit).WithContext(what);
  };
  auto set_maxmemory = [&] { return redis->ConfigSet("maxmemory", std::to_string(new_max)); };
  if (new_limit >= o.info.memory_bytes) {
    RF_RETURN_IF_ERROR(set_limit());
    RF_RETURN_IF_ERROR(set_maxmemory());
  } else {
    RF_RETURN_IF_ERROR(set_maxmemory());
    RF_RETURN_IF_ERROR(set_limit());
  }
  RF_RETURN_IF_ERROR(redis->ConfigSet("maxclients", std::to_string(to.max_clients)));
  logger_->Info("docker container resized in place",
                {{"container", ShortId(o.info.id)}, {"memory_mib", to.memory_mib},
                 {"max_clients", to.max_clients}, {"used_memory_bytes", used}});
  return Status::Ok();
}

StatusOr<api::Endpoint> DockerRuntime::Ensure(const Host& host, const RedisSpec& spec) {
  const std::string what = fmt::format("instance {} on host {}", spec.instance.ToString(), host.name);
  if (spec.uid.empty() || spec.instance.name.empty()) {
    return InvalidArgumentError(what + ": spec needs an instance name and uid");
  }
  RF_RETURN_IF_ERROR(ValidResources(spec.resources, what));
  auto result = [&]() -> StatusOr<api::Endpoint> {
    RF_ASSIGN_OR_RETURN(std::shared_ptr<docker::DockerClient> client, ClientFor(host));
    auto mu = InstanceMutex(client->endpoint() + "|" + ContainerName(spec.instance, spec.uid));
    std::lock_guard<std::mutex> lock(*mu);
    RF_ASSIGN_OR_RETURN(docker::ContainerInfo info, FindOrCreate(*client, host, spec));
    Observed o = Observe(host, std::move(info));
    if (o.password != spec.password) {
      return FailedPreconditionError(what + ": the password differs from the one container " +
                                     ShortId(o.info.id) +
                                     " was created with; remove the container to change it");
    }
    if (spec.port != 0 && spec.port != o.endpoint.port) {
      logger_->Warn("container keeps the port it was created with",
                    {{"instance", spec.instance.ToString()}, {"host", host.name},
                     {"port", o.endpoint.port}, {"asked_port", spec.port}});
    }
    if (!o.info.running) {
      RF_RETURN_IF_ERROR(client->StartContainer(o.info.id).WithContext(what));
      logger_->Info("docker container started",
                    {{"instance", spec.instance.ToString()}, {"host", host.name},
                     {"container", ShortId(o.info.id)}});
    }
    RF_RETURN_IF_ERROR(WaitReady(*client, o, what));
    RF_ASSIGN_OR_RETURN(RedisResources live, LiveResources(o));
    if (live != spec.resources || o.limit.memory_mib != spec.resources.memory_mib) {
      RF_RETURN_IF_ERROR(ResizeLocked(*client, o, spec.resources, what));
    }
    return o.endpoint;
  }();
  if (!result.ok()) return Scrub(result.error(), spec.password);
  return result;
}

StatusOr<std::vector<RunningRedis>> DockerRuntime::List(const Host& host) {
  RF_ASSIGN_OR_RETURN(std::shared_ptr<docker::DockerClient> client, ClientFor(host));
  RF_ASSIGN_OR_RETURN(auto summaries, client->ListContainers({std::string(api::kLabelManagedBy)}));
  std::vector<RunningRedis> out;
  for (const auto& s : summaries) {
    auto info = client->InspectContainer(s.id);
    if (!info.ok() && info.error().code() == StatusCode::kNotFound) continue;  // removed meanwhile
    if (!info.ok()) return info.error();
    Observed o = Observe(host, std::move(*info));
    RunningRedis r;
    r.id = o.info.id;
    r.instance = KeyFromDotted(Label(o.info.labels, api::kLabelInstance));
    r.uid = Label(o.info.labels, api::kLabelUid);
    r.pool_id = Label(o.info.labels, api::kLabelPool);
    r.endpoint = o.endpoint;
    r.resources = o.limit;
    r.running = o.info.running;
    r.labels = o.info.labels;
    if (r.running) {
      // The server's CONFIG is authoritative (see the header); the limit is the fallback.
      if (auto live = LiveResources(o); live.ok()) r.resources = *live;
    }
    out.push_back(std::move(r));
  }
  return out;
}

Status DockerRuntime::Resize(const Host& host, const RunningRedis& redis, const RedisResources& to) {
  const std::string what = fmt::format("instance {} on host {}", redis.instance.ToString(), host.name);
  RF_RETURN_IF_ERROR(ValidResources(to, what));
  RF_ASSIGN_OR_RETURN(std::shared_ptr<docker::DockerClient> client, ClientFor(host));
  auto mu = InstanceMutex(client->endpoint() + "|" + ContainerName(redis.instance, redis.uid));
  std::lock_guard<std::mutex> lock(*mu);
  const std::string target = redis.id.empty() ? ContainerName(redis.instance, redis.uid) : redis.id;
  RF_ASSIGN_OR_RETURN(docker::ContainerInfo info, client->InspectContainer(target));
  Observed o = Observe(host, std::move(info));
  if (!o.info.running) {
    return UnavailableError(what + ": container " + ShortId(o.info.id) + " is not running (" +
                            o.info.status + ")");
  }
  return Scrub(ResizeLocked(*client, o, to, what), o.password);
}

Status DockerRuntime::Remove(const Host& host, const RunningRedis& redis) {
  const std::string what = fmt::format("instance {} on host {}", redis.instance.ToString(), host.name);
  RF_ASSIGN_OR_RETURN(std::shared_ptr<docker::DockerClient> client, ClientFor(host));
  auto mu = InstanceMutex(client->endpoint() + "|" + ContainerName(redis.instance, redis.uid));
  std::lock_guard<std::mutex> lock(*mu);
  const std::string target = redis.id.empty() ? ContainerName(redis.instance, redis.uid) : redis.id;
  Status stop = client->StopContainer(target, options_.stop_grace);
  if (stop.code() == StatusCode::kNotFound) return Status::Ok();
  if (!stop.ok()) {
    logger_->Warn("docker stop failed; removing by force",
                  {{"container", ShortId(target)}, {"error", stop.message()}});
  }
  Status rm = client->RemoveContainer(target, /*force=*/true, /*remove_volumes=*/true);
  if (rm.code() == StatusCode::kNotFound) return Status::Ok();
  RF_RETURN_IF_ERROR(rm.WithContext(what));
  logger_->Info("docker container removed",
                {{"instance", redis.instance.ToString()}, {"host", host.name},
                 {"container", ShortId(target)}});
  return Status::Ok();
}

}  // namespace redisfleet::providers
