// DockerClient and DockerRuntime against one real Docker daemon (scripts/start-dockerd) reached
// over TCP with TLS client certificates on 127.0.0.5 (certificates made here with the openssl
// CLI) and over TCP through nginx with HTTP basic auth on 127.0.0.6 (scripts/start-docker-proxy).
// The unix socket is used only to build the image and to clean up. Containers use host
// networking and bind the daemon host's address, 127.0.0.5.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/logging.h"
#include "providers/docker/docker_client.h"
#include "providers/docker/docker_runtime.h"
#include "redis/client.h"
#include "support/harness.h"

namespace redisfleet::providers {
namespace {

using ::redisfleet::testing::CommandResult;
using ::redisfleet::testing::ProcessAlive;
using ::redisfleet::testing::ReadText;
using ::redisfleet::testing::RunCommand;
using ::redisfleet::testing::TempDir;
using ::redisfleet::testing::WaitUntil;
using ::redisfleet::testing::WriteText;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kImage[] = "redis-fleet/redis:7";
constexpr char kDaemonAddress[] = "127.0.0.5";  // the TLS listener and the containers
constexpr char kProxyAddress[] = "127.0.0.6";
constexpr char kProxyUser[] = "fleet";
constexpr char kProxyPassword[] = "Proxy-Pw-4kT9zQ";
constexpr char kTestLabel[] = "redisfleet.io/transport-test";

std::string SourceDir() {
  const char* env = std::getenv("REDISFLEET_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? env : REDISFLEET_SOURCE_DIR_DEFAULT;
}

std::string Script(const std::string& name) { return SourceDir() + "/scripts/" + name; }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}


pid_t ReadPid(const std::string& path) {
  const std::string text = ReadText(path);
  return text.empty() ? 0 : static_cast<pid_t>(std::atol(text.c_str()));
}

// The processes whose parent is `pid` (nginx's workers).
std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::vector<pid_t> out;
  const std::string text = ReadText(fmt::format("/proc/{0}/task/{0}/children", pid));
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find(' ', at);
    if (end == std::string::npos) end = text.size();
    if (end > at) out.push_back(static_cast<pid_t>(std::atol(text.substr(at, end - at).c_str())));
    at = end + 1;
  }
  return out;
}

// One daemon with a TLS listener, the image, certificates and the proxy, set up once per test
// binary; everything is stopped and purged at the end. A failing step fails the run.
class TransportEnvironment : public ::testing::Environment {
 public:
  TransportEnvironment() : name_("rf-tr-" + std::to_string(::getpid())) {}

  void SetUp() override {
    certs_ = std::make_unique<TempDir>();
    MakeCertificates();
    if (::testing::Test::HasFailure()) return;
    tls_port_ = testing::FreePort(kDaemonAddress);
    proxy_port_ = testing::FreePort(kProxyAddress);
    ASSERT_GT(tls_port_, 0);
    ASSERT_GT(proxy_port_, 0);

    const std::string extra = fmt::format(
        "-H tcp://{}:{} --tlsverify --tlscacert {} --tlscert {} --tlskey {}", kDaemonAddress,
        tls_port_, Cert("ca.pem"), Cert("server.pem"), Cert("server-key.pem"));
    Run({"env", "DOCKERD_EXTRA_ARGS=" + extra, Script("start-dockerd"), name_});
    if (::testing::Test::HasFailure()) return;
    dockerd_pid_ = ReadPid(DockerRoot() + "/docker.pid");
    containerd_pid_ = ReadPid(DockerRoot() + "/exec/containerd/containerd.pid");
    Run({Script("build-redis-image"), Socket(), kImage});
    Run({Script("start-docker-proxy"), name_, Socket(),
         fmt::format("{}:{}", kProxyAddress, proxy_port_), kProxyUser, kProxyPassword});
    if (::testing::Test::HasFailure()) return;
    nginx_pids_ = {ReadPid(ProxyRoot() + "/nginx.pid")};
    for (pid_t worker : ChildrenOf(nginx_pids_[0])) nginx_pids_.push_back(worker);
    ready_ = true;
  }

  void TearDown() override {
    Run({Script("stop-docker-proxy"), name_});
    Run({Script("stop-dockerd"), name_, "--purge"});
    std::vector<pid_t> ours = nginx_pids_;
    ours.push_back(dockerd_pid_);
    ours.push_back(containerd_pid_);
    for (pid_t pid : ours) {
      if (pid <= 0) continue;
      EXPECT_TRUE(WaitUntil([&] { return !ProcessAlive(pid); }, std::chrono::seconds(10)))
          << "process " << pid << " outlived the teardown";
    }
    EXPECT_FALSE(std::filesystem::exists(ProxyRoot()));
    EXPECT_FALSE(std::filesystem::exists(DockerRoot()));
    certs_.reset();
  }

  bool ready() const { return ready_; }
  std::string Cert(const std::string& file) const { return *certs_ / file; }
  std::string Socket() const { return DockerRoot() + "/docker.sock"; }
  std::string TlsEndpoint() const { return fmt::format("tcp://{}:{}", kDaemonAddress, tls_port_); }
  std::string ProxyEndpoint() const {
    return fmt::format("tcp://{}:{}", kProxyAddress, proxy_port_);
  }
  const std::string& name() const { return name_; }

 private:
  std::string DockerRoot() const { return "/tmp/redisfleet-docker/" + name_; }
  std::string ProxyRoot() const { return "/tmp/redisfleet-proxy/" + name_; }

  void Run(const std::vector<std::string>& argv) {
    CommandResult r = RunCommand(argv);
    std::string cmd;
    for (const auto& a : argv) cmd += (a == kProxyPassword ? "<password>" : a) + " ";
    ASSERT_EQ(r.exit_code, 0) << cmd << "failed:\n" << r.out << r.err;
  }

  void Openssl(std::vector<std::string> args) {
    args.insert(args.begin(), "openssl");
    Run(args);
  }

  // A self-signed CA `name`.pem / `name`-key.pem.
  void MakeCa(const std::string& name, const std::string& cn) {
    Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", Cert(name + "-key.pem"), "-out", Cert(name + ".pem"), "-days", "2", "-subj",
             "/CN=" + cn});
  }

  // `name`.pem / `name`-key.pem signed by CA `ca` with the extensions in `ext`.
  void MakeLeaf(const std::string& name, const std::string& ca, const std::string& cn,
                const std::string& ext, int serial) {
    Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", Cert(name + "-key.pem"), "-out", Cert(name + ".csr"), "-subj", "/CN=" + cn});
    WriteText(Cert(name + ".ext"), ext);
    Openssl({"x509", "-req", "-in", Cert(name + ".csr"), "-CA", Cert(ca + ".pem"), "-CAkey",
             Cert(ca + "-key.pem"), "-set_serial", std::to_string(serial), "-days", "2",
             "-extfile", Cert(name + ".ext"), "-out", Cert(name + ".pem")});
  }

  void MakeCertificates() {
    MakeCa("ca", "redis-fleet test CA");
    MakeLeaf("server", "ca", kDaemonAddress,
             fmt::format("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                         "extendedKeyUsage=serverAuth\nsubjectAltName=IP:{}\n",
                         kDaemonAddress),
             2);
    MakeLeaf("client", "ca", "redis-fleet",
             "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
             "extendedKeyUsage=clientAuth\n",
             3);
    // An unrelated CA and a client certificate it signed.
    MakeCa("other-ca", "unrelated CA");
    MakeLeaf("other-client", "other-ca", "redis-fleet",
             "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
             "extendedKeyUsage=clientAuth\n",
             4);
  }

  std::string name_;
  std::unique_ptr<TempDir> certs_;
  int tls_port_ = 0;
  int proxy_port_ = 0;
  pid_t dockerd_pid_ = 0;
  pid_t containerd_pid_ = 0;
  std::vector<pid_t> nginx_pids_;
  bool ready_ = false;
};

TransportEnvironment* const g_env = static_cast<TransportEnvironment*>(
    ::testing::AddGlobalTestEnvironment(new TransportEnvironment));

class DockerTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(g_env->ready()) << "the Docker daemon, certificates, image or proxy are not ready";
    docker::DockerClientOptions o;
    o.endpoint = "unix://" + g_env->Socket();
    auto c = docker::DockerClient::Create(o);
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    local_ = std::move(*c);
    auto sink = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_lines_.push_back(line);
    };
    logger_ = std::make_shared<Logger>(LogFormat::kText, LogLevel::kDebug, clock_, sink);
  }

  void TearDown() override {
    if (local_ == nullptr) return;
    auto left = local_->ListContainers({});
    ASSERT_TRUE(left.ok()) << left.error().ToString();
    for (const auto& s : *left) (void)local_->RemoveContainer(s.id, true, true);
    std::lock_guard<std::mutex> lock(log_mu_);
    for (const std::string& line : log_lines_) {
      EXPECT_THAT(line, Not(HasSubstr(kProxyPassword)));
      for (const std::string& pw : redis_passwords_) EXPECT_THAT(line, Not(HasSubstr(pw)));
    }
  }

  static docker::DockerClientOptions Tls() {
    docker::DockerClientOptions o;
    o.endpoint = g_env->TlsEndpoint();
    o.ca_file = g_env->Cert("ca.pem");
    o.cert_file = g_env->Cert("client.pem");
    o.key_file = g_env->Cert("client-key.pem");
    return o;
  }

  static docker::DockerClientOptions Proxy(const std::string& basic_auth) {
    docker::DockerClientOptions o;
    o.endpoint = g_env->ProxyEndpoint();
    o.basic_auth = basic_auth;
    return o;
  }

  static std::unique_ptr<docker::DockerClient> Client(const docker::DockerClientOptions& o) {
    auto c = docker::DockerClient::Create(o);
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::unique_ptr<DockerRuntime> Runtime(const docker::DockerClientOptions& credentials) {
    DockerRuntime::Options o;
    o.image = kImage;
    o.network_mode = api::NetworkMode::kHost;
    o.start_timeout = std::chrono::seconds(20);
    o.stop_grace = std::chrono::seconds(2);
    o.ca_file = credentials.ca_file;
    o.cert_file = credentials.cert_file;
    o.key_file = credentials.key_file;
    o.basic_auth = credentials.basic_auth;
    return std::make_unique<DockerRuntime>(o, clock_, logger_);
  }

  RedisSpec Spec(const std::string& name) {
    RedisSpec s;
    s.instance = {"it", name};
    s.uid = name + "-0123456789abcdef";
    s.pool = {"it", "docker"};
    s.resources = {32, 20};
    s.persistence = api::Persistence::kAof;
    s.password = "Pw-" + name + "-q8Lm3";
    s.labels = {{std::string(api::kLabelManagedBy), "it-" + g_env->name()}};
    redis_passwords_.push_back(s.password);
    return s;
  }

  std::shared_ptr<Clock> clock_ = std::make_shared<RealClock>();
  std::shared_ptr<Logger> logger_;
  std::unique_ptr<docker::DockerClient> local_;  // the unix socket, for cleanup
  std::vector<std::string> redis_passwords_;
  std::mutex log_mu_;
  std::vector<std::string> log_lines_;
};

TEST_F(DockerTransportTest, TlsWithClientCertificateReachesTheDaemon) {
  auto client = Client(Tls());
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->endpoint(), HasSubstr(fmt::format("https://{}:", kDaemonAddress)));
  auto ping = client->Ping();
  ASSERT_TRUE(ping.ok()) << ping.error().ToString();
  EXPECT_FALSE(ping->api_version.empty());
  EXPECT_FALSE(ping->negotiated.empty());
  EXPECT_EQ(ping->os_type, "linux");
  auto list = client->ListContainers({});
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  auto image = client->InspectImage(kImage);
  ASSERT_TRUE(image.ok()) << image.error().ToString();
  EXPECT_THAT(image->repo_tags, ::testing::Contains(kImage));
  auto info = client->Info();
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_GT(info->mem_total_bytes, 0);
}

TEST_F(DockerTransportTest, TlsRefusalsAreClearErrors) {
  struct Case {
    std::string name;
    docker::DockerClientOptions options;
    std::set<StatusCode> want_codes;
    std::string want_text;  // in the message, lower-cased
  };
  docker::DockerClientOptions no_client_cert = Tls();
  no_client_cert.cert_file.clear();
  no_client_cert.key_file.clear();
  docker::DockerClientOptions wrong_ca = Tls();
  wrong_ca.ca_file = g_env->Cert("other-ca.pem");
  docker::DockerClientOptions foreign_client_cert = Tls();
  foreign_client_cert.cert_file = g_env->Cert("other-client.pem");
  foreign_client_cert.key_file = g_env->Cert("other-client-key.pem");
  docker::DockerClientOptions plain_http = Tls();
  plain_http.ca_file.clear();
  plain_http.cert_file.clear();
  plain_http.key_file.clear();
  const Case cases[] = {
      // With TLS 1.3 the daemon refuses the client certificate after the client's side of the
      // handshake: by an alert, or by a reset before the request is sent (both Unauthenticated).
      {"no client certificate", no_client_cert, {StatusCode::kUnauthenticated}, "certificate"},
      {"server certificate from an untrusted CA", wrong_ca, {StatusCode::kUnavailable},
       "certificate"},
      {"client certificate from an unrelated CA", foreign_client_cert,
       {StatusCode::kUnauthenticated}, "certificate"},
      {"plain HTTP to the TLS port", plain_http, {StatusCode::kInvalidArgument}, "https"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto client = Client(c.options);
    ASSERT_NE(client, nullptr);
    auto ping = client->Ping();
    ASSERT_FALSE(ping.ok());
    const Status& s = ping.error();
    EXPECT_TRUE(c.want_codes.count(s.code())) << s.ToString();
    EXPECT_THAT(Lower(s.message()), HasSubstr(c.want_text)) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(kDaemonAddress)) << "names the endpoint: " << s.ToString();
    // Every call fails the same way, nothing crashes.
    auto list = client->ListContainers({});
    ASSERT_FALSE(list.ok());
    EXPECT_EQ(list.error().code(), s.code()) << list.error().ToString();
  }
}

TEST_F(DockerTransportTest, ProxyWithTheRightPasswordRunsAContainer) {
  auto client = Client(Proxy(std::string(kProxyUser) + ":" + kProxyPassword));
  ASSERT_NE(client, nullptr);
  auto ping = client->Ping();
  ASSERT_TRUE(ping.ok()) << ping.error().ToString();
  EXPECT_FALSE(ping->api_version.empty());
  EXPECT_THAT(client->endpoint(), Not(HasSubstr(kProxyPassword)));

  const int port = testing::FreePort(kDaemonAddress);
  ASSERT_GT(port, 0);
  docker::ContainerCreateSpec spec;
  spec.name = g_env->name() + "-plain";
  spec.image = kImage;
  spec.cmd = {"redis-server", "--bind", kDaemonAddress, "--port", std::to_string(port),
              "--save", "", "--appendonly", "no"};
  spec.labels = {{kTestLabel, g_env->name()}};
  spec.network_mode = "host";
  spec.restart_policy = "no";
  auto id = client->CreateContainer(spec);
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  auto again = client->CreateContainer(spec);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), StatusCode::kConflict) << again.error().ToString();
  ASSERT_TRUE(client->StartContainer(*id).ok());
  EXPECT_TRUE(client->StartContainer(*id).ok()) << "already running is OK (304)";
  auto info = client->InspectContainer(*id);
  ASSERT_TRUE(info.ok()) << info.error().ToString();
  EXPECT_TRUE(info->running);
  EXPECT_EQ(info->network_mode, "host");

  // Logs come through the unbuffered proxy.
  std::string logs;
  EXPECT_TRUE(WaitUntil([&] {
    auto l = client->ContainerLogs(*id, 50);
    if (l.ok()) logs = *l;
    return logs.find("Ready to accept connections") != std::string::npos;
  })) << logs;
  redis::ConnectOptions ro;
  ro.host = kDaemonAddress;
  ro.port = port;
  auto redis_client = redis::RedisClient::Connect(ro);
  ASSERT_TRUE(redis_client.ok()) << redis_client.error().ToString();
  EXPECT_TRUE((*redis_client)->Ping().ok());

  auto listed = client->ListContainers({std::string(kTestLabel) + "=" + g_env->name()});
  ASSERT_TRUE(listed.ok()) << listed.error().ToString();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().id, *id);
  EXPECT_EQ(listed->front().state, "running");

  ASSERT_TRUE(client->StopContainer(*id, std::chrono::seconds(2)).ok());
  auto stopped = client->InspectContainer(*id);
  ASSERT_TRUE(stopped.ok());
  EXPECT_FALSE(stopped->running);
  ASSERT_TRUE(client->RemoveContainer(*id, true, true).ok());
  auto gone = client->InspectContainer(*id);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code(), StatusCode::kNotFound) << gone.error().ToString();
}

TEST_F(DockerTransportTest, ProxyRefusesWrongCredentialsAsUnauthenticated) {
  const std::string wrong_password = "Wrong-Pw-7hQx2";
  struct Case {
    std::string name;
    std::string basic_auth;
  };
  const Case cases[] = {
      {"wrong password", std::string(kProxyUser) + ":" + wrong_password},
      {"wrong user", std::string("intruder:") + kProxyPassword},
      {"no credentials", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto client = Client(Proxy(c.basic_auth));
    ASSERT_NE(client, nullptr);
    docker::ContainerCreateSpec spec;
    spec.name = g_env->name() + "-refused";
    spec.image = kImage;
    std::vector<Status> errors;
    auto ping = client->Ping();
    ASSERT_FALSE(ping.ok());
    errors.push_back(ping.error());
    auto list = client->ListContainers({});
    ASSERT_FALSE(list.ok());
    errors.push_back(list.error());
    auto created = client->CreateContainer(spec);
    ASSERT_FALSE(created.ok());
    errors.push_back(created.error());
    for (const Status& s : errors) {
      EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
      EXPECT_THAT(s.message(), HasSubstr("basic-auth")) << s.ToString();
      EXPECT_THAT(s.message(), HasSubstr("401 Authorization Required")) << s.ToString();
      EXPECT_THAT(s.message(), HasSubstr(kProxyAddress)) << s.ToString();
      EXPECT_THAT(s.message(), Not(HasSubstr("<html>")));
      EXPECT_THAT(s.message(), Not(HasSubstr(wrong_password)));
      EXPECT_THAT(s.message(), Not(HasSubstr(kProxyPassword)));
    }
  }
  auto left = local_->ListContainers({});
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << "nothing got through the proxy";
}

TEST_F(DockerTransportTest, RuntimeEnsuresARedisThroughEachTransport) {
  struct Case {
    std::string name;
    docker::DockerClientOptions options;
  };
  const Case cases[] = {
      {"tls", Tls()},
      {"proxy", Proxy(std::string(kProxyUser) + ":" + kProxyPassword)},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto runtime = Runtime(c.options);
    Host host;
    host.name = "transport-" + c.name;
    host.provider_id = "static";
    host.address = kDaemonAddress;  // the daemon's host, where its containers listen
    host.docker_endpoint = c.options.endpoint;
    RedisSpec spec = Spec("via-" + c.name);

    auto ep = runtime->Ensure(host, spec);
    ASSERT_TRUE(ep.ok()) << ep.error().ToString();
    EXPECT_EQ(ep->host, kDaemonAddress);
    EXPECT_GT(ep->port, 0);
    redis::ConnectOptions ro;
    ro.host = ep->host;
    ro.port = static_cast<int>(ep->port);
    ro.password = spec.password;
    auto redis_client = redis::RedisClient::Connect(ro);
    ASSERT_TRUE(redis_client.ok()) << redis_client.error().ToString();
    EXPECT_TRUE((*redis_client)->Ping().ok());
    ro.password.clear();
    auto anonymous = redis::RedisClient::Connect(ro);
    ASSERT_TRUE(anonymous.ok());
    EXPECT_EQ((*anonymous)->Ping().code(), StatusCode::kUnauthenticated);

    auto again = runtime->Ensure(host, spec);
    ASSERT_TRUE(again.ok()) << again.error().ToString();
    EXPECT_EQ(*again, *ep);
    auto list = runtime->List(host);
    ASSERT_TRUE(list.ok()) << list.error().ToString();
    ASSERT_EQ(list->size(), 1u);
    EXPECT_EQ(list->front().uid, spec.uid);
    EXPECT_EQ(list->front().endpoint, *ep);
    EXPECT_TRUE(list->front().running);

    ASSERT_TRUE(runtime->Remove(host, list->front()).ok());
    auto after = runtime->List(host);
    ASSERT_TRUE(after.ok()) << after.error().ToString();
    EXPECT_TRUE(after->empty());
  }
}

}  // namespace
}  // namespace redisfleet::providers
