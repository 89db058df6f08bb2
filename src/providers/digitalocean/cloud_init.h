#pragma once
// cloud-init user-data ("#cloud-config") that turns a fresh DigitalOcean droplet (Debian or
// Ubuntu image) into a redis-fleet Docker host: installs Docker, exposes its API only through
// mutual TLS or an nginx basic-auth proxy, loads the Redis image and runs `redis-fleet agent`
// for heartbeats. Pure: no I/O; randomness (the htpasswd salt) comes from the caller.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/random.h"
#include "common/status.h"

namespace redisfleet::digitalocean {

struct CloudInitOptions {
  std::string host_name;  // the droplet's name; the agent announces it (--name)
  enum class DockerAccess { kTls, kBasicAuthProxy } docker_access = DockerAccess::kTls;
  int docker_port = 2376;  // where the Docker API is exposed (TLS or the proxy)
  // kTls: dockerd --tlsverify with these; clients must present a cert signed by ca_pem.
  // kBasicAuthProxy: nginx terminates TLS with server_cert/key (if given; then ca_pem, if
  //   given too, also requires a client certificate) and checks basic auth in front of
  //   /var/run/docker.sock; dockerd itself listens on the unix socket only.
  std::string ca_pem, server_cert_pem, server_key_pem;  // the host's own credentials
  std::string basic_auth;  // "user:password": only a salted SHA-512 crypt hash reaches the host
  std::string redis_image = "redis:7";  // docker pull, or docker load from redis_image_url
  std::string redis_image_url;          // optional https URL of a `docker save` tarball
  std::string redis_fleet_url;  // https URL of the redis-fleet binary for the agent
  std::string discovery_url;    // redis[s]://[user:pass@]host:port/db
  // The agent is installed when both redis_fleet_url and discovery_url are set; setting only
  // one of them is InvalidArgument (a host without heartbeats would never become Ready).
  std::string discovery_key_prefix = "server:";
  int64_t discovery_ttl_seconds = 10;
  // Where the agent's --address comes from: "digitalocean-metadata" (public IPv4,
  // http://169.254.169.254/metadata/v1/interfaces/public/0/ipv4/address) or
  // "digitalocean-metadata-private" (the VPC address, interfaces/private/0/...).
  std::string public_address_source = "digitalocean-metadata";
};

// DigitalOcean's limit on user_data.
inline constexpr std::size_t kMaxUserDataBytes = 64 * 1024;

// A "#cloud-config" document (YAML emitted by yaml-cpp; PEMs as literal blocks), at most
// kMaxUserDataBytes. InvalidArgument naming the option for inconsistent or unsafe input (kTls
// without the three PEMs, kBasicAuthProxy without basic_auth, host_name not a valid droplet
// name, a URL that is not https/redis, characters that could break out of a systemd unit or an
// env file, output over the limit, ...). Error messages never contain a secret. The only
// secrets in the output are the host's own: server key, the discovery URL (inside
// /etc/redis-fleet/agent.env only) and the htpasswd hash (never the plain password).
// Thread-safe if `random` is.
StatusOr<std::string> GenerateCloudInit(const CloudInitOptions& o, RandomSource& random);
// The same with a CryptoRandom salt.
StatusOr<std::string> GenerateCloudInit(const CloudInitOptions& o);

// SHA-512 crypt (the "$6$" scheme of glibc/libxcrypt crypt(3), as nginx's auth_basic checks
// it): "$6$<salt>$<hash>", or "$6$rounds=<n>$<salt>$<hash>" when rounds != 5000. The salt is
// truncated to 16 characters and must be from [./0-9A-Za-z]; rounds in [1000, 999999999].
// InvalidArgument otherwise (the password is never in the message).
StatusOr<std::string> Sha512Crypt(std::string_view password, std::string_view salt,
                                  int rounds = 5000);

}  // namespace redisfleet::digitalocean
