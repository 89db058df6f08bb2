#pragma once
// A Docker Engine API client (API v1.41-v1.43, i.e. Engine 20.10-24.0) over http::HttpClient:
// unix sockets, plain TCP, TCP with TLS client certificates, and TCP behind a basic-auth reverse
// proxy. Only the calls redis-fleet needs. See shared/reference/external-apis.md section 3.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/http_client.h"

namespace redisfleet::docker {

inline constexpr std::string_view kMinApiVersion = "1.41";
inline constexpr std::string_view kMaxApiVersion = "1.43";

struct DockerClientOptions {
  // unix:///path.sock, tcp://host:port (https when any TLS file is set), http:// or https://.
  std::string endpoint = "unix:///var/run/docker.sock";
  std::string ca_file{};
  std::string cert_file{};
  std::string key_file{};
  std::string basic_auth{};  // "user:password" for a reverse proxy in front of the daemon
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds request_timeout{60000};
};

// The HttpClientOptions DockerClient uses for `options`; InvalidArgument for an endpoint that
// is not unix://, tcp://, http:// or https://.
StatusOr<http::HttpClientOptions> HttpOptionsFor(const DockerClientOptions& options);

struct PortBinding {
  std::string host_ip{};
  std::string host_port{};  // Docker sends it as a string
  friend bool operator==(const PortBinding&, const PortBinding&) = default;
};

struct ContainerCreateSpec {
  std::string name{};  // ^[a-zA-Z0-9][a-zA-Z0-9_.-]+$
  std::string image{};
  std::vector<std::string> cmd{};
  std::vector<std::string> env{};  // "K=V"
  std::map<std::string, std::string> labels{};
  std::vector<std::string> exposed_ports{};  // "6379/tcp"
  int64_t memory_bytes = 0;                // 0 = unlimited
  int64_t memory_swap_bytes = 0;           // memory + swap; equal to memory_bytes = no swap
  std::string restart_policy = "unless-stopped";
  std::string network_mode{};  // "" (daemon default), bridge, host, ...
  std::map<std::string, std::vector<PortBinding>> port_bindings{};  // "6379/tcp" -> bindings
  std::vector<std::string> binds{};  // "src:dst[:opts]"
};

// One row of GET /containers/json.
struct ContainerSummary {
  std::string id{};
  std::vector<std::string> names{};  // without the leading "/"
  std::string image{};
  std::string state{};  // created|running|paused|restarting|removing|exited|dead
  std::map<std::string, std::string> labels{};
};

// The parts of GET /containers/{id}/json redis-fleet reads.
struct ContainerInfo {
  std::string id{};
  std::string name{};  // without the leading "/"
  std::string image{};
  std::string status{};  // State.Status
  bool running = false;
  bool oom_killed = false;
  int64_t exit_code = 0;
  std::string error{};  // State.Error
  std::vector<std::string> cmd{};  // Config.Cmd (may hold secrets: never log it)
  std::vector<std::string> env{};
  std::map<std::string, std::string> labels{};
  int64_t memory_bytes = 0;
  int64_t memory_swap_bytes = 0;
  std::string network_mode{};
  std::string restart_policy{};
  std::map<std::string, std::vector<PortBinding>> port_bindings{};  // HostConfig.PortBindings
};

struct ImageInfo {
  std::string id{};
  std::vector<std::string> repo_tags{};
};

// The parts of GET /info redis-fleet reads.
struct DaemonInfo {
  int64_t mem_total_bytes = 0;  // MemTotal
  int64_t ncpu = 0;             // NCPU
  std::string server_version{};  // ServerVersion ("24.0.2")
  std::string name{};            // Name (the daemon host's name)
};

struct PingResult {
  std::string api_version{};  // the daemon's, from the API-Version header or /version
  std::string negotiated{};   // what this client uses
  std::string os_type{};
};

// Thread-safe (HttpClient is; the negotiated version is guarded). Starts no threads. Every
// call negotiates the API version on first use. Errors: transport failures are kUnavailable
// (kDeadlineExceeded on timeout; kUnauthenticated when a TLS daemon refuses our client
// certificate); Docker's {"message"} errors and a proxy's 401 page map by
// status (404 NotFound, 409 Conflict, 401 Unauthenticated, 400 InvalidArgument, 5xx
// Unavailable) with Docker's message in the Status message.
class DockerClient {
 public:
  // InvalidArgument for an unusable endpoint.
  static StatusOr<std::unique_ptr<DockerClient>> Create(const DockerClientOptions& options);

  // GET /_ping, then (re)negotiates the version used: min(daemon, kMaxApiVersion).
  // FailedPrecondition when the daemon is older than kMinApiVersion.
  StatusOr<PingResult> Ping();
  // The negotiated API version ("1.41"), negotiating first if needed.
  StatusOr<std::string> ApiVersion();

  // GET /containers/json?all=1&filters={"label":[...]}; each label is "key" or "key=value".
  StatusOr<std::vector<ContainerSummary>> ListContainers(const std::vector<std::string>& labels);
  // POST /containers/create?name=...; returns the new id. Conflict when the name is in use.
  StatusOr<std::string> CreateContainer(const ContainerCreateSpec& spec);
  // POST /containers/{id}/start; OK when already running (304).
  Status StartContainer(const std::string& id_or_name);
  // GET /containers/{id}/json. NotFound when absent.
  StatusOr<ContainerInfo> InspectContainer(const std::string& id_or_name);
  // POST /containers/{id}/update with Memory and MemorySwap (bytes).
  Status UpdateContainerMemory(const std::string& id_or_name, int64_t memory_bytes,
                               int64_t memory_swap_bytes);
  // POST /containers/{id}/stop?t=...; OK when already stopped (304).
  Status StopContainer(const std::string& id_or_name, std::chrono::seconds grace);
  // DELETE /containers/{id}?force=1&v=1 (force and remove_volumes as given).
  Status RemoveContainer(const std::string& id_or_name, bool force, bool remove_volumes);
  // GET /containers/{id}/logs?stdout=1&stderr=1&tail=N, demultiplexed into plain text.
  StatusOr<std::string> ContainerLogs(const std::string& id_or_name, int tail_lines);
  // GET /images/json; repo tags of every image.
  StatusOr<std::vector<ImageInfo>> ListImages();
  // GET /images/{name}/json. NotFound when absent.
  StatusOr<ImageInfo> InspectImage(const std::string& name);

  // GET /info. InternalError when MemTotal is missing or not a positive integer.
  StatusOr<DaemonInfo> Info();

  const std::string& endpoint() const { return endpoint_; }

  // Exposed for tests: the request body CreateContainer sends.
  static std::string CreateBody(const ContainerCreateSpec& spec);
  // Exposed for tests: the Status for a non-2xx Docker response to `what` ("POST /x").
  static Status ErrorFromResponse(std::string_view what, const http::HttpResponse& response);

 private:
  DockerClient(std::string endpoint, std::unique_ptr<http::HttpClient> http,
               std::chrono::milliseconds request_timeout);

  // Sends `method` to /v<version><path>; non-2xx (other than `ok_statuses`) becomes an error.
  StatusOr<http::HttpResponse> Call(const std::string& method, const std::string& path,
                                    const std::string& json_body = "",
                                    std::vector<long> ok_statuses = {});
  StatusOr<http::HttpResponse> Raw(const std::string& method, const std::string& path,
                                   const std::string& json_body);

  std::string endpoint_;  // for messages; no credentials
  std::unique_ptr<http::HttpClient> http_;
  std::chrono::milliseconds request_timeout_;
  std::mutex mu_;
  std::string version_;  // negotiated; empty until the first successful Ping
};

// "1.43" < "1.44": compares dotted numeric versions. Non-numeric parts compare as 0.
int CompareApiVersions(std::string_view a, std::string_view b);

}  // namespace redisfleet::docker
