// The real redis-fleet binary on a DigitalOcean pool. The API is the fake (tests/fakes/digitalocean,
// in this process); every droplet it creates is backed by a real Docker daemon this test started
// (scripts/start-dockerd), listening with TLS on the droplet's address 127.0.0.1X, so everything
// past the API is real: Docker over verified TLS, the image, redis-server in containers.

#include <csignal>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "api/types.h"
#include "fakes/digitalocean/fake_digitalocean.h"
#include "providers/docker/docker_client.h"
#include "redis/client.h"
#include "support/harness.h"
#include "support/operator_process.h"

namespace redisfleet {
namespace {

using testing::Child;
using testing::RunCommand;
using testing::TempDir;
using testing::WaitUntil;
using testing::WriteText;

constexpr char kImage[] = "redis-fleet/redis:7";
constexpr char kToken[] = "do-token-3f9a1c77e0b24d5e";
constexpr auto kSlow = std::chrono::seconds(180);  // containers on the vfs driver start slowly

struct Daemon {
  std::string name;
  std::string address;
  std::string Socket() const { return "/tmp/redisfleet-docker/" + name + "/docker.sock"; }
};

// Certificates (a CA, one server certificate valid for every droplet address, a client
// certificate for the operator), three TLS Docker daemons with the image; once per binary.
class Environment : public ::testing::Environment {
 public:
  Environment() {
    for (int i = 0; i < 3; ++i)
      daemons_.push_back({fmt::format("rf-do-{}-{}", ::getpid(), i), fmt::format("127.0.0.{}", 11 + i)});
  }
  void SetUp() override {
    port_ = testing::FreePort(daemons_[0].address);
    ASSERT_GT(port_, 0);
    MakeCertificates();
    if (::testing::Test::HasFailure()) return;
    for (const Daemon& d : daemons_) {
      const std::string extra = fmt::format("-H tcp://{}:{} --tlsverify --tlscacert {} --tlscert {} --tlskey {}",
                                            d.address, port_, Cert("ca.pem"), Cert("server.pem"),
                                            Cert("server-key.pem"));
      Script({"env", "DOCKERD_EXTRA_ARGS=" + extra, testing::SourceDir() + "/scripts/start-dockerd", d.name});
      Script({testing::SourceDir() + "/scripts/build-redis-image", d.Socket(), kImage});
    }
    ready_ = !::testing::Test::HasFailure();
  }
  void TearDown() override {
    for (const Daemon& d : daemons_) Script({testing::SourceDir() + "/scripts/stop-dockerd", d.name, "--purge"});
  }
  const std::vector<Daemon>& daemons() const { return daemons_; }
  int port() const { return port_; }
  bool ready() const { return ready_; }
  std::string Cert(const std::string& f) const { return certs_ / f; }

 private:
  void Script(const std::vector<std::string>& argv) {
    auto r = RunCommand(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[0] << " failed:\n" << r.out << r.err;
  }
  void MakeCertificates() {
    std::string sans = "subjectAltName=";
    for (std::size_t i = 0; i < daemons_.size(); ++i) sans += (i ? ",IP:" : "IP:") + daemons_[i].address;
    WriteText(Cert("server.cnf"), "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" + sans + "\n");
    WriteText(Cert("client.cnf"), "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n");
    const std::vector<std::vector<std::string>> steps = {
        {"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", Cert("ca-key.pem"), "-out",
         Cert("ca.pem"), "-days", "2", "-subj", "/CN=redis-fleet do test CA"},
        {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", Cert("server-key.pem"), "-out",
         Cert("server.csr"), "-subj", "/CN=droplet"},
        {"openssl", "x509", "-req", "-in", Cert("server.csr"), "-CA", Cert("ca.pem"), "-CAkey", Cert("ca-key.pem"),
         "-set_serial", "2", "-out", Cert("server.pem"), "-days", "2", "-extfile", Cert("server.cnf")},
        {"openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", Cert("client-key.pem"), "-out",
         Cert("client.csr"), "-subj", "/CN=redis-fleet"},
        {"openssl", "x509", "-req", "-in", Cert("client.csr"), "-CA", Cert("ca.pem"), "-CAkey", Cert("ca-key.pem"),
         "-set_serial", "3", "-out", Cert("client.pem"), "-days", "2", "-extfile", Cert("client.cnf")},
    };
    for (const auto& argv : steps) Script(argv);
  }

  TempDir certs_;
  std::vector<Daemon> daemons_;
  int port_ = 0;
  bool ready_ = false;
};

Environment* const g_env = static_cast<Environment*>(::testing::AddGlobalTestEnvironment(new Environment));

class DigitalOceanPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(g_env->ready()) << "the Docker daemons, the image or the certificates are not ready";
    fakes::FakeDigitalOcean::Options o;
    o.token = kToken;
    o.active_delay = std::chrono::milliseconds(1000);
    for (const Daemon& d : g_env->daemons()) o.backing.push_back({d.address, "unix://" + d.Socket()});
    fake_ = std::make_unique<fakes::FakeDigitalOcean>(o);
    ASSERT_TRUE(fake_->Start("127.0.0.1:0").ok());
    std::filesystem::create_directories(dir_ + "/secrets/do-token");
    std::filesystem::create_directories(dir_ + "/secrets/do-host-tls");
    WriteText(dir_ + "/secrets/do-token/token", kToken);
    WriteText(dir_ + "/secrets/do-host-tls/ca.pem", testing::ReadText(g_env->Cert("ca.pem")));
    WriteText(dir_ + "/secrets/do-host-tls/cert.pem", testing::ReadText(g_env->Cert("server.pem")));
    WriteText(dir_ + "/secrets/do-host-tls/key.pem", testing::ReadText(g_env->Cert("server-key.pem")));
  }
  void TearDown() override {
    op_.Kill9();
    fake_.reset();
    // Nothing of this test left on the shared daemons.
    for (const Daemon& d : g_env->daemons()) {
      docker::DockerClientOptions o;
      o.endpoint = "unix://" + d.Socket();
      auto c = docker::DockerClient::Create(o);
      if (!c.ok()) continue;
      auto ours = (*c)->ListContainers({std::string(api::kLabelManagedBy) + "=" + operator_id_});
      if (!ours.ok()) continue;
      for (const auto& ct : *ours) (void)(*c)->RemoveContainer(ct.id, true, true);
    }
  }

  std::string PoolYaml() const {
    return fmt::format(
        "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata: {{name: do}}\n"
        "spec:\n  provider: digitalocean\n  runtime: docker\n"
        "  capacity: {{maxInstancesPerHost: 2, memoryMiBPerHost: 256}}\n"
        "  minHosts: 0\n  maxHosts: 3\n  standbyHosts: 1\n  scaleInDelaySeconds: 1\n"
        "  docker:\n    networkMode: host\n    image: \"{}\"\n"
        "    tls: {{caFile: \"{}\", certFile: \"{}\", keyFile: \"{}\"}}\n"
        "  digitalocean:\n    tokenSecretRef: {{name: do-token, key: token}}\n    apiURL: \"{}\"\n"
        "    dockerPort: {}\n    readyTimeoutSeconds: 120\n    hostTLSSecretName: do-host-tls\n",
        kImage, g_env->Cert("ca.pem"), g_env->Cert("client.pem"), g_env->Cert("client-key.pem"), fake_->url(),
        g_env->port());
  }
  static std::string InstanceYaml(const std::string& name) {
    return "---\napiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nmetadata:\n  name: " + name +
           "\nspec: {hostPool: do, memoryMiB: 32, maxClients: 20}\n";
  }
  void Apply(int instances) {
    std::string yaml = PoolYaml();
    for (int i = 0; i < instances; ++i) yaml += InstanceYaml("r" + std::to_string(i));
    WriteText(dir_ + "/fleet.yaml", yaml);
  }

  void StartOperator() { ASSERT_TRUE(op_.Start()) << op_.LogTail(); }

  // The pool has `hosts` droplets, every one Ready in its status, and `standby` of them empty.
  bool Settled(std::size_t hosts, int64_t standby) const {
    auto pool = op_.Pool("do");
    if (!pool || fake_->Droplets().size() != hosts || pool->status.hosts.size() != hosts) return false;
    return pool->status.ready_hosts == static_cast<int64_t>(hosts) && pool->status.standby_hosts == standby;
  }
  bool Pings(const api::RedisInstance& ri) const {
    auto c = redis::RedisClient::Connect({ri.status.endpoint.host, static_cast<int>(ri.status.endpoint.port), "",
                                          op_.Password(ri.metadata.name), std::chrono::seconds(2)});
    return c.ok() && (*c)->Ping().ok();
  }
  // Droplet names are unique and each carries our tags.
  void ExpectNoDuplicatesAndOurTags() const {
    std::set<std::string> names;
    for (const auto& d : fake_->Droplets()) {
      EXPECT_TRUE(names.insert(d.name).second) << "two droplets named " << d.name;
      EXPECT_THAT(d.tags, ::testing::Contains("redisfleet-managed-by:" + operator_id_));
      EXPECT_THAT(d.tags, ::testing::Contains("redisfleet-pool:default:do"));
      EXPECT_EQ(d.user_data.find(kToken), std::string::npos) << "the API token reached user-data";
      EXPECT_EQ(d.user_data.rfind("#cloud-config\n", 0), 0u);
    }
  }

  TempDir root_;
  std::string dir_ = root_ / "resources";
  std::string operator_id_ = testing::UniqueOperatorId();
  testing::OperatorProcess op_{root_.path(), dir_, root_ / "state", operator_id_};
  std::unique_ptr<fakes::FakeDigitalOcean> fake_;
};

TEST_F(DigitalOceanPoolTest, StandbyHostThenScaleOutWhenUsedThenBackToOneStandby) {
  Apply(0);
  StartOperator();
  // 0 -> 1 standby droplet, Ready once active and its Docker answers over TLS.
  ASSERT_TRUE(WaitUntil([&] { return Settled(1, 1); }, kSlow)) << op_.LogTail();
  EXPECT_EQ(fake_->created_total(), 1);
  EXPECT_DOUBLE_EQ(op_.Pool("do")->status.monthly_cost, 6.0);

  // Two instances fill the standby (2 per host): a second droplet is asked for.
  Apply(2);
  ASSERT_TRUE(WaitUntil([&] { return op_.ReadyCount() == 2 && Settled(2, 1); }, kSlow)) << op_.LogTail();
  for (const auto& [name, ri] : op_.Instances()) {
    SCOPED_TRACE(name);
    EXPECT_EQ(ri.status.host, "rf-default-do-1");
    EXPECT_EQ(ri.status.endpoint.host, g_env->daemons()[0].address);
    EXPECT_TRUE(Pings(ri));
    EXPECT_EQ(op_.LogTail().find(op_.Password(name)), std::string::npos) << "password in the log";
  }
  EXPECT_EQ(fake_->created_total(), 2);
  ExpectNoDuplicatesAndOurTags();
  EXPECT_EQ(op_.LogTail().find(kToken), std::string::npos) << "token in the log";
  auto metrics = testing::HttpGet(op_.metrics_port(), "/metrics");
  EXPECT_THAT(metrics.second, ::testing::HasSubstr("redisfleet_api_requests_total{code=\"202\",provider=\"digitalocean\"}"));
  EXPECT_THAT(metrics.second, ::testing::HasSubstr("redisfleet_hosts{pool=\"default/do\",state=\"Ready\"} 2"));
  EXPECT_EQ(metrics.second.find(kToken), std::string::npos);

  // Instances deleted: after scaleInDelaySeconds the surplus empty droplet is cordoned and
  // deleted; one standby stays, and its machine has no container of ours left.
  Apply(0);
  ASSERT_TRUE(WaitUntil([&] { return op_.Instances().empty() && Settled(1, 1); }, kSlow)) << op_.LogTail();
  EXPECT_EQ(fake_->deleted_total(), 1);
  EXPECT_THAT(op_.LogTail(), ::testing::HasSubstr("Cordoned"));
}

TEST_F(DigitalOceanPoolTest, Kill9DuringCreationAndFlakyApiLeaveExactlyTheWantedDroplets) {
  // 30 % of the API's answers are 500s from the start, and the first create's answer is lost
  // after the droplet was made (the ambiguous case).
  fake_->SetFailureRate(0.3);
  fake_->DropAfterCommitNext(1);
  Apply(0);
  StartOperator();
  // kill -9 as soon as the first droplet exists, before the operator could have recorded it.
  ASSERT_TRUE(WaitUntil([&] { return fake_->created_total() >= 1; }, kSlow)) << op_.LogTail();
  op_.Kill9();
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return Settled(1, 1); }, kSlow)) << op_.LogTail();
  ExpectNoDuplicatesAndOurTags();

  // Scale out with the flaky API, killed again while the second droplet is being made.
  Apply(2);
  ASSERT_TRUE(WaitUntil([&] { return fake_->Droplets().size() >= 2; }, kSlow)) << op_.LogTail();
  op_.Kill9();
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return op_.ReadyCount() == 2 && Settled(2, 1); }, kSlow)) << op_.LogTail();
  ExpectNoDuplicatesAndOurTags();
  for (const auto& [name, ri] : op_.Instances()) EXPECT_TRUE(Pings(ri)) << name;
  EXPECT_EQ(fake_->created_total(), 2) << "a droplet was created twice";
  EXPECT_EQ(op_.LogTail().find(kToken), std::string::npos) << "token in the log";
}

}  // namespace
}  // namespace redisfleet
