// DockerRuntime's pure parts: container names and the create request for a RedisSpec.
#include <algorithm>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/logging.h"
#include "providers/docker/docker_runtime.h"

namespace redisfleet::providers {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kMiB = 1024 * 1024;

// The value after `flag` in `cmd`, or "<absent>".
std::string Arg(const std::vector<std::string>& cmd, const std::string& flag) {
  auto it = std::find(cmd.begin(), cmd.end(), flag);
  return it == cmd.end() || it + 1 == cmd.end() ? "<absent>" : *(it + 1);
}

RedisSpec Spec() {
  RedisSpec s;
  s.instance = {"team-a", "cache"};
  s.uid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
  s.pool = {"team-a", "docker"};
  s.resources = {64, 100};
  s.persistence = api::Persistence::kAof;
  s.password = "pw-for-spec-test";
  s.labels = {{"redisfleet.io/managed-by", "op-1"}, {"tier", "cache"}};
  return s;
}

Host MakeHost(std::string name, std::string address, std::string endpoint = "") {
  Host h;
  h.name = std::move(name);
  h.address = std::move(address);
  h.docker_endpoint = std::move(endpoint);
  return h;
}

DockerRuntime Runtime(DockerRuntime::Options o) {
  return DockerRuntime(std::move(o), std::make_shared<FakeClock>(), Logger::Null());
}

TEST(DockerRuntimeSpecTest, ContainerName) {
  struct Case {
    api::Key key;
    std::string uid;
    std::string want;
  };
  const Case cases[] = {
      {{"default", "cache"}, "0f1e2d3c-4b5a", "redisfleet-default-cache-0f1e2d3c"},
      {{"ns", "a.b"}, "abc", "redisfleet-ns-a.b-abc"},
      {{"ns", "we/ird name"}, "12345678", "redisfleet-ns-we-ird-name-12345678"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.want);
    EXPECT_EQ(DockerRuntime::ContainerName(c.key, c.uid), c.want);
  }
}

TEST(DockerRuntimeSpecTest, HostModeCreateSpec) {
  DockerRuntime::Options o;
  o.network_mode = api::NetworkMode::kHost;
  o.image = "redis-fleet/redis:7";
  Host host = MakeHost("h1", "127.0.0.2", "unix:///x.sock");
  auto c = Runtime(o).CreateSpec(host, Spec(), 17001);

  EXPECT_EQ(c.name, "redisfleet-team-a-cache-0f1e2d3c");
  EXPECT_EQ(c.image, "redis-fleet/redis:7");
  EXPECT_EQ(c.network_mode, "host");
  EXPECT_TRUE(c.port_bindings.empty());
  EXPECT_EQ(c.restart_policy, "unless-stopped");
  EXPECT_EQ(c.memory_bytes, (64 + DockerRuntime::kMemoryOverheadMiB) * kMiB);
  EXPECT_EQ(c.memory_swap_bytes, c.memory_bytes);  // no swap
  EXPECT_EQ(c.cmd.front(), "redis-server");
  EXPECT_EQ(Arg(c.cmd, "--port"), "17001");
  EXPECT_EQ(Arg(c.cmd, "--bind"), "127.0.0.2");  // the host's address when no bind address is set
  EXPECT_EQ(Arg(c.cmd, "--requirepass"), "pw-for-spec-test");
  EXPECT_EQ(Arg(c.cmd, "--maxmemory"), "64mb");
  EXPECT_EQ(Arg(c.cmd, "--maxclients"), "100");
  EXPECT_EQ(Arg(c.cmd, "--appendonly"), "yes");
  EXPECT_EQ(Arg(c.cmd, "--save"), "");
  EXPECT_EQ(Arg(c.cmd, "--dir"), "/data");
  EXPECT_EQ(c.labels.at("redisfleet.io/managed-by"), "op-1");
  EXPECT_EQ(c.labels.at("redisfleet.io/instance"), "team-a.cache");
  EXPECT_EQ(c.labels.at("redisfleet.io/uid"), Spec().uid);
  EXPECT_EQ(c.labels.at("redisfleet.io/pool"), "team-a.docker");
  EXPECT_EQ(c.labels.at("tier"), "cache");
  for (const auto& [k, v] : c.labels) EXPECT_EQ(v.find("pw-for-spec-test"), std::string::npos) << k;
}

TEST(DockerRuntimeSpecTest, BindAddressAndPersistence) {
  struct Case {
    std::string name;
    std::string bind_option;
    std::string host_address;
    api::Persistence persistence;
    std::string want_bind;
    std::string want_appendonly;
    std::string want_save;
  };
  const Case cases[] = {
      {"explicit bind", "127.0.0.3", "10.0.0.5", api::Persistence::kRdb, "127.0.0.3", "no",
       "3600 1 300 100 60 10000"},
      {"host address", "", "127.0.0.2", api::Persistence::kNone, "127.0.0.2", "no", ""},
      {"neither", "", "", api::Persistence::kAof, "0.0.0.0", "yes", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    DockerRuntime::Options o;
    o.network_mode = api::NetworkMode::kHost;
    o.bind_address = c.bind_option;
    RedisSpec spec = Spec();
    spec.persistence = c.persistence;
    auto cs = Runtime(o).CreateSpec(MakeHost("h", c.host_address), spec, 7000);
    EXPECT_EQ(Arg(cs.cmd, "--bind"), c.want_bind);
    EXPECT_EQ(Arg(cs.cmd, "--appendonly"), c.want_appendonly);
    EXPECT_EQ(Arg(cs.cmd, "--save"), c.want_save);
  }
}

TEST(DockerRuntimeSpecTest, BridgeModePublishesThePort) {
  DockerRuntime::Options o;
  o.network_mode = api::NetworkMode::kBridge;
  o.bind_address = "127.0.0.1";
  RedisSpec spec = Spec();
  spec.labels.erase("redisfleet.io/managed-by");
  auto c = Runtime(o).CreateSpec(MakeHost("h", "192.0.2.7"), spec, 16400);
  EXPECT_EQ(c.network_mode, "bridge");
  EXPECT_THAT(c.exposed_ports, ElementsAre("6379/tcp"));
  ASSERT_EQ(c.port_bindings.count("6379/tcp"), 1u);
  EXPECT_EQ(c.port_bindings.at("6379/tcp"),
            (std::vector<docker::PortBinding>{{"127.0.0.1", "16400"}}));
  EXPECT_EQ(Arg(c.cmd, "--port"), "6379");
  EXPECT_EQ(Arg(c.cmd, "--bind"), "0.0.0.0");
  // Without a caller-given operator id the container is still found by List.
  EXPECT_EQ(c.labels.at("redisfleet.io/managed-by"), "redis-fleet");
}

}  // namespace
}  // namespace redisfleet::providers
