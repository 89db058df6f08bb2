#pragma once
// ContainerRuntime whose Redis servers are Docker containers, one per instance, on the Docker
// Engine of each host (Host::docker_endpoint). Containers are found by our labels and have a
// deterministic name (ContainerName), so a crash at any point of Ensure is repaired by the next
// Ensure: a created-but-not-started container is adopted and started, never duplicated.
//
// Resources: the container's memory limit (Memory = MemorySwap, no swap) is memory_mib plus
// kMemoryOverheadMiB for the server's own RSS, fragmentation and fork copy-on-write, so Redis's
// maxmemory eviction/OOM errors come before the cgroup OOM killer. A container's command cannot
// change after creation, so a resize is recorded in the live server (CONFIG SET) and in
// HostConfig.Memory (POST /update); List reads resources back from CONFIG GET while the server
// runs and from HostConfig.Memory and the command otherwise. When Docker restarts a resized
// container its server starts with the creation-time maxmemory/maxclients again; the next Ensure
// notices the drift and re-applies the resize in place.
//
// The password is part of the container's command (`--requirepass`), readable through the
// Docker API by whoever controls the daemon; it never appears in our logs or Status messages.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "providers/container_runtime.h"
#include "providers/docker/docker_client.h"

namespace redisfleet::providers {

// Thread-safe: calls for different instances run concurrently, calls for one instance are
// serialized. Starts no threads.
class DockerRuntime final : public ContainerRuntime {
 public:
  static constexpr int64_t kMemoryOverheadMiB = 32;
  static constexpr int kContainerPort = 6379;  // inside the container, bridge mode

  struct Options {
    std::string image = "redis-fleet/redis:7";
    api::NetworkMode network_mode = api::NetworkMode::kHost;
    // Host mode: the address redis-server binds (empty: the host's address, else 0.0.0.0).
    // Bridge mode: the host IP the port is published on (empty: 0.0.0.0).
    std::string bind_address;
    std::chrono::milliseconds start_timeout{20000};  // until a started server answers PING
    std::chrono::seconds stop_grace{10};              // SIGTERM grace on Remove
    // For hosts whose docker_endpoint is empty.
    std::string default_endpoint = "unix:///var/run/docker.sock";
    // Credentials for every host's daemon (pool-level settings).
    std::string ca_file;
    std::string cert_file;
    std::string key_file;
    std::string basic_auth;  // "user:password"
    // When no port is given and the bind address is not on this machine (so it cannot be
    // probed), ports are taken from here upward, skipping those our containers on the host use.
    int64_t first_port = 16379;
  };

  // Builds the client for one endpoint; the default uses DockerClient::Create with the
  // Options' credentials. Called once per endpoint (clients are cached).
  using ClientFactory =
      std::function<StatusOr<std::shared_ptr<docker::DockerClient>>(const std::string& endpoint)>;

  DockerRuntime(Options options, std::shared_ptr<Clock> clock, std::shared_ptr<Logger> logger,
                ClientFactory factory = nullptr);

  // Finds the container by labels (creating it when missing, adopting one left by a crash),
  // starts it when not running, waits until PING with the password answers, and resizes it in
  // place when its resources differ. InvalidArgument for a spec without uid, name or resources;
  // FailedPrecondition when the image is missing or the password differs from the existing
  // container's; Unavailable when the daemon or the server does not answer in time.
  StatusOr<api::Endpoint> Ensure(const Host& host, const RedisSpec& spec) override;
  // Containers on the host labelled redisfleet.io/managed-by (any value), running or not.
  StatusOr<std::vector<RunningRedis>> List(const Host& host) override;
  // INFO memory first: FailedPrecondition (nothing changed) when used_memory exceeds the new
  // maxmemory. Then the cgroup limit (POST /update) and CONFIG SET maxmemory/maxclients, in the
  // order that never leaves maxmemory above the limit. Unavailable when the server is not
  // running; NotFound when the container is gone.
  Status Resize(const Host& host, const RunningRedis& redis, const RedisResources& to) override;
  // Stops (stop_grace) and removes the container with its volumes. OK when already gone.
  Status Remove(const Host& host, const RunningRedis& redis) override;

  // "redisfleet-<ns>-<name>-<first 8 of uid>", restricted to [a-zA-Z0-9_.-].
  static std::string ContainerName(const api::Key& instance, const std::string& uid);
  // The create request for `spec` on `host` listening on `port` (exposed for tests).
  docker::ContainerCreateSpec CreateSpec(const Host& host, const RedisSpec& spec, int64_t port) const;
  // The client for `host` (cached per endpoint).
  StatusOr<std::shared_ptr<docker::DockerClient>> ClientFor(const Host& host);

 private:
  // What a container tells about itself (from inspect and its command).
  struct Observed {
    docker::ContainerInfo info;
    api::Endpoint endpoint;
    std::string password;          // from --requirepass
    RedisResources created_with;   // from the command
    RedisResources limit;          // memory from HostConfig.Memory, clients from the command
  };

  std::shared_ptr<std::mutex> InstanceMutex(const std::string& key);
  std::string BindAddress(const Host& host) const;
  std::string ClientHost(const Host& host) const;
  Observed Observe(const Host& host, docker::ContainerInfo info) const;
  // The container of `spec`, created when missing; its inspect data.
  StatusOr<docker::ContainerInfo> FindOrCreate(docker::DockerClient& client, const Host& host,
                                               const RedisSpec& spec);
  StatusOr<int64_t> PickPort(docker::DockerClient& client, const Host& host);
  Status WaitReady(docker::DockerClient& client, const Observed& o, const std::string& what);
  // CONFIG GET maxmemory/maxclients of a running server.
  StatusOr<RedisResources> LiveResources(const Observed& o) const;
  Status ResizeLocked(docker::DockerClient& client, const Observed& o, const RedisResources& to,
                      const std::string& what);
  bool WaitUntil(const std::function<bool()>& pred, std::chrono::milliseconds timeout) const;

  Options options_;
  std::shared_ptr<Clock> clock_;
  std::shared_ptr<Logger> logger_;
  ClientFactory factory_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<docker::DockerClient>> clients_;
  std::map<std::string, std::shared_ptr<std::mutex>> instance_mu_;
};

}  // namespace redisfleet::providers
