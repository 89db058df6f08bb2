// The real redis-fleet binary on a static pool of two real Docker daemons (scripts/start-dockerd;
// host networking: daemon A's containers bind 127.0.0.2, daemon B's 127.0.0.3), with the image
// scripts/build-redis-image makes, and `redis-fleet agent` heartbeats into a real redis-server.

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "api/types.h"
#include "common/clock.h"
#include "common/logging.h"
#include "providers/docker/docker_client.h"
#include "providers/docker/docker_runtime.h"
#include "redis/client.h"
#include "store/dir_store.h"
#include "support/harness.h"
#include "support/operator_process.h"

namespace redisfleet {
namespace {

using ::testing::HasSubstr;
using testing::Child;
using testing::RunCommand;
using testing::TempDir;
using testing::WaitUntil;
using testing::WriteText;

constexpr char kImage[] = "redis-fleet/redis:7";
constexpr auto kSlow = std::chrono::seconds(180);  // container starts on the vfs driver are slow

struct Daemon {
  std::string name;
  std::string address;
  std::string Socket() const { return "/tmp/redisfleet-docker/" + name + "/docker.sock"; }
  std::string Endpoint() const { return "unix://" + Socket(); }
};

// Two daemons with the image, and one redis-server as the discovery registry; once per binary.
class Environment : public ::testing::Environment {
 public:
  Environment() {
    const std::string tag = "rf-dp-" + std::to_string(::getpid());
    a_ = {tag + "-a", "127.0.0.2"};
    b_ = {tag + "-b", "127.0.0.3"};
  }
  void SetUp() override {
    for (const Daemon* d : {&a_, &b_}) {
      Script({testing::SourceDir() + "/scripts/start-dockerd", d->name});
      Script({testing::SourceDir() + "/scripts/build-redis-image", d->Socket(), kImage});
    }
    registry_port_ = testing::FreePort();
    registry_ = std::make_unique<Child>(
        std::vector<std::string>{"redis-server", "--bind", "127.0.0.1", "--port",
                                 std::to_string(registry_port_), "--save", "", "--appendonly",
                                 "no"},
        tmp_ / "registry.log");
    ASSERT_TRUE(WaitUntil([&] {
      auto c = redis::RedisClient::Connect({"127.0.0.1", registry_port_, "", "", std::chrono::seconds(1)});
      return c.ok() && (*c)->Ping().ok();
    })) << testing::ReadText(tmp_ / "registry.log");
    ready_ = !::testing::Test::HasFailure();
  }
  void TearDown() override {
    registry_.reset();
    for (const Daemon* d : {&a_, &b_}) Script({testing::SourceDir() + "/scripts/stop-dockerd", d->name, "--purge"});
  }
  const Daemon& a() const { return a_; }
  const Daemon& b() const { return b_; }
  int registry_port() const { return registry_port_; }
  bool ready() const { return ready_; }

 private:
  void Script(const std::vector<std::string>& argv) {
    auto r = RunCommand(argv);
    ASSERT_EQ(r.exit_code, 0) << argv[0] << " failed:\n" << r.out << r.err;
  }
  TempDir tmp_;
  Daemon a_, b_;
  int registry_port_ = 0;
  std::unique_ptr<Child> registry_;
  bool ready_ = false;
};

Environment* const g_env = static_cast<Environment*>(::testing::AddGlobalTestEnvironment(new Environment));

class DockerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(g_env->ready()) << "the Docker daemons, the image or the registry are not ready";
    for (const Daemon* d : {&g_env->a(), &g_env->b()}) {
      docker::DockerClientOptions o;
      o.endpoint = d->Endpoint();
      auto c = docker::DockerClient::Create(o);
      ASSERT_TRUE(c.ok()) << c.status().ToString();
      clients_[d->name] = std::move(*c);
    }
  }
  void TearDown() override {
    agents_.clear();
    op_.Kill9();
    // Leave nothing of this test behind on the shared daemons.
    for (auto& [name, client] : clients_) {
      auto ours = client->ListContainers({std::string(api::kLabelManagedBy) + "=" + operator_id_});
      if (!ours.ok()) continue;
      for (const auto& c : *ours) (void)client->RemoveContainer(c.id, true, true);
    }
  }

  std::string PoolYaml(const std::string& name, int per_host, const std::string& discovery = "") {
    const Daemon& a = g_env->a();
    const Daemon& b = g_env->b();
    return "apiVersion: redisfleet.io/v1alpha1\nkind: HostPool\nmetadata:\n  name: " + name +
           "\nspec:\n  provider: static\n  runtime: docker\n"
           "  capacity: {maxInstancesPerHost: " + std::to_string(per_host) + ", memoryMiBPerHost: 4096}\n"
           "  docker: {networkMode: host, image: \"" + kImage + "\"}\n"
           "  static:\n    hosts:\n"
           "      - {name: a, dockerEndpoint: \"" + a.Endpoint() + "\", address: " + a.address + "}\n"
           "      - {name: b, dockerEndpoint: \"" + b.Endpoint() + "\", address: " + b.address + "}\n" +
           discovery;
  }
  static std::string InstanceYaml(const std::string& name, const std::string& pool, int64_t mib) {
    return "---\napiVersion: redisfleet.io/v1alpha1\nkind: RedisInstance\nmetadata:\n  name: " + name +
           "\nspec: {hostPool: " + pool + ", memoryMiB: " + std::to_string(mib) + ", maxClients: 20}\n";
  }

  void StartOperator() { ASSERT_TRUE(op_.Start({"--orphan-grace-seconds", "2"})) << op_.LogTail(); }

  // Our containers on one daemon (by its name).
  std::vector<docker::ContainerSummary> Containers(const Daemon& d) {
    auto list = clients_.at(d.name)->ListContainers({std::string(api::kLabelManagedBy) + "=" + operator_id_});
    return list.ok() ? *list : std::vector<docker::ContainerSummary>{};
  }
  StatusOr<std::unique_ptr<redis::RedisClient>> Connect(const api::RedisInstance& ri) const {
    return redis::RedisClient::Connect({ri.status.endpoint.host, static_cast<int>(ri.status.endpoint.port), "",
                                        op_.Password(ri.metadata.name), std::chrono::seconds(2)});
  }

  TempDir root_;
  std::string dir_ = root_ / "resources";
  std::string operator_id_ = testing::UniqueOperatorId();
  testing::OperatorProcess op_{root_.path(), dir_, root_ / "state", operator_id_};
  std::vector<std::unique_ptr<Child>> agents_;
  std::map<std::string, std::unique_ptr<docker::DockerClient>> clients_;
};

TEST_F(DockerPoolTest, BinPacksSurvivesKill9ResizesDeletesAndCollectsOrphans) {
  std::string yaml = PoolYaml("docker", 6);
  for (int i = 0; i < 10; ++i) yaml += InstanceYaml("r" + std::to_string(i), "docker", 32);
  WriteText(dir_ + "/fleet.yaml", yaml);

  // kill -9 while the containers are being created.
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return Containers(g_env->a()).size() >= 2; }, kSlow)) << op_.LogTail();
  ASSERT_LT(op_.ReadyCount(), 10) << "all were ready before the kill; the test did not kill mid-creation";
  op_.Kill9();
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return op_.ReadyCount() == 10; }, kSlow)) << op_.LogTail();

  // Exactly ten, bin-packed: the first host full (6) before the second is used.
  auto on_a = Containers(g_env->a());
  auto on_b = Containers(g_env->b());
  EXPECT_EQ(on_a.size(), 6u);
  EXPECT_EQ(on_b.size(), 4u);
  auto instances = op_.Instances();
  for (const auto& [name, ri] : instances) {
    SCOPED_TRACE(name);
    EXPECT_EQ(ri.status.endpoint.host, ri.status.host == "a" ? "127.0.0.2" : "127.0.0.3");
    auto c = Connect(ri);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_TRUE((*c)->Ping().ok());
    EXPECT_EQ(op_.Password(name).find('\n'), std::string::npos);
    EXPECT_EQ(op_.LogTail().find(op_.Password(name)), std::string::npos) << "password in the log";
  }

  // Resize in place: same port, data kept, maxmemory follows.
  const auto before = instances.at("r0");
  {
    auto c = Connect(before);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->Command({"SET", "kept", "yes"}).ok());
  }
  std::string edited = PoolYaml("docker", 6);
  for (int i = 0; i < 10; ++i) edited += InstanceYaml("r" + std::to_string(i), "docker", i == 0 ? 48 : 32);
  WriteText(dir_ + "/fleet.yaml", edited);
  ASSERT_TRUE(WaitUntil([&] {
    auto c = Connect(before);
    if (!c.ok()) return false;
    auto v = (*c)->ConfigGet("maxmemory");
    return v.ok() && *v == std::to_string(48 * 1024 * 1024);
  }, kSlow)) << op_.LogTail();
  {
    const auto after = op_.Instances().at("r0");
    EXPECT_EQ(after.status.endpoint, before.status.endpoint);
    auto c = Connect(after);
    ASSERT_TRUE(c.ok());
    auto v = (*c)->Command({"GET", "kept"});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->str, "yes");
  }

  // Deleting one removes its container.
  std::string fewer = PoolYaml("docker", 6);
  for (int i = 0; i < 9; ++i) fewer += InstanceYaml("r" + std::to_string(i), "docker", i == 0 ? 48 : 32);
  WriteText(dir_ + "/fleet.yaml", fewer);
  ASSERT_TRUE(WaitUntil([&] {
    return op_.Instances().count("r9") == 0 && Containers(g_env->a()).size() + Containers(g_env->b()).size() == 9;
  }, kSlow)) << op_.LogTail();

  // A container labelled as ours that no RedisInstance owns goes after the grace period.
  providers::DockerRuntime::Options ro;
  ro.image = kImage;
  ro.network_mode = api::NetworkMode::kHost;
  auto rt = std::make_shared<providers::DockerRuntime>(ro, std::make_shared<RealClock>(), Logger::Null());
  providers::Host b{"b", "b", g_env->b().address, g_env->b().Endpoint(), {}, true};
  providers::RedisSpec ghost;
  ghost.instance = api::Key{"default", "ghost"};
  ghost.uid = "0badc0de-0000-4000-8000-000000000000";
  ghost.pool = providers::PoolRef{"default", "docker"};
  ghost.resources = {16, 10};
  ghost.password = "ghost-password-0123456789-abcdefghij";
  ghost.labels = {{std::string(api::kLabelManagedBy), operator_id_},
                  {std::string(api::kLabelPool), "default.docker"},
                  {std::string(api::kLabelInstance), "default.ghost"},
                  {std::string(api::kLabelUid), ghost.uid}};
  ASSERT_TRUE(rt->Ensure(b, ghost).ok());
  ASSERT_EQ(Containers(g_env->b()).size(), 4u);
  ASSERT_TRUE(WaitUntil([&] { return Containers(g_env->b()).size() == 3; }, kSlow)) << op_.LogTail();
  EXPECT_THAT(op_.LogTail(), HasSubstr("removed orphaned redis"));
  EXPECT_EQ(op_.ReadyCount(), 9);
}

TEST_F(DockerPoolTest, AHostWhoseHeartbeatStopsIsLostAndItsInstancesMove) {
  const std::string url = "redis://127.0.0.1:" + std::to_string(g_env->registry_port()) + "/0";
  const std::string prefix = operator_id_ + ":";
  for (const Daemon* d : {&g_env->a(), &g_env->b()}) {
    agents_.push_back(std::make_unique<Child>(
        std::vector<std::string>{testing::BinaryPath(), "agent", "--discovery-url", url, "--key-prefix", prefix,
                                 "--name", d == &g_env->a() ? "a" : "b", "--address", d->address,
                                 "--docker-endpoint", d->Endpoint(), "--ttl-seconds", "2",
                                 "--interval-ms", "300"},
        root_ / ("agent-" + d->name + ".log")));
  }
  // Both hosts announce themselves before the operator looks.
  ASSERT_TRUE(WaitUntil([&] {
    auto c = redis::RedisClient::Connect({"127.0.0.1", g_env->registry_port(), "", "", std::chrono::seconds(1)});
    if (!c.ok()) return false;
    auto n = (*c)->Command({"EXISTS", prefix + "a", prefix + "b"});
    return n.ok() && n->integer == 2;
  }, kSlow)) << testing::ReadText(root_ / ("agent-" + g_env->a().name + ".log"));
  std::string yaml = PoolYaml("beating", 6,
                              "  discovery: {redisURL: \"" + url + "\", keyPrefix: \"" + prefix +
                                  "\", ttlSeconds: 2}\n");
  yaml += InstanceYaml("m0", "beating", 32) + InstanceYaml("m1", "beating", 32);
  WriteText(dir_ + "/fleet.yaml", yaml);
  StartOperator();
  ASSERT_TRUE(WaitUntil([&] { return op_.ReadyCount() == 2; }, kSlow)) << op_.LogTail();
  for (const auto& [name, ri] : op_.Instances()) EXPECT_EQ(ri.status.host, "a") << name;

  // Host a's agent dies without a word: its key expires, the host is Lost, both move to b.
  agents_[0]->Signal(SIGKILL);
  ASSERT_TRUE(WaitUntil([&] {
    auto all = op_.Instances();
    int moved = 0;
    for (const auto& [name, ri] : all) moved += ri.status.host == "b" && ri.status.phase == api::Phase::kReady;
    return moved == 2;
  }, kSlow)) << op_.LogTail();
  auto pools = store::DirStore::ReadState(op_.state_dir(), api::Kind::kHostPool);
  ASSERT_TRUE(pools.ok());
  const auto& pool = std::get<api::HostPool>(pools->front());
  ASSERT_EQ(pool.status.hosts.size(), 2u);
  EXPECT_EQ(pool.status.hosts[0].state, api::HostState::kLost);
  EXPECT_EQ(pool.status.hosts[1].state, api::HostState::kReady);
  for (const auto& [name, ri] : op_.Instances()) {
    auto c = Connect(ri);
    ASSERT_TRUE(c.ok()) << name;
    EXPECT_TRUE((*c)->Ping().ok());
  }
  EXPECT_THAT(op_.LogTail(), HasSubstr("data on that host is gone"));
}

}  // namespace
}  // namespace redisfleet
