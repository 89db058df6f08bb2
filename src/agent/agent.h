#pragma once
// `redis-fleet agent`: runs on each Docker host and keeps its heartbeat in the discovery Redis
// (redis/heartbeat.h) fresh: what runs on the local daemon (our labelled containers, their
// memory limits, the daemon's MemTotal), published every interval with a TTL. The operator
// treats a host whose key expired as Lost.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/logging.h"
#include "common/status.h"
#include "providers/docker/docker_client.h"
#include "redis/heartbeat.h"

namespace redisfleet::agent {

inline constexpr std::string_view kAgentVersion = "redis-fleet 0.1";

struct Options {
  std::string discovery_url;  // required (--discovery)
  std::string key_prefix = "server:";
  std::string name;     // required, the host's name in its pool (--name)
  std::string address;  // where clients reach this host's Redis servers; required (--address)
  std::string docker_endpoint = "unix:///var/run/docker.sock";
  std::string docker_basic_auth;  // optional "user:password" for a proxied daemon (never logged)
  std::chrono::seconds ttl{10};
  std::chrono::milliseconds interval{3000};  // must be < ttl
};

// OK, or InvalidArgument naming the flag (--discovery, --key-prefix, --name, --address,
// --docker, --docker-basic-auth, --ttl, --interval) and what is wrong; never a secret.
Status Validate(const Options& options);

// One measurement of the local daemon: containers labelled api::kLabelManagedBy (any value,
// running or not, as DockerRuntime::List counts them), the sum of their HostConfig.Memory
// (rounded up to MiB; an unlimited container counts 0) and GET /info MemTotal (rounded down).
// `at` is clock.Now(). Docker's errors as they come (kUnavailable when unreachable).
StatusOr<redis::HostBeat> Measure(const Options& options, docker::DockerClient& docker,
                                  const Clock& clock);

// Runs until stop() returns true (checked at least every 100 ms; a Docker or Redis call in
// flight finishes first, bounded by its timeout): measures and publishes every interval.
// A failure is logged (warn, once per failure streak; info on recovery) and retried with
// capped exponential backoff (at most the interval); it never exits on a failure. On stop it
// removes its key so the operator sees the host leave at once. Returns 0 on a clean stop and
// 2 on invalid options (logged). Secrets (the URL's password, docker_basic_auth) never reach
// the log. Blocks the calling thread; starts no threads.
int Run(const Options& options, std::shared_ptr<Logger> logger, std::function<bool()> stop);

}  // namespace redisfleet::agent
