#include "agent/agent.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <thread>
#include <utility>

#include "api/types.h"
#include "common/backoff.h"
#include "common/redact.h"

namespace redisfleet::agent {
namespace {

constexpr int64_t kMiB = 1024 * 1024;
constexpr std::chrono::milliseconds kStopPoll{100};

bool HasSpaceOrControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return std::isspace(u) || std::iscntrl(u);
  });
}

Status FlagError(std::string_view flag, std::string what) {
  return InvalidArgumentError(std::string(flag) + ": " + std::move(what));
}

docker::DockerClientOptions DockerOptions(const Options& o) {
  docker::DockerClientOptions d;
  d.endpoint = o.docker_endpoint;
  d.basic_auth = o.docker_basic_auth;
  d.connect_timeout = std::min<std::chrono::milliseconds>(o.interval, std::chrono::seconds(5));
  // A measurement older than the ttl is useless: the key would have expired meanwhile.
  d.request_timeout = o.ttl;
  return d;
}

// Sleeps `d`, waking every kStopPoll to check `stop`. False when stop() became true.
bool SleepUnlessStopped(std::chrono::steady_clock::duration d, const std::function<bool()>& stop) {
  const auto deadline = std::chrono::steady_clock::now() + d;
  while (true) {
    if (stop()) return false;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(deadline - now, kStopPoll));
  }
}

}  // namespace

Status Validate(const Options& o) {
  if (o.discovery_url.empty()) {
    return FlagError("--discovery", "required (redis://[user[:password]@]host[:port][/db])");
  }
  if (auto url = redis::ParseRedisUrl(o.discovery_url); !url.ok()) {
    return FlagError("--discovery", url.status().message());
  }
  if (HasSpaceOrControl(o.key_prefix)) {
    return FlagError("--key-prefix", "must not contain whitespace or control characters");
  }
  if (o.name.empty()) return FlagError("--name", "required (the host's name in its pool)");
  if (HasSpaceOrControl(o.name)) return FlagError("--name", "must not contain whitespace or control characters");
  if (o.address.empty()) {
    return FlagError("--address", "required (where clients reach this host's Redis servers)");
  }
  if (HasSpaceOrControl(o.address)) {
    return FlagError("--address", "must not contain whitespace or control characters");
  }
  if (o.docker_endpoint.empty()) return FlagError("--docker", "required (unix:///path, tcp://host:port)");
  if (auto h = docker::HttpOptionsFor(DockerOptions(o)); !h.ok()) {
    return FlagError("--docker", RedactSecrets(h.status().message()));
  }
  if (!o.docker_basic_auth.empty() && o.docker_basic_auth.find(':') == std::string::npos) {
    return FlagError("--docker-basic-auth", "want user:password");
  }
  if (o.ttl < std::chrono::seconds(1)) {
    return FlagError("--ttl", fmt::format("must be at least 1s (got {}s)", o.ttl.count()));
  }
  if (o.interval <= std::chrono::milliseconds(0)) {
    return FlagError("--interval", fmt::format("must be positive (got {}ms)", o.interval.count()));
  }
  if (o.interval >= o.ttl) {
    return FlagError("--interval", fmt::format("must be shorter than --ttl (got interval {}ms, ttl {}s)",
                                               o.interval.count(), o.ttl.count()));
  }
  return Status::Ok();
}

StatusOr<redis::HostBeat> Measure(const Options& o, docker::DockerClient& docker, const Clock& clock) {
  redis::HostBeat beat;
  beat.name = o.name;
  beat.address = o.address;
  beat.docker_endpoint = o.docker_endpoint;
  beat.agent_version = std::string(kAgentVersion);
  beat.at = clock.Now();
  RF_ASSIGN_OR_RETURN(auto summaries, docker.ListContainers({std::string(api::kLabelManagedBy)}));
  for (const auto& s : summaries) {
    auto info = docker.InspectContainer(s.id);
    if (!info.ok() && info.error().code() == StatusCode::kNotFound) continue;  // removed meanwhile
    if (!info.ok()) return info.error();
    ++beat.containers;
    if (info->memory_bytes > 0) beat.memory_mib_used += (info->memory_bytes + kMiB - 1) / kMiB;
  }
  RF_ASSIGN_OR_RETURN(docker::DaemonInfo daemon, docker.Info());
  beat.memory_mib_total = daemon.mem_total_bytes / kMiB;
  return beat;
}

int Run(const Options& o, std::shared_ptr<Logger> logger, std::function<bool()> stop) {
  if (logger == nullptr) logger = Logger::Null();
  if (!stop) stop = [] { return false; };
  if (Status v = Validate(o); !v.ok()) {
    logger->Error("agent: invalid options", {{"error", v.message()}});
    return 2;
  }
  auto docker = docker::DockerClient::Create(DockerOptions(o));
  if (!docker.ok()) {
    logger->Error("agent: invalid options", {{"error", docker.error().message()}});
    return 2;
  }
  std::shared_ptr<Logger> log = logger->With({{"host", o.name}});
  const auto redis_timeout = std::min<std::chrono::milliseconds>(o.interval, std::chrono::seconds(2));
  redis::HeartbeatRegistry registry(o.discovery_url, redis_timeout);
  const RealClock clock;
  const Backoff backoff(std::min<std::chrono::milliseconds>(o.interval, std::chrono::milliseconds(250)),
                        o.interval);
  log->Info("agent started", {{"discovery", RedactSecrets(o.discovery_url)},
                              {"docker", (*docker)->endpoint()},
                              {"key", o.key_prefix + o.name},
                              {"interval_ms", o.interval.count()},
                              {"ttl_seconds", o.ttl.count()}});

  int failures = 0;
  bool published = false;
  while (!stop()) {
    const auto started = std::chrono::steady_clock::now();
    Status s;
    auto beat = Measure(o, **docker, clock);
    if (!beat.ok()) {
      s = beat.error().WithContext("measure docker " + (*docker)->endpoint());
    } else {
      s = registry.Publish(o.key_prefix, *beat, o.ttl);
    }
    std::chrono::steady_clock::duration wait;
    if (s.ok()) {
      const LogFields fields = {{"containers", beat->containers},
                                {"memory_mib_used", beat->memory_mib_used},
                                {"memory_mib_total", beat->memory_mib_total}};
      if (failures > 0) {
        LogFields f = fields;
        f.emplace_back("failed_attempts", failures);
        log->Info("heartbeat recovered", f);
      } else if (!published) {
        log->Info("heartbeat published", fields);
      } else {
        log->Debug("heartbeat published", fields);
      }
      published = true;
      failures = 0;
      wait = o.interval - (std::chrono::steady_clock::now() - started);
    } else {
      if (failures == 0) log->Warn("heartbeat failed; retrying", {{"error", s.message()}});
      wait = backoff.Delay(failures);
      if (failures < 1'000'000) ++failures;
    }
    if (!SleepUnlessStopped(wait, stop)) break;
  }

  if (Status r = registry.Remove(o.key_prefix, o.name); !r.ok()) {
    log->Warn("agent stopped; heartbeat key not removed, it expires with its ttl", {{"error", r.message()}});
  } else {
    log->Info("agent stopped; heartbeat removed");
  }
  return 0;
}

}  // namespace redisfleet::agent
