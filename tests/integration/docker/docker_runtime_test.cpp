// DockerRuntime against two real Docker daemons (scripts/start-dockerd) running the image
// scripts/build-redis-image makes. Containers use host networking: daemon A's host is
// 127.0.0.2, daemon B's is 127.0.0.3.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

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

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kMiB = 1024 * 1024;
constexpr char kImage[] = "redis-fleet/redis:7";

std::string SourceDir() {
  const char* env = std::getenv("REDISFLEET_SOURCE_DIR");
  return env != nullptr && *env != '\0' ? env : REDISFLEET_SOURCE_DIR_DEFAULT;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}


// One daemon started by scripts/start-dockerd.
struct Daemon {
  std::string name;
  std::string address;  // the host address its containers bind
  std::string Socket() const { return "/tmp/redisfleet-docker/" + name + "/docker.sock"; }
  Host AsHost() const {
    Host h;
    h.name = name;
    h.provider_id = "static";
    h.address = address;
    h.docker_endpoint = "unix://" + Socket();
    return h;
  }
};

// Starts both daemons and builds the image in each, once per test binary; stops and purges
// them at the end. A failing script fails the run (fatal failure in SetUp).
class DockerEnvironment : public ::testing::Environment {
 public:
  DockerEnvironment() {
    const std::string tag = "rf-it-" + std::to_string(::getpid());
    a_ = {tag + "-a", "127.0.0.2"};
    b_ = {tag + "-b", "127.0.0.3"};
  }

  void SetUp() override {
    for (const Daemon* d : {&a_, &b_}) {
      Run({SourceDir() + "/scripts/start-dockerd", d->name});
      Run({SourceDir() + "/scripts/build-redis-image", d->Socket(), kImage});
    }
    ready_ = !::testing::Test::HasFailure();
  }

  void TearDown() override {
    for (const Daemon* d : {&a_, &b_}) {
      Run({SourceDir() + "/scripts/stop-dockerd", d->name, "--purge"});
    }
  }

  const Daemon& a() const { return a_; }
  const Daemon& b() const { return b_; }
  bool ready() const { return ready_; }

 private:
  void Run(const std::vector<std::string>& argv) {
    std::string cmd;
    for (const auto& a : argv) cmd += "'" + a + "' ";
    const std::string log = "/tmp/" + a_.name + "-script.log";
    int rc = std::system((cmd + ">'" + log + "' 2>&1").c_str());
    const std::string output = ReadAll(log);
    std::remove(log.c_str());
    ASSERT_EQ(rc, 0) << cmd << "failed:\n" << output;
  }

  Daemon a_;
  Daemon b_;
  bool ready_ = false;
};

DockerEnvironment* const g_env =
    static_cast<DockerEnvironment*>(::testing::AddGlobalTestEnvironment(new DockerEnvironment));

class DockerRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(g_env->ready()) << "the Docker daemons or the image are not ready";
    operator_id_ = "it-" + std::to_string(::getpid());
    auto sink = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu_);
      log_lines_.push_back(line);
    };
    logger_ = std::make_shared<Logger>(LogFormat::kText, LogLevel::kDebug, clock_, sink);
    runtime_ = MakeRuntime(kImage);
    for (const Daemon* d : {&g_env->a(), &g_env->b()}) {
      docker::DockerClientOptions o;
      o.endpoint = "unix://" + d->Socket();
      auto c = docker::DockerClient::Create(o);
      ASSERT_TRUE(c.ok()) << c.error().ToString();
      clients_.push_back(std::move(*c));
    }
  }

  void TearDown() override {
    for (const Daemon* d : {&g_env->a(), &g_env->b()}) {
      auto list = runtime_->List(d->AsHost());
      ASSERT_TRUE(list.ok()) << list.error().ToString();
      for (const RunningRedis& r : *list) EXPECT_TRUE(runtime_->Remove(d->AsHost(), r).ok());
    }
    for (const auto& c : clients_) {
      auto left = c->ListContainers({});
      ASSERT_TRUE(left.ok());
      for (const auto& s : *left) (void)c->RemoveContainer(s.id, true, true);
    }
    std::lock_guard<std::mutex> lock(log_mu_);
    for (const std::string& line : log_lines_) {
      for (const std::string& pw : passwords_) EXPECT_THAT(line, Not(HasSubstr(pw)));
    }
  }

  std::unique_ptr<DockerRuntime> MakeRuntime(const std::string& image) {
    DockerRuntime::Options o;
    o.image = image;
    o.network_mode = api::NetworkMode::kHost;
    o.start_timeout = std::chrono::seconds(20);
    o.stop_grace = std::chrono::seconds(2);
    return std::make_unique<DockerRuntime>(o, clock_, logger_);
  }

  RedisSpec Spec(const std::string& name, int64_t memory_mib = 64, int64_t max_clients = 50) {
    RedisSpec s;
    s.instance = {"it", name};
    s.uid = name + "-0123456789abcdef";
    s.pool = {"it", "docker"};
    s.resources = {memory_mib, max_clients};
    s.persistence = api::Persistence::kAof;
    s.password = "Pw-" + name + "-x9Qz7";
    s.labels = {{std::string(api::kLabelManagedBy), operator_id_}, {"team", "it"}};
    passwords_.push_back(s.password);
    return s;
  }

  docker::DockerClient& ClientA() { return *clients_[0]; }

  std::unique_ptr<redis::RedisClient> Connect(const api::Endpoint& ep, const std::string& password) {
    redis::ConnectOptions o;
    o.host = ep.host;
    o.port = static_cast<int>(ep.port);
    o.password = password;
    auto c = redis::RedisClient::Connect(o);
    EXPECT_TRUE(c.ok()) << c.error().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::vector<docker::ContainerSummary> ContainersOf(docker::DockerClient& c, const RedisSpec& s) {
    auto list = c.ListContainers({std::string(api::kLabelUid) + "=" + s.uid});
    EXPECT_TRUE(list.ok()) << list.error().ToString();
    return list.ok() ? *list : std::vector<docker::ContainerSummary>{};
  }

  std::optional<RunningRedis> Find(const Host& host, const RedisSpec& s) {
    auto list = runtime_->List(host);
    EXPECT_TRUE(list.ok()) << list.error().ToString();
    if (!list.ok()) return std::nullopt;
    for (const auto& r : *list) {
      if (r.uid == s.uid) return r;
    }
    return std::nullopt;
  }

  std::shared_ptr<Clock> clock_ = std::make_shared<RealClock>();
  std::shared_ptr<Logger> logger_;
  std::unique_ptr<DockerRuntime> runtime_;
  std::vector<std::unique_ptr<docker::DockerClient>> clients_;
  std::string operator_id_;
  std::vector<std::string> passwords_;
  std::mutex log_mu_;
  std::vector<std::string> log_lines_;
};

TEST_F(DockerRuntimeTest, EnsureCreatesARedisAnsweringWithItsPassword) {
  const Host host = g_env->a().AsHost();
  RedisSpec spec = Spec("create");
  auto ep = runtime_->Ensure(host, spec);
  ASSERT_TRUE(ep.ok()) << ep.error().ToString();
  EXPECT_EQ(ep->host, "127.0.0.2");
  EXPECT_GT(ep->port, 0);

  auto client = Connect(*ep, spec.password);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Ping().ok());
  redis::ConnectOptions anonymous;
  anonymous.host = ep->host;
  anonymous.port = static_cast<int>(ep->port);
  auto no_auth = redis::RedisClient::Connect(anonymous);
  ASSERT_TRUE(no_auth.ok());
  EXPECT_EQ((*no_auth)->Ping().code(), StatusCode::kUnauthenticated);
  // It binds the host's own address only.
  redis::ConnectOptions elsewhere = anonymous;
  elsewhere.host = "127.0.0.1";
  EXPECT_FALSE(redis::RedisClient::Connect(elsewhere).ok());

  auto containers = ContainersOf(ClientA(), spec);
  ASSERT_EQ(containers.size(), 1u);
  auto info = ClientA().InspectContainer(containers[0].id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->name, DockerRuntime::ContainerName(spec.instance, spec.uid));
  EXPECT_EQ(info->restart_policy, "unless-stopped");
  EXPECT_EQ(info->network_mode, "host");
  EXPECT_EQ(info->memory_bytes, (64 + DockerRuntime::kMemoryOverheadMiB) * kMiB);
  EXPECT_EQ(info->memory_swap_bytes, info->memory_bytes);
  EXPECT_EQ(*client->ConfigGet("maxmemory"), std::to_string(64 * kMiB));
  EXPECT_EQ(*client->ConfigGet("maxclients"), "50");
  EXPECT_EQ(*client->ConfigGet("appendonly"), "yes");

  // Ensure again: the same container, no duplicate.
  auto again = runtime_->Ensure(host, spec);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, *ep);
  auto after = ContainersOf(ClientA(), spec);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].id, containers[0].id);
}

TEST_F(DockerRuntimeTest, AdoptsAContainerCreatedButNeverStarted) {
  const Host host = g_env->a().AsHost();
  RedisSpec spec = Spec("adopt");
  spec.port = testing::FreePort("127.0.0.2");
  ASSERT_GT(spec.port, 0);
  // What a kill -9 right after POST /containers/create leaves behind.
  auto id = ClientA().CreateContainer(runtime_->CreateSpec(host, spec, spec.port));
  ASSERT_TRUE(id.ok()) << id.error().ToString();
  auto before = ClientA().InspectContainer(*id);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->status, "created");

  auto ep = runtime_->Ensure(host, spec);
  ASSERT_TRUE(ep.ok()) << ep.error().ToString();
  EXPECT_EQ(ep->port, spec.port);
  auto containers = ContainersOf(ClientA(), spec);
  ASSERT_EQ(containers.size(), 1u);
  EXPECT_EQ(containers[0].id, *id);
  EXPECT_EQ(containers[0].state, "running");
  auto client = Connect(*ep, spec.password);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Ping().ok());
}

TEST_F(DockerRuntimeTest, ResizeInPlaceKeepsContainerPortAndData) {
  const Host host = g_env->a().AsHost();
  RedisSpec spec = Spec("resize");
  auto ep = runtime_->Ensure(host, spec);
  ASSERT_TRUE(ep.ok()) << ep.error().ToString();
  auto client = Connect(*ep, spec.password);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Command({"SET", "kept", "value-1"}).ok());
  auto run_id_before = client->Info({"server"});
  ASSERT_TRUE(run_id_before.ok());
  auto found = Find(host, spec);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->resources, (RedisResources{64, 50}));

  struct Step {
    RedisResources to;
  };
  for (const Step& step : {Step{{128, 200}}, Step{{96, 80}}}) {
    SCOPED_TRACE(step.to.memory_mib);
    ASSERT_TRUE(runtime_->Resize(host, *found, step.to).ok());
    auto info = ClientA().InspectContainer(found->id);
    ASSERT_TRUE(info.ok());
    EXPECT_EQ(info->memory_bytes, (step.to.memory_mib + DockerRuntime::kMemoryOverheadMiB) * kMiB);
    EXPECT_EQ(info->memory_swap_bytes, info->memory_bytes);
    EXPECT_TRUE(info->running);
    auto after = Connect(*ep, spec.password);  // same port, same password
    ASSERT_NE(after, nullptr);
    EXPECT_EQ(*after->ConfigGet("maxmemory"), std::to_string(step.to.memory_mib * kMiB));
    EXPECT_EQ(*after->ConfigGet("maxclients"), std::to_string(step.to.max_clients));
    auto value = after->Command({"GET", "kept"});
    ASSERT_TRUE(value.ok());
    EXPECT_EQ(value->str, "value-1");
    auto run_id = after->Info({"server"});
    ASSERT_TRUE(run_id.ok());
    EXPECT_EQ(*run_id->Find("run_id"), *run_id_before->Find("run_id"));  // never restarted
    auto listed = Find(host, spec);
    ASSERT_TRUE(listed.has_value());
    EXPECT_EQ(listed->id, found->id);
    EXPECT_EQ(listed->endpoint, *ep);
    EXPECT_EQ(listed->resources, step.to);
  }

  // Ensure with the spec's (original) resources resizes back in place.
  auto back = runtime_->Ensure(host, spec);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(*back, *ep);
  EXPECT_EQ(*client->ConfigGet("maxmemory"), std::to_string(64 * kMiB));
  EXPECT_EQ(ContainersOf(ClientA(), spec).size(), 1u);
}

TEST_F(DockerRuntimeTest, RefusesToShrinkBelowUsedMemory) {
  const Host host = g_env->a().AsHost();
  RedisSpec spec = Spec("shrink");
  auto ep = runtime_->Ensure(host, spec);
  ASSERT_TRUE(ep.ok()) << ep.error().ToString();
  auto client = Connect(*ep, spec.password);
  ASSERT_NE(client, nullptr);
  const std::string blob(1 << 20, 'x');
  for (int i = 0; i < 20; ++i) {
    auto r = client->Command({"SET", "blob" + std::to_string(i), blob});
    ASSERT_TRUE(r.ok() && !r->IsError());
  }
  auto found = Find(host, spec);
  ASSERT_TRUE(found.has_value());

  Status s = runtime_->Resize(host, *found, {16, 50});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("not resized"));
  EXPECT_THAT(s.message(), Not(HasSubstr(spec.password)));
  EXPECT_EQ(*client->ConfigGet("maxmemory"), std::to_string(64 * kMiB));
  auto info = ClientA().InspectContainer(found->id);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->memory_bytes, (64 + DockerRuntime::kMemoryOverheadMiB) * kMiB);
}

TEST_F(DockerRuntimeTest, ListFindsContainersByLabels) {
  const Host host = g_env->a().AsHost();
  RedisSpec spec = Spec("listed", 32, 20);
  auto ep = runtime_->Ensure(host, spec);
  ASSERT_TRUE(ep.ok()) << ep.error().ToString();
  // A container without our labels is not listed.
  docker::ContainerCreateSpec foreign;
  foreign.name = "not-ours-" + operator_id_;
  foreign.image = kImage;
  foreign.cmd = {"redis-server", "--port", "0"};
  ASSERT_TRUE(ClientA().CreateContainer(foreign).ok());

  auto list = runtime_->List(host);
  ASSERT_TRUE(list.ok()) << list.error().ToString();
  ASSERT_EQ(list->size(), 1u);
  const RunningRedis& r = list->front();
  EXPECT_EQ(r.instance.ToString(), "it/listed");
  EXPECT_EQ(r.uid, spec.uid);
  EXPECT_EQ(r.pool_id, "it.docker");
  EXPECT_EQ(r.endpoint, *ep);
  EXPECT_EQ(r.resources, (RedisResources{32, 20}));
  EXPECT_TRUE(r.running);
  EXPECT_EQ(r.labels.at(std::string(api::kLabelManagedBy)), operator_id_);
  EXPECT_EQ(r.labels.at("team"), "it");

  // A stopped one is listed as not running, with its resources from the container.
  ASSERT_TRUE(ClientA().StopContainer(r.id, std::chrono::seconds(2)).ok());
  auto stopped = Find(host, spec);
  ASSERT_TRUE(stopped.has_value());
  EXPECT_FALSE(stopped->running);
  EXPECT_EQ(stopped->resources, (RedisResources{32, 20}));
  // Ensure starts it again from its data, on the same port.
  auto again = runtime_->Ensure(host, spec);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(*again, *ep);
}

TEST_F(DockerRuntimeTest, RemoveDeletesTheContainer) {
  const Host host = g_env->a().AsHost();
  RedisSpec spec = Spec("removed");
  ASSERT_TRUE(runtime_->Ensure(host, spec).ok());
  auto found = Find(host, spec);
  ASSERT_TRUE(found.has_value());
  ASSERT_TRUE(runtime_->Remove(host, *found).ok());
  EXPECT_FALSE(Find(host, spec).has_value());
  EXPECT_EQ(ClientA().InspectContainer(found->id).error().code(), StatusCode::kNotFound);
  EXPECT_TRUE(runtime_->Remove(host, *found).ok()) << "already gone is OK";
}

TEST_F(DockerRuntimeTest, SecondDaemonSideBySide) {
  const Host a = g_env->a().AsHost();
  const Host b = g_env->b().AsHost();
  RedisSpec on_a = Spec("side-a");
  RedisSpec on_b = Spec("side-b");
  auto ep_a = runtime_->Ensure(a, on_a);
  ASSERT_TRUE(ep_a.ok()) << ep_a.error().ToString();
  auto ep_b = runtime_->Ensure(b, on_b);
  ASSERT_TRUE(ep_b.ok()) << ep_b.error().ToString();
  EXPECT_EQ(ep_b->host, "127.0.0.3");
  auto client = Connect(*ep_b, on_b.password);
  ASSERT_NE(client, nullptr);
  EXPECT_TRUE(client->Ping().ok());

  EXPECT_TRUE(Find(a, on_a).has_value());
  EXPECT_FALSE(Find(a, on_b).has_value());
  EXPECT_TRUE(Find(b, on_b).has_value());
  EXPECT_FALSE(Find(b, on_a).has_value());
  EXPECT_EQ(ContainersOf(*clients_[1], on_b).size(), 1u);
  EXPECT_TRUE(ContainersOf(ClientA(), on_b).empty());
}

TEST_F(DockerRuntimeTest, ANameTakenByAnotherContainerIsAConflict) {
  const Host host = g_env->a().AsHost();
  RedisSpec spec = Spec("squatted");
  docker::ContainerCreateSpec squatter;
  squatter.name = DockerRuntime::ContainerName(spec.instance, spec.uid);
  squatter.image = kImage;
  squatter.cmd = {"redis-server", "--port", "0"};
  ASSERT_TRUE(ClientA().CreateContainer(squatter).ok());
  auto ep = runtime_->Ensure(host, spec);
  ASSERT_FALSE(ep.ok());
  EXPECT_EQ(ep.error().code(), StatusCode::kConflict) << ep.error().ToString();
}

TEST_F(DockerRuntimeTest, PasswordsNeverAppearInStatusMessages) {
  const Host host = g_env->a().AsHost();
  RedisSpec spec = Spec("secret");
  auto ep = runtime_->Ensure(host, spec);
  ASSERT_TRUE(ep.ok()) << ep.error().ToString();

  struct Case {
    std::string name;
    std::function<Status()> run;
    StatusCode want;
    std::string want_text;
  };
  RedisSpec changed = spec;
  changed.password = "Pw-rotated-y7Wq3";
  passwords_.push_back(changed.password);
  RedisSpec missing_image = Spec("noimage");
  RedisSpec port_taken = Spec("porttaken");
  port_taken.port = ep->port;  // the first server already listens there
  auto no_image_runtime = MakeRuntime("redis-fleet/does-not-exist:1");
  const Case cases[] = {
      {"password differs", [&] { return runtime_->Ensure(host, changed).status(); },
       StatusCode::kFailedPrecondition, "password differs"},
      {"image missing", [&] { return no_image_runtime->Ensure(host, missing_image).status(); },
       StatusCode::kFailedPrecondition, "No such image"},
      {"server cannot start", [&] { return runtime_->Ensure(host, port_taken).status(); },
       StatusCode::kUnavailable, "Address already in use"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Status s = c.run();
    EXPECT_EQ(s.code(), c.want) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(c.want_text));
    for (const std::string& pw : passwords_) EXPECT_THAT(s.message(), Not(HasSubstr(pw)));
  }
}

}  // namespace
}  // namespace redisfleet::providers
